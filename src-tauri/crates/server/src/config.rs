//! The engine's configuration: plain structs with defaults. The CLI (and later the desktop
//! settings) parse their input into these at the edge.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

/// OTLP's suggested receive limit (the Collector's default): 64 MiB, applied after inflation.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Requests being decoded, queued or written at once, over gRPC and HTTP together (a request
/// is admitted once its body has arrived). With the body limit this bounds the memory of
/// decoding (worst case 32 × 64 MiB plus their decoded form); in practice requests are far
/// smaller, and 32 keeps both cores and the writer busy.
pub const DEFAULT_MAX_INFLIGHT_REQUESTS: usize = 32;

/// How long a request waits for admission before it is told to retry (HTTP 503 + Retry-After,
/// gRPC UNAVAILABLE + RetryInfo). Short enough that an SDK's 10 s export timeout is not used up
/// waiting; long enough to ride out one slow group commit.
pub const DEFAULT_ADMISSION_WAIT: Duration = Duration::from_secs(2);

/// What a refused client is told to wait before retrying.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Loopback only by default, as the Collector does since v0.104: telemetry can hold secrets.
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A user's SQL statement is stopped after this long: anything slower is almost certainly a
/// mistake (a missing filter, a runaway recursive CTE), and it holds a reader meanwhile.
pub const DEFAULT_SQL_TIME_LIMIT: Duration = Duration::from_secs(5);

/// Rows one SQL answer carries; past it the answer says `truncated`. Enough for any table a
/// person reads; tools page with LIMIT/OFFSET.
pub const DEFAULT_SQL_ROW_CAP: usize = 10_000;

/// Bytes of request bodies being received at once, over every ingest connection. Admission
/// comes after a body is read (a client trickling a body must not hold a slot a real export
/// needs), so this is what bounds the memory of bodies on their way in: four bodies at the
/// receive limit, or thousands of real exports.
pub const DEFAULT_MAX_RECEIVING_BYTES: usize = 256 * 1024 * 1024;

/// A recorder batch's largest body. A batch is a few seconds of events and a full snapshot of
/// a heavy page is a few MiB (Sentry caps a replay segment at 10 MB); the JSON is parsed whole
/// and takes about ten times its size while it is, so the receive limit would let one page
/// cost the engine most of a GB.
pub const DEFAULT_MAX_REPLAY_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a request's body may take to arrive. On loopback a 64 MiB export arrives in well
/// under a second and an SDK gives up on its own after 10 s; a body slower than this is a
/// stuck client or one holding memory on purpose.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send a request's headers (HTTP/1), counted from when the
/// connection is ready for one: a real client sends them at once; a slow-header client would
/// otherwise hold its connection for ever.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection with nothing read or written for this long is closed. SDKs export every few
/// seconds and reconnect when needed; a browser's keep-alive idles out in 5 minutes at most,
/// and the UI's live feed sends a keep-alive every 15 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Connections open at once on each listening port; past it a new one is refused at once
/// (HTTP: 503 with the reason). A desktop's common limit of 1024 open files holds three
/// ports at this cap with the store's files and room to spare; real use needs a few dozen.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_replay_body_bytes: usize,
    pub max_receiving_bytes: usize,
    pub body_timeout: Duration,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_inflight_requests: usize,
    pub admission_wait: Duration,
    pub retry_after: Duration,
    pub sql_time_limit: Duration,
    pub sql_row_cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_replay_body_bytes: DEFAULT_MAX_REPLAY_BODY_BYTES,
            max_receiving_bytes: DEFAULT_MAX_RECEIVING_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_inflight_requests: DEFAULT_MAX_INFLIGHT_REQUESTS,
            admission_wait: DEFAULT_ADMISSION_WAIT,
            retry_after: DEFAULT_RETRY_AFTER,
            sql_time_limit: DEFAULT_SQL_TIME_LIMIT,
            sql_row_cap: DEFAULT_SQL_ROW_CAP,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Holds `sightline.db`.
    pub data_dir: PathBuf,
    pub otlp_grpc: SocketAddr,
    pub otlp_http: SocketAddr,
    /// The UI and its API.
    pub ui: SocketAddr,
    pub limits: Limits,
    /// Frustration-signal thresholds (rage, dead and error clicks, thrashing).
    pub frustration: sightline_store::frustration::FrustrationConfig,
    /// A shared secret the UI address then requires (`Authorization: Bearer`, a cookie, or
    /// `?token=`). Required when `ui` is not a loopback address; optional otherwise.
    pub api_token: Option<String>,
    /// The desktop app's settings, served at `/api/v1/settings`; `None` for `sightline serve`,
    /// whose flags are its settings.
    pub settings: Option<std::sync::Arc<crate::settings::SettingsStore>>,
    /// A folder whose files are imported, and a file followed as it grows (both off unless
    /// set).
    pub inbox: InboxConfig,
    /// How long records are kept and how large the database may grow; `None`: kept forever
    /// (`sightline serve` and the desktop app turn it on with their defaults).
    pub retention: Option<sightline_store::retention::RetentionConfig>,
    /// The demo storefront (`sightline demo`, the UI's "Try the demo"): where it listens and
    /// how often orders time out. Its engine addresses are filled in at start.
    pub demo: sightline_demo::DemoConfig,
}

/// The shortest token accepted: shorter ones are guessable by a script trying them over the
/// network.
pub const MIN_TOKEN_LEN: usize = 16;

/// What a token is made of: URL-unreserved characters, so it travels unchanged in a header, a
/// query string and a cookie.
pub fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// The inbox, as configured (`serve --inbox`, the desktop's settings).
#[derive(Debug, Clone, Default)]
pub struct InboxConfig {
    pub dir: Option<PathBuf>,
    /// An OTLP JSON lines file to follow as it grows.
    pub tail: Option<PathBuf>,
    /// Poll instead of native change notification (network filesystems).
    pub poll: bool,
}

impl ServerConfig {
    /// Takes the engine's part of the desktop's settings (loopback addresses, data directory,
    /// retention, inbox).
    pub fn apply_settings(&mut self, settings: &crate::settings::Settings) {
        let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self.otlp_grpc = at(settings.otlp_grpc_port);
        self.otlp_http = at(settings.otlp_http_port);
        self.ui = at(settings.ui_port);
        self.data_dir = settings.data_dir();
        self.retention = Some(settings.retention());
        self.inbox = InboxConfig {
            dir: settings.watch_inbox.then(|| settings.inbox_dir()),
            tail: settings.tail_file.clone(),
            poll: false,
        };
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            data_dir: crate::settings::default_data_dir(),
            otlp_grpc: SocketAddr::V4(SocketAddrV4::new(LOCALHOST, 4317)),
            otlp_http: SocketAddr::V4(SocketAddrV4::new(LOCALHOST, 4318)),
            ui: SocketAddr::V4(SocketAddrV4::new(LOCALHOST, 4320)),
            limits: Limits::default(),
            frustration: Default::default(),
            api_token: None,
            settings: None,
            inbox: Default::default(),
            retention: None,
            demo: Default::default(),
        }
    }
}
