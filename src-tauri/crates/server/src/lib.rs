//! Sightline's engine service: binds the OTLP receivers (gRPC, HTTP) and the UI/API address,
//! owns the store for its lifetime, and shuts everything down in order.
//!
//! [`start`] returns a [`Handle`] with the bound addresses (port 0 is allowed everywhere);
//! [`Handle::shutdown`] stops accepting, lets in-flight requests finish, and waits for the
//! writer's last commit.

pub mod api;
pub mod cli;
pub mod config;
pub mod control;
pub mod demo;
pub mod error;
pub mod incidents;
pub mod jobs;
pub mod listen;
pub mod mcp;
pub mod receivers;
pub mod settings;
pub mod share;
mod ui;

/// The browser code `build.rs` embedded: the recorder and the UI's files.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/recorder.rs"));
}

use std::net::SocketAddr;
use std::sync::Arc;

use sightline_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Limits, ServerConfig};
pub use error::{Result, ServerError};

/// Wall-clock Unix milliseconds (replay batches are stamped with their arrival).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// HTTP/2 flow-control windows for OTLP/gRPC (see `start`).
const GRPC_STREAM_WINDOW: u32 = 4 * 1024 * 1024;
const GRPC_CONNECTION_WINDOW: u32 = 8 * 1024 * 1024;
/// Frames clients may send: 16 KiB (the default) splits an export into dozens of frames.
const GRPC_MAX_FRAME: u32 = 1024 * 1024;

/// How long shutdown waits for in-flight requests; a client that never finishes its request
/// must not keep the process alive.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A running engine.
pub struct Handle {
    pub otlp_grpc: SocketAddr,
    pub otlp_http: SocketAddr,
    pub ui: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    store: Store,
    control: Arc<control::Control>,
    incidents: Arc<incidents::Incidents>,
    share: Arc<share::Share>,
    demo: Arc<demo::DemoRunner>,
}

fn bind(addr: SocketAddr, what: &'static str, flag: &'static str) -> Result<TcpListener> {
    let listener = std::net::TcpListener::bind(addr).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ServerError::PortInUse { what, flag, addr }
        } else {
            ServerError::Bind {
                what,
                flag,
                addr,
                source,
            }
        }
    })?;
    let io_err = |source| ServerError::Bind {
        what,
        flag,
        addr,
        source,
    };
    listener.set_nonblocking(true).map_err(io_err)?;
    TcpListener::from_std(listener).map_err(io_err)
}

