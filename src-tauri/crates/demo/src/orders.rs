//! `order-svc` and its SQLite database. Bug 2 lives here: now and then an "inventory sync" job
//! holds the database's write lock for longer than the order insert is willing to wait
//! (`busy_timeout`, 5 s), so the insert span takes 5 s, fails with `database is locked`, and
//! storefront-api answers 500. The sync is a trace of its own in order-svc, overlapping the
//! failed order's, which is how one finds the cause.
//!
//! Bug 3 is not here but shows here: the service stores every order it is given. Nothing makes
//! a checkout idempotent, so a double click stores two.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use http::StatusCode;
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use rusqlite::{params, Connection};
use serde_json::json;

use crate::telemetry::{Req, Telemetry};
use crate::{DemoError, Faults, Result};

/// How long an insert waits for the write lock before failing: the value many ORMs default to.
pub const ORDER_LOCK_WAIT: Duration = Duration::from_secs(5);
/// How long the inventory sync holds the lock: longer than an insert waits.
const INVENTORY_SYNC_HOLD: Duration = Duration::from_secs(6);
/// Order numbers start here (the shop did not open yesterday).
const FIRST_ORDER: i64 = 1000;

const INSERT: &str = "INSERT INTO orders (charge_id, email, total_cents, items, session_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

pub(crate) struct Orders {
    pub telemetry: Arc<Telemetry>,
    path: PathBuf,
    conn: Mutex<Connection>,
    faults: Arc<Faults>,
    /// One inventory sync at a time, as a cron job with a lock file runs.
    syncing: AtomicBool,
    /// `db.client.operation.duration` (seconds, the semantic conventions' name): the insert's
    /// wait for the write lock shows as its 5 s bucket.
    db_duration: opentelemetry::metrics::Histogram<f64>,
    /// Orders by outcome (`stored`, `failed`).
    placed: opentelemetry::metrics::Counter<u64>,
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(ORDER_LOCK_WAIT)?;
    // WAL: readers never wait for the sync; writers still take turns, which is the bug.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    Ok(conn)
}

impl Orders {
    pub fn open(
        telemetry: Arc<Telemetry>,
        path: PathBuf,
        faults: Arc<Faults>,
        products: &[&str],
    ) -> Result<Orders> {
        let conn = open(&path).map_err(DemoError::Database)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS orders (
                id INTEGER PRIMARY KEY, charge_id TEXT NOT NULL, email TEXT NOT NULL,
                total_cents INTEGER NOT NULL, items TEXT NOT NULL, session_id TEXT,
                created_ms INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS stock (product_id TEXT PRIMARY KEY, quantity INTEGER NOT NULL);",
        )
        .map_err(DemoError::Database)?;
        for id in products {
            conn.execute(
                "INSERT OR IGNORE INTO stock (product_id, quantity) VALUES (?1, 100)",
                params![id],
            )
            .map_err(DemoError::Database)?;
        }
        let db_duration = telemetry
            .meter
            .f64_histogram("db.client.operation.duration")
            .with_unit("s")
            .with_description("Duration of database client operations.")
            .with_boundaries(crate::telemetry::DURATION_BOUNDS.to_vec())
            .build();
        let placed = telemetry
            .meter
            .u64_counter("orders.placed")
            .with_unit("{order}")
            .with_description("Orders placed, by outcome.")
            .build();
        Ok(Orders {
            db_duration,
            placed,
            telemetry,
            path,
            conn: Mutex::new(conn),
            faults,
            syncing: AtomicBool::new(false),
        })
    }

    /// The inventory sync: takes the write lock, says so once it has it, holds it for
    /// [`INVENTORY_SYNC_HOLD`]. Runs on its own thread, as a cron job would.
    /// `None` when one is running already (its lock is what the order meets then).
    fn start_inventory_sync(self: &Arc<Self>) -> Option<std::sync::mpsc::Receiver<()>> {
        if self.syncing.swap(true, Ordering::SeqCst) {
            return None;
        }
        let (ready, locked) = std::sync::mpsc::channel();
        let orders = self.clone();
        std::thread::spawn(move || {
            let t = &orders.telemetry;
            let cx = t.span(
                &Context::new(),
                "inventory sync",
                SpanKind::Internal,
                vec![
                    KeyValue::new("db.system.name", "sqlite"),
                    KeyValue::new("db.namespace", "orders"),
                    KeyValue::new("job.name", "inventory-sync"),
                ],
            );
            let held = open(&orders.path).and_then(|conn| {
                conn.execute_batch("BEGIN IMMEDIATE; UPDATE stock SET quantity = quantity;")?;
                let _ = ready.send(());
                t.log_in(
                    &cx,
                    "",
                    false,
                    Severity::Info,
                    "inventory sync: reconciling stock with the warehouse (holding the write lock)",
                    vec![],
                );
                std::thread::sleep(INVENTORY_SYNC_HOLD);
                conn.execute_batch("COMMIT")
            });
            let span = cx.span();
            if let Err(err) = held {
                span.set_status(Status::error(err.to_string()));
            }
            span.end();
            t.log_in(
                &cx,
                "",
                false,
                Severity::Info,
                format!(
                    "inventory sync done in {:.1} s",
                    INVENTORY_SYNC_HOLD.as_secs_f64()
                ),
                vec![],
            );
            orders.syncing.store(false, Ordering::SeqCst);
        });
        Some(locked)
    }
}

