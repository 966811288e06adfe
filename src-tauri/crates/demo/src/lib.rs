//! `sightline demo`: a small instrumented storefront that shows Sightline's correlation with no
//! app of one's own. [`Demo::start`] runs, in this process, the shop's pages and four backend
//! services, each its own OpenTelemetry resource exporting OTLP to the engine:
//!
//! ```text
//! browser ──► storefront-api ──► payment-svc ──► fraud-svc
//!                   └──────────► order-svc ──► SQLite (orders)
//! ```
//!
//! The services call each other over loopback HTTP, propagating `traceparent`, `X-Session-ID`
//! and `X-Incident-Mode-Until`; inside an incident window they log payloads. Five bugs are built
//! in, each a classic of conversion debugging: a declined payment (payment.rs), an intermittent
//! order timeout (orders.rs), a double-click race (storefront.rs), a validation message that
//! vanishes and a control that does nothing (the page, `ui/src/demo/`).
//!
//! Owns the services' listeners, telemetry providers and the order database; not the engine,
//! whose OTLP/HTTP address the caller gives.

mod fraud;
mod orders;
mod payment;
pub mod seed;
mod storefront;
mod telemetry;

mod bundle {
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use orders::ORDER_LOCK_WAIT;
pub use payment::DECLINED_CARD;
pub use storefront::{Product, PRODUCTS};

/// The storefront's address when none is given.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);
/// The chance that an order meets the inventory sync: often enough to be seen within a few
/// orders, rarely enough to look intermittent.
pub const DEFAULT_SLOW_ORDER_CHANCE: f64 = 0.2;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo storefront cannot listen on {addr}: the port is in use (choose another with --port)")]
    PortInUse { addr: SocketAddr },
    #[error("the demo storefront cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the demo could not start: {0}")]
    Startup(String),
    #[error("the demo's order database: {0}")]
    Database(#[source] rusqlite::Error),
    /// `sightline dev seed` could not fill the store.
    #[error("seeding failed: {0}")]
    Seed(String),
    #[error("the demo's data folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T, E = DemoError> = std::result::Result<T, E>;

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Where the storefront (its pages and storefront-api) listens; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The engine's OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318`: the services export
    /// there, and the pages load the recorder and send their spans there.
    pub otlp_http: String,
    /// Sightline's UI, linked from the storefront's demo banner.
    pub sightline_ui: Option<String>,
    /// The chance (0–1) that an order meets the inventory sync and times out.
    pub slow_order_chance: f64,
    /// Where order-svc keeps its database (a fresh folder under the system's temporary
    /// directory when `None`, removed on shutdown).
    pub data_dir: Option<PathBuf>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            addr: DEFAULT_ADDR,
            otlp_http: "http://127.0.0.1:4318".to_owned(),
            sightline_ui: None,
            slow_order_chance: DEFAULT_SLOW_ORDER_CHANCE,
            data_dir: None,
        }
    }
}

/// The demo's switchable faults.
pub(crate) struct Faults {
    slow_next_order: AtomicBool,
    slow_order_chance: f64,
}

impl Faults {
    /// Whether this order meets the inventory sync: when asked for, else by chance.
    fn take_slow_order(&self) -> bool {
        self.slow_next_order.swap(false, Ordering::SeqCst)
            || rand::random::<f64>() < self.slow_order_chance
    }

    fn set_slow_next_order(&self, on: bool) {
        self.slow_next_order.store(on, Ordering::SeqCst);
    }

    fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "slowNextOrder": self.slow_next_order.load(Ordering::SeqCst),
            "slowOrderChance": self.slow_order_chance,
        })
    }
}

/// A JSON error answer, the one shape every demo service uses: `{"error": {code, message}}`.
pub(crate) fn fail(status: http::StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A running demo.
pub struct Demo {
    /// The storefront's address.
    pub addr: SocketAddr,
    /// Each service and where it listens (storefront-api first).
    pub services: Vec<(&'static str, SocketAddr)>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    telemetry: Vec<Arc<telemetry::Telemetry>>,
    /// A folder this demo made, removed on shutdown.
    temp_dir: Option<PathBuf>,
}

fn bind_std(addr: SocketAddr) -> Result<TcpListener> {
    let listener = std::net::TcpListener::bind(addr).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            DemoError::PortInUse { addr }
        } else {
            DemoError::Bind { addr, source }
        }
    })?;
    listener
        .set_nonblocking(true)
        .and_then(|()| TcpListener::from_std(listener))
        .map_err(|source| DemoError::Bind { addr, source })
}