/// Binds every address, opens the store, and starts serving.
pub async fn start(config: ServerConfig) -> Result<Handle> {
    // Bind first: a port in use is the likeliest startup failure, and it must not leave a
    // half-started engine behind.
    let token_ok = config
        .api_token
        .as_ref()
        .is_some_and(|t| t.len() >= config::MIN_TOKEN_LEN && t.bytes().all(config::token_byte));
    if (config.api_token.is_some() || !config.ui.ip().is_loopback()) && !token_ok {
        return Err(ServerError::TokenRequired {
            addr: config.ui,
            min: config::MIN_TOKEN_LEN,
        });
    }
    let grpc = bind(config.otlp_grpc, "OTLP/gRPC", "--otlp-grpc")?;
    let http = bind(config.otlp_http, "OTLP/HTTP", "--otlp-http")?;
    let ui = bind(config.ui, "the UI", "--ui")?;
    let local = |l: &TcpListener, addr| l.local_addr().unwrap_or(addr);
    let (grpc_addr, http_addr, ui_addr) = (
        local(&grpc, config.otlp_grpc),
        local(&http, config.otlp_http),
        local(&ui, config.ui),
    );

    let data_dir = config.data_dir.clone();
    let store_config = sightline_store::StoreConfig {
        frustration: config.frustration.clone(),
    };
    let store = tokio::task::spawn_blocking(move || Store::open_dir_with(&data_dir, store_config))
        .await
        .map_err(|e| ServerError::Internal(format!("store startup failed: {e}")))??;
    let incidents = {
        let (writer, readers) = (store.writer(), store.readers());
        tokio::task::spawn_blocking(move || incidents::Incidents::load(writer, readers, now_ms()))
            .await
            .map_err(|e| ServerError::Internal(format!("incident startup failed: {e}")))??
    };
    let incidents = Arc::new(incidents);
    let share = Arc::new(share::Share::new(
        store.writer(),
        store.readers(),
        &config.data_dir,
    ));
    let control = Arc::new(control::Control::default());
    let demo = Arc::new(demo::DemoRunner::new(sightline_demo::DemoConfig {
        otlp_http: format!("http://{http_addr}"),
        sightline_ui: Some(format!("http://{ui_addr}/")),
        ..config.demo.clone()
    }));
    let pipeline = Arc::new(receivers::pipeline::Pipeline::new(
        store.writer(),
        config.limits.clone(),
        control.clone(),
        incidents.clone(),
    ));

    let (stop, _) = watch::channel(false);
    let stopped = |stop: &watch::Sender<bool>| {
        let mut rx = stop.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let mut tasks = Vec::new();

    let (traces, logs, metrics) = receivers::grpc::services(pipeline.clone());
    // HTTP/2's default 64 KiB windows make a typical OTLP export (hundreds of KiB) wait for
    // several WINDOW_UPDATE round trips; windows of a few MiB let it arrive in one flight.
    // Memory stays bounded by admission: a stream's window only fills with its request body.
    let grpc_server = tonic::transport::Server::builder()
        .initial_stream_window_size(GRPC_STREAM_WINDOW)
        .initial_connection_window_size(GRPC_CONNECTION_WINDOW)
        .max_frame_size(GRPC_MAX_FRAME)
        .layer(tower::util::MapResponseLayer::new(
            receivers::grpc::remap_status::<tonic::body::Body>,
        ))
        .layer(receivers::grpc::AdmitLayer::new(pipeline.clone()))
        .add_service(traces)
        .add_service(logs)
        .add_service(metrics)
        .serve_with_incoming_shutdown(
            listen::grpc_incoming(grpc, config.limits.clone()),
            stopped(&stop),
        );
    tasks.push(tokio::spawn(async move {
        if let Err(err) = grpc_server.await {
            tracing::error!(%err, "OTLP/gRPC server stopped");
        }
    }));

    tasks.push(tokio::spawn(listen::serve_http(
        http,
        receivers::http::router(pipeline.clone(), incidents.clone()),
        config.limits.clone(),
        "OTLP/HTTP",
        stopped(&stop),
    )));

    let ui_server = listen::serve_http(
        ui,
        api::router(api::Deps {
            readers: store.readers(),
            limits: config.limits.clone(),
            changes: store.changes(),
            stop: stop.subscribe(),
            token: config.api_token.clone(),
            control: control.clone(),
            endpoints: api::Endpoints {
                otlp_grpc: grpc_addr,
                otlp_http: http_addr,
                ui: ui_addr,
                data_dir: config.data_dir.clone(),
            },
            settings: config.settings.clone(),
            incidents: incidents.clone(),
            share: share.clone(),
            writer: store.writer(),
            demo: demo.clone(),
        }),
        config.limits.clone(),
        "UI",
        stopped(&stop),
    );
    tasks.push(tokio::spawn(ui_server));
    if let Some(policy) = config.retention.clone() {
        tasks.push(tokio::spawn(jobs::retention::run(
            store.readers(),
            store.writer(),
            policy,
            stop.subscribe(),
        )));
    }
    if config.inbox.dir.is_some() || config.inbox.tail.is_some() {
        tasks.push(tokio::spawn(jobs::inbox::run(
            config.inbox.clone(),
            share.clone(),
            pipeline.clone(),
            stop.subscribe(),
        )));
    }

    tracing::info!(%grpc_addr, %http_addr, %ui_addr, db = %store.path().display(), "Sightline is listening");
    Ok(Handle {
        otlp_grpc: grpc_addr,
        otlp_http: http_addr,
        ui: ui_addr,
        stop,
        tasks,
        store,
        control,
        incidents,
        share,
        demo,
    })
}

impl Handle {
    /// The database file.
    pub fn database(&self) -> &std::path::Path {
        self.store.path()
    }

    /// One retention pass as if it were `now_ms` (the background task runs these on its own;
    /// tests give the clock).
    pub async fn prune(
        &self,
        policy: &sightline_store::retention::RetentionConfig,
        now_ms: i64,
    ) -> Result<jobs::retention::Pruned> {
        jobs::retention::prune(&self.store.readers(), &self.store.writer(), policy, now_ms).await
    }

    /// The demo storefront next to this engine (started by `sightline demo` or the UI).
    pub fn demo(&self) -> &demo::DemoRunner {
        &self.demo
    }

    /// A cheap, cloneable view of this engine for the desktop's tray and notifications.
    pub fn monitor(&self) -> Monitor {
        Monitor {
            control: self.control.clone(),
            readers: self.store.readers(),
            changes: self.store.changes(),
            incidents: Arc::downgrade(&self.incidents),
            share: Arc::downgrade(&self.share),
            otlp_grpc: self.otlp_grpc,
            otlp_http: self.otlp_http,
            ui: self.ui,
        }
    }

    /// Stops accepting, finishes in-flight requests (for at most [`SHUTDOWN_GRACE`]), then
    /// waits for the writer to commit what it was given and checkpoint.
    pub async fn shutdown(self) {
        // The demo's services export to this engine: stop them while it still listens.
        self.demo.shutdown().await;
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        for mut task in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!("a connection outlived the shutdown grace period; closing it");
                task.abort();
            }
        }
        // The incident registry and sharing hold writers: the store closes once every writer
        // is gone.
        drop(self.incidents);
        drop(self.share);
        let store = self.store;
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
    }
}

