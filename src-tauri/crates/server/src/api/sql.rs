//! SQL: one read-only statement over the documented views, bounded in time and size.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sightline_store::sql;
use utoipa::ToSchema;

use super::{ApiError, ApiState};
use crate::error::ServerError;

/// Statements running at once at most: each may hold an answer of up to
/// `sql::MAX_RESULT_BYTES` while it is built and sent, so this bounds their memory together
/// (about 4 × 32 MiB of text, a few times that as JSON values); on two cores more would only
/// take turns anyway.
const MAX_SQL_AT_ONCE: usize = 4;
/// How long a statement waits for its turn before it is refused as busy: longer than one
/// statement's time limit, so a short queue drains.
const SQL_QUEUE_WAIT: Duration = Duration::from_secs(10);
static SQL_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_SQL_AT_ONCE);

/// The statement to run.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the body, which is read as JSON with a `sql` field
pub struct SqlRequest {
    sql: String,
}

/// What a statement returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlAnswer {
    pub columns: Vec<String>,
    /// Each row's values in column order (blobs as hex).
    #[schema(value_type = Vec<Vec<Value>>)]
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows than the row cap or the byte bound allowed.
    pub truncated: bool,
    pub elapsed_ms: f64,
}

/// One read-only SQL statement over the views `spans`, `logs`, `sessions`, … (see the
/// README), stopped at the time limit, rows capped.
#[utoipa::path(post, path = "/api/v1/sql", tag = "sql", request_body = SqlRequest,
    responses((status = 200, body = SqlAnswer), (status = 400, body = ApiError)))]
pub(super) async fn run_sql(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = async {
        let request: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ServerError::BadRequest(format!("the body must be JSON: {e}")))?;
        let statement = request
            .get("sql")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ServerError::BadRequest("the body must be {\"sql\": \"…\"}".into()))?
            .to_owned();
        let slot = tokio::time::timeout(SQL_QUEUE_WAIT, SQL_SLOTS.acquire())
            .await
            .map_err(|_| {
                ServerError::Busy(format!(
                    "{MAX_SQL_AT_ONCE} statements are running and none finished within {} s: \
                     try again",
                    SQL_QUEUE_WAIT.as_secs()
                ))
            })?
            .map_err(|_| ServerError::Internal("the SQL slots are closed".into()))?;
        let path = s.readers.path().to_owned();
        let (limit, cap) = (s.limits.sql_time_limit, s.limits.sql_row_cap);
        tokio::task::spawn_blocking(move || {
            // Held by the statement, not the request: a client that hangs up does not free
            // the slot while its statement still runs.
            let _slot = slot;
            let conn = sql::open(&path)?;
            // The watchdog interrupts the statement at the time limit; dropping the sender
            // when the statement ends stops the watchdog.
            let interrupt = conn.get_interrupt_handle();
            let (done, stop) = std::sync::mpsc::channel::<()>();
            let watchdog = std::thread::spawn(move || {
                if stop.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    interrupt.interrupt();
                }
            });
            let started = Instant::now();
            let result = sql::run(&conn, &statement, cap);
            drop(done);
            let _ = watchdog.join();
            result.map(|rows| (rows, started.elapsed()))
        })
        .await
        .map_err(|e| ServerError::Internal(format!("query task failed: {e}")))?
        .map_err(|e| match e {
            sightline_store::StoreError::Interrupted => ServerError::BadRequest(format!(
                "the statement ran past the {} ms limit and was stopped",
                limit.as_millis()
            )),
            other => ServerError::from(other),
        })
    }
    .await;
    match result {
        Ok((rows, elapsed)) => Json(SqlAnswer {
            columns: rows.columns,
            rows: rows.rows,
            truncated: rows.truncated,
            elapsed_ms: elapsed_ms(elapsed),
        })
        .into_response(),
        Err(e) => e.to_api(),
    }
}

fn elapsed_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