pub(crate) fn router(orders: Arc<Orders>) -> Router {
    crate::telemetry::traced_by(
        Router::new().route("/orders", post(create)),
        &orders.telemetry,
    )
    .layer(Extension(orders))
}

async fn create(
    Extension(o): Extension<Arc<Orders>>,
    Extension(req): Extension<Req>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let t = o.telemetry.clone();
    let Ok(Json(input)) = body else {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected a JSON order",
        );
    };
    if req.incident() {
        t.log(
            &req,
            Severity::Debug,
            "order request",
            vec![("payload", Req::payload(&input))],
        );
    }
    let (Some(charge), Some(total)) = (input["chargeId"].as_str(), input["totalCents"].as_i64())
    else {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected {chargeId, totalCents, email, items}",
        );
    };
    if o.faults.take_slow_order() {
        if let Some(locked) = o.start_inventory_sync() {
            // Wait (off the async threads) until the sync holds the lock, so the insert meets it.
            let _ =
                tokio::task::spawn_blocking(move || locked.recv_timeout(Duration::from_secs(2)))
                    .await;
        }
    }
    let cx = t.span(
        &req.cx,
        "INSERT orders",
        SpanKind::Client,
        vec![
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.namespace", "orders"),
            KeyValue::new("db.operation.name", "INSERT"),
            KeyValue::new("db.collection.name", "orders"),
            KeyValue::new("db.query.text", INSERT),
        ],
    );
    let row = (
        charge.to_owned(),
        input["email"].as_str().unwrap_or_default().to_owned(),
        total,
        input["items"].to_string(),
        req.session.clone(),
    );
    let db = o.clone();
    let started = Instant::now();
    let inserted = tokio::task::spawn_blocking(move || {
        let conn = db.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute(
            INSERT,
            params![row.0, row.1, row.2, row.3, row.4, crate::now_ms()],
        )
        .map(|_| conn.last_insert_rowid())
    })
    .await;
    let waited = started.elapsed();
    let failure = match &inserted {
        Ok(Ok(_)) => None,
        Ok(Err(err)) => Some(
            err.sqlite_error_code()
                .map_or("sqlite".to_owned(), |c| format!("{c:?}")),
        ),
        Err(_) => Some("internal".to_owned()),
    };
    let mut measured = vec![
        KeyValue::new("db.system.name", "sqlite"),
        KeyValue::new("db.operation.name", "INSERT"),
        KeyValue::new("db.collection.name", "orders"),
    ];
    if let Some(code) = &failure {
        measured.push(KeyValue::new("error.type", code.clone()));
    }
    o.db_duration.record(waited.as_secs_f64(), &measured);
    o.placed.add(
        1,
        &[KeyValue::new(
            "outcome",
            if failure.is_none() {
                "stored"
            } else {
                "failed"
            },
        )],
    );
    let span = cx.span();
    let inserting = Req {
        cx: cx.clone(),
        ..req.clone()
    };
    match inserted {
        Ok(Ok(rowid)) => {
            let order = FIRST_ORDER + rowid;
            span.set_attribute(KeyValue::new("order.id", order));
            span.end();
            t.log(
                &inserting,
                Severity::Info,
                format!("order #{order} stored ({total} cents, charge {charge})"),
                vec![("order.id", order.into())],
            );
            (StatusCode::CREATED, Json(json!({ "orderId": order }))).into_response()
        }
        Ok(Err(err)) => {
            let code = err
                .sqlite_error_code()
                .map_or("sqlite".to_owned(), |c| format!("{c:?}"));
            span.set_attribute(KeyValue::new("error.type", code.clone()));
            span.set_status(Status::error(err.to_string()));
            span.end();
            t.log(
                &inserting,
                Severity::Error,
                format!(
                    "order insert failed after {:.1} s: {err} (charge {charge} was taken)",
                    waited.as_secs_f64()
                ),
                vec![("error.type", code.into())],
            );
            crate::fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "database_locked",
                &err.to_string(),
            )
        }
        Err(err) => {
            span.set_status(Status::error(err.to_string()));
            span.end();
            crate::fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the insert task failed",
            )
        }
    }
}