/// What the desktop shell watches and switches on a running engine, without owning it: the
/// ingest switch, counts, and the change feed. After a shutdown its queries fail and its feed
/// ends.
#[derive(Clone)]
pub struct Monitor {
    control: Arc<control::Control>,
    readers: sightline_store::Readers,
    changes: tokio::sync::broadcast::Sender<sightline_store::Change>,
    /// Weak: the registry holds a writer, and the store closes only once every writer is gone.
    incidents: std::sync::Weak<incidents::Incidents>,
    share: std::sync::Weak<share::Share>,
    pub otlp_grpc: SocketAddr,
    pub otlp_http: SocketAddr,
    pub ui: SocketAddr,
}

impl Monitor {
    /// Pausing ingest and following that state (the tray's switch).
    pub fn control(&self) -> &control::Control {
        &self.control
    }

    /// Incident windows: start, extend and stop them, and follow changes (the tray's items).
    /// `None` once the engine has shut down.
    pub fn incidents(&self) -> Option<Arc<incidents::Incidents>> {
        self.incidents.upgrade()
    }

    /// Bundles: import a file (the desktop's File › Open, a double-clicked `.sightline`).
    /// `None` once the engine has shut down.
    pub fn share(&self) -> Option<Arc<share::Share>> {
        self.share.upgrade()
    }

    /// What each commit changes, from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<sightline_store::Change> {
        self.changes.subscribe()
    }

    /// Runs a read-only query on a reader connection, off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&sightline_store::Connection) -> sightline_store::Result<T> + Send + 'static,
    ) -> Result<T> {
        self.readers.read(f).await.map_err(ServerError::from)
    }

    /// Which of `ids` are sessions with errors (for the desktop's notifications).
    pub async fn erring_sessions(
        &self,
        ids: Vec<String>,
    ) -> Result<Vec<sightline_store::views::ErringSession>> {
        self.read(move |conn| sightline_store::views::erring_sessions(conn, &ids))
            .await
    }

    /// Counts of what arrived since `since_ms` (Unix milliseconds).
    pub async fn activity_since(&self, since_ms: i64) -> Result<sightline_store::views::Activity> {
        self.read(move |conn| sightline_store::views::activity_since(conn, since_ms))
            .await
    }
}