impl Demo {
    /// Binds the storefront and the services, opens the order database, and starts serving.
    pub async fn start(config: DemoConfig) -> Result<Demo> {
        let shop_listener = bind_std(config.addr)?;
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let payment_listener = bind_std(loopback)?;
        let fraud_listener = bind_std(loopback)?;
        let orders_listener = bind_std(loopback)?;
        let addr_of = |l: &TcpListener| l.local_addr().unwrap_or(loopback);
        let (shop_addr, payment_addr, fraud_addr, orders_addr) = (
            addr_of(&shop_listener),
            addr_of(&payment_listener),
            addr_of(&fraud_listener),
            addr_of(&orders_listener),
        );

        let (dir, temp_dir) = match &config.data_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "sightline-demo-{}-{}",
                    std::process::id(),
                    hex::encode(rand::random::<[u8; 4]>())
                ));
                (dir.clone(), Some(dir))
            }
        };
        std::fs::create_dir_all(&dir).map_err(|source| DemoError::Io {
            path: dir.clone(),
            source,
        })?;

        // The exporters build blocking HTTP clients, which must not happen on an async worker.
        let otlp = config.otlp_http.clone();
        let telemetry = tokio::task::spawn_blocking(move || {
            ["storefront-api", "payment-svc", "fraud-svc", "order-svc"]
                .into_iter()
                .map(|name| telemetry::Telemetry::new(name, &otlp).map(Arc::new))
                .collect::<Result<Vec<_>>>()
        })
        .await
        .map_err(|e| DemoError::Startup(e.to_string()))??;
        let [shop_t, payment_t, fraud_t, orders_t] = <[_; 4]>::try_from(telemetry.clone())
            .map_err(|_| DemoError::Startup("four services expected".into()))?;

        let faults = Arc::new(Faults {
            slow_next_order: AtomicBool::new(false),
            slow_order_chance: config.slow_order_chance.clamp(0.0, 1.0),
        });
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| DemoError::Startup(format!("its HTTP client: {e}")))?;
        let products: Vec<&str> = PRODUCTS.iter().map(|p| p.id).collect();
        let db_path = dir.join("orders.db");
        let orders = {
            let faults = faults.clone();
            tokio::task::spawn_blocking(move || {
                orders::Orders::open(orders_t, db_path, faults, &products)
            })
            .await
            .map_err(|e| DemoError::Startup(e.to_string()))??
        };
        let url = |addr: SocketAddr| format!("http://{addr}");
        let shop = Arc::new(storefront::Storefront {
            telemetry: shop_t,
            client: client.clone(),
            payment: url(payment_addr),
            orders: url(orders_addr),
            faults,
            otlp_http: config.otlp_http.trim_end_matches('/').to_owned(),
            sightline_ui: config.sightline_ui.clone(),
        });
        let authorizations = payment_t
            .meter
            .u64_counter("payments.authorizations")
            .with_unit("{authorization}")
            .with_description("Card authorizations, by result.")
            .build();
        let payment = Arc::new(payment::Payment {
            authorizations,
            telemetry: payment_t,
            client,
            fraud: url(fraud_addr),
        });

        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();
        for (listener, router) in [
            (shop_listener, storefront::router(shop)),
            (payment_listener, payment::router(payment)),
            (fraud_listener, fraud::router(fraud_t)),
            (orders_listener, orders::router(Arc::new(orders))),
        ] {
            let mut rx = stop.subscribe();
            let server = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            });
            tasks.push(tokio::spawn(async move {
                if let Err(err) = server.await {
                    tracing::error!(%err, "a demo service stopped");
                }
            }));
        }
        tracing::info!(storefront = %shop_addr, "the demo storefront is listening");
        Ok(Demo {
            addr: shop_addr,
            services: vec![
                ("storefront-api", shop_addr),
                ("payment-svc", payment_addr),
                ("fraud-svc", fraud_addr),
                ("order-svc", orders_addr),
            ],
            stop,
            tasks,
            telemetry,
            temp_dir,
        })
    }

    /// The storefront's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops the services, exports what their telemetry buffered, removes a temporary folder.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
        }
        let telemetry = self.telemetry;
        let _ = tokio::task::spawn_blocking(move || {
            for t in telemetry {
                t.shutdown();
            }
        })
        .await;
        if let Some(dir) = self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(chance: f64) -> Faults {
        Faults {
            slow_next_order: AtomicBool::new(false),
            slow_order_chance: chance,
        }
    }

    #[test]
    fn a_slow_order_asked_for_is_the_next_one_only() {
        let f = faults(0.0);
        assert!(!f.take_slow_order());
        f.set_slow_next_order(true);
        assert_eq!(f.view()["slowNextOrder"], true);
        assert!(f.take_slow_order());
        assert!(!f.take_slow_order(), "asked once, slow once");
        assert!((0..100).all(|_| faults(1.0).take_slow_order()));
    }
}
