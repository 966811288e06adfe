//! The `sightline` command line: `serve` runs the engine headless, `demo` runs it with the demo
//! storefront, `incident` drives incident windows on a running engine, `export`/`import`/
//! `report` share sessions, `dev seed` fills a database. Shared by the engine's binary and the
//! desktop app, so both executables take the same commands. The commands that talk to a
//! running engine are in this folder, each its own module.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sightline_store::retention::RetentionConfig;

use crate::{config, ServerConfig};

mod incident;
mod share;
mod target;

use sightline_store::frustration::FrustrationConfig;
use target::parse_addr;

#[derive(Parser)]
#[command(
    name = "sightline",
    version,
    about = "Local-first full-stack debugging: session replay beside OpenTelemetry traces and logs."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine: OTLP receivers, the store, and the UI/API address.
    Serve(ServeArgs),
    /// Run the engine with the demo storefront next to it: a small shop (127.0.0.1:3000) whose
    /// backend services send their traces and logs here, with five bugs to find in Sightline.
    Demo(DemoArgs),
    /// Incident windows: time-boxed enriched capture (start, extend, stop, list) on a running
    /// engine.
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
    /// Export sessions, an incident or a time range to a `.sightline` bundle (from a running
    /// engine).
    Export(share::ExportArgs),
    /// Import `.sightline` bundles into a running engine (each once).
    Import(share::ImportArgs),
    /// A session as a bug report: steps to reproduce, failing requests, error logs (Markdown,
    /// or JSON with --json).
    Report(share::ReportArgs),
    /// Print the query API's OpenAPI document (what `/api/v1/openapi.json` serves).
    Openapi,
    /// A Model Context Protocol server over stdio for coding agents, on a running engine
    /// (e.g. `claude mcp add sightline -- sightline mcp`).
    Mcp(target::Target),
    /// Tools for working on Sightline itself.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Subcommand)]
enum DevCommand {
    /// Fill a database with a storefront's realistic data: sessions with replays, the backend
    /// traces their requests started, correlated logs, errors and frustration. Run it with the
    /// app stopped (it writes the database directly).
    Seed(SeedArgs),
}

#[derive(clap::Args)]
struct SeedArgs {
    /// The database to fill [default: the platform data dir, as for serve]
    #[arg(long, env = "SIGHTLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Browser sessions, each with its replay
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Spans in all (about 10 a request, plus a 1,000- and a 20,000-span trace)
    #[arg(long, default_value_t = 5_000_000)]
    spans: u64,
    /// Log records in all, spread over the traces
    #[arg(long, default_value_t = 5_000_000)]
    logs: u64,
    /// Sessions are spread over this many hours up to now
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// The random seed: the same seed gives the same data
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// The storefront's address (a bare port means 127.0.0.1:PORT; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:3000", value_parser = parse_addr)]
    port: SocketAddr,
    /// The chance (0 to 1) that an order meets the database lock and times out
    #[arg(long, default_value_t = sightline_demo::DEFAULT_SLOW_ORDER_CHANCE)]
    slow_order_chance: f64,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where the database lives [default: the platform data dir, ~/.local/share/sightline on Linux]
    #[arg(long, env = "SIGHTLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// OTLP/gRPC listen address (a bare port means 127.0.0.1:PORT; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:4317", value_parser = parse_addr)]
    otlp_grpc: SocketAddr,
    /// OTLP/HTTP listen address
    #[arg(long, default_value = "127.0.0.1:4318", value_parser = parse_addr)]
    otlp_http: SocketAddr,
    /// UI and query API listen address
    #[arg(long, default_value = "127.0.0.1:4320", value_parser = parse_addr)]
    ui: SocketAddr,
    /// A secret (16+ characters) that the UI and API then require; needed when --ui is not a
    /// loopback address. Open the UI once with ?token=TOKEN; tools send `Authorization: Bearer`.
    #[arg(long, env = "SIGHTLINE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A folder to watch: bundles, OTLP JSON lines and rrweb recordings dropped there are
    /// imported, then moved to Imported/ (or Failed/, with the reason)
    #[arg(long, env = "SIGHTLINE_INBOX")]
    inbox: Option<PathBuf>,
    /// An OTLP JSON lines file to follow as it grows, across rotation (the Collector's file
    /// exporter)
    #[arg(long)]
    tail: Option<PathBuf>,
    /// Poll the inbox instead of native notification (network filesystems)
    #[arg(long)]
    inbox_poll: bool,
    /// Sessions without errors are kept this many days (pinned ones until unpinned)
    #[arg(long, default_value_t = RetentionConfig::default().session_days)]
    keep_days: u32,
    /// Sessions with errors are kept this many days
    #[arg(long, default_value_t = RetentionConfig::default().error_session_days)]
    keep_error_days: u32,
    /// Traces and logs that belong to no session are kept this many days
    #[arg(long, default_value_t = RetentionConfig::default().orphan_days)]
    keep_orphan_days: u32,
    /// The database's size cap in MiB (0: none); past it the oldest sessions go first
    #[arg(long, default_value_t = RetentionConfig::default().max_db_bytes.unwrap_or(0) / (1024 * 1024))]
    max_db_mib: u64,
    /// Largest accepted request body, after decompression, in MiB
    #[arg(long, default_value_t = config::DEFAULT_MAX_BODY_BYTES / (1024 * 1024))]
    max_body_mib: usize,
    #[command(flatten)]
    frustration: FrustrationArgs,
}

/// Frustration-signal thresholds (defaults follow the most common definitions).
#[derive(clap::Args)]
#[command(next_help_heading = "Frustration signals")]
struct FrustrationArgs {
    /// Rage click: at least this many clicks…
    #[arg(long, default_value_t = FrustrationConfig::default().rage_clicks)]
    rage_clicks: usize,
    /// …within this many milliseconds…
    #[arg(long, default_value_t = FrustrationConfig::default().rage_window_ms)]
    rage_window_ms: i64,
    /// …within this many pixels of the first
    #[arg(long, default_value_t = FrustrationConfig::default().rage_radius_px)]
    rage_radius_px: f64,
    /// A burst of at most this many clicks that selects text is a double or triple click, not rage
    #[arg(long, default_value_t = FrustrationConfig::default().selection_clicks)]
    selection_clicks: usize,
    /// Dead click: no DOM change, navigation, request, focus, typing, selection or scroll within this many ms
    #[arg(long, default_value_t = FrustrationConfig::default().dead_click_ms)]
    dead_click_ms: i64,
    /// Error click: an uncaught error within this many ms of the click
    #[arg(long, default_value_t = FrustrationConfig::default().error_click_ms)]
    error_click_ms: i64,
    /// Thrashing: at least this many scroll-direction reversals…
    #[arg(long, default_value_t = FrustrationConfig::default().thrash_reversals)]
    thrash_reversals: usize,
    /// …within this many ms
    #[arg(long, default_value_t = FrustrationConfig::default().thrash_window_ms)]
    thrash_window_ms: i64,
}

impl From<FrustrationArgs> for FrustrationConfig {
    fn from(a: FrustrationArgs) -> Self {
        FrustrationConfig {
            rage_clicks: a.rage_clicks.max(1),
            rage_window_ms: a.rage_window_ms.max(0),
            rage_radius_px: a.rage_radius_px.max(0.0),
            selection_clicks: a.selection_clicks,
            dead_click_ms: a.dead_click_ms.max(0),
            error_click_ms: a.error_click_ms.max(0),
            thrash_reversals: a.thrash_reversals.max(1),
            thrash_window_ms: a.thrash_window_ms.max(0),
        }
    }
}

fn seed(args: SeedArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = args
        .data_dir
        .unwrap_or_else(crate::settings::default_data_dir);
    let store = sightline_store::Store::open_dir(&dir)?;
    let config = sightline_demo::seed::SeedConfig {
        sessions: args.sessions,
        spans: args.spans,
        logs: args.logs,
        hours: args.hours.max(0.001),
        seed: args.seed,
        ..sightline_demo::seed::SeedConfig::default()
    };
    let report = sightline_demo::seed::run(&store.writer(), &config, |r| {
        eprintln!(
            "seeding: {} sessions, {} spans, {} logs so far",
            r.sessions, r.spans, r.logs
        );
    })?;
    let database = store.path().to_owned();
    store.close();
    let mut out = std::io::stdout().lock();
    writeln!(out, "database={}", database.display())?;
    writeln!(out, "sessions={}", report.sessions)?;
    writeln!(out, "traces={}", report.traces)?;
    writeln!(out, "spans={}", report.spans)?;
    writeln!(out, "logs={}", report.logs)?;
    writeln!(out, "replay_events={}", report.replay_events)?;
    writeln!(out, "replay_bytes={}", report.replay_bytes)?;
    for (id, spans) in &report.big_traces {
        writeln!(out, "trace_{spans}={id}")?;
    }
    writeln!(out, "seconds={:.1}", report.elapsed.as_secs_f64())?;
    Ok(())
}

fn server_config(args: ServeArgs) -> ServerConfig {
    let mut config = ServerConfig {
        otlp_grpc: args.otlp_grpc,
        otlp_http: args.otlp_http,
        ui: args.ui,
        api_token: args.token,
        inbox: crate::config::InboxConfig {
            dir: args.inbox,
            tail: args.tail,
            poll: args.inbox_poll,
        },
        retention: Some(RetentionConfig {
            session_days: args.keep_days,
            error_session_days: args.keep_error_days,
            orphan_days: args.keep_orphan_days,
            max_db_bytes: (args.max_db_mib > 0).then_some(args.max_db_mib * 1024 * 1024),
        }),
        ..ServerConfig::default()
    };
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    config.limits.max_body_bytes = args.max_body_mib.max(1) * 1024 * 1024;
    config.frustration = args.frustration.into();
    config
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    run_engine(server_config(args), false).await
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut config = server_config(args.serve);
    config.demo.addr = args.port;
    config.demo.slow_order_chance = args.slow_order_chance;
    run_engine(config, true).await
}

/// Runs the engine (and the demo) until SIGINT/SIGTERM, after printing where it listens.
async fn run_engine(config: ServerConfig, with_demo: bool) -> anyhow::Result<()> {
    let handle = crate::start(config).await?;
    let storefront = if with_demo {
        match handle.demo().start(false).await {
            Ok(view) => view.url,
            Err(err) => {
                handle.shutdown().await;
                return Err(err.into());
            }
        }
    } else {
        None
    };
    // The addresses are for whoever started us; one that stopped reading (a closed pipe) must
    // not stop the engine, so write errors are only logged.
    let printed = {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "otlp-grpc={}", handle.otlp_grpc)
            .and_then(|()| writeln!(out, "otlp-http={}", handle.otlp_http))
            .and_then(|()| writeln!(out, "ui={}", handle.ui))
            .and_then(|()| writeln!(out, "database={}", handle.database().display()))
            .and_then(|()| match &storefront {
                Some(url) => writeln!(out, "storefront={url}"),
                None => Ok(()),
            })
            .and_then(|()| out.flush())
    };
    if let Err(err) = printed {
        tracing::warn!(%err, "the addresses could not be printed");
    }
    match &storefront {
        Some(url) => tracing::info!(
            "the demo shop is at {url}; shop, then open http://{}/ to see what happened",
            handle.ui
        ),
        None => tracing::info!("open http://{}/ in a browser", handle.ui),
    }
    wait_for_signal().await;
    tracing::info!("shutting down: finishing requests and flushing the writer");
    handle.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), in colour on a terminal. Shared
/// by the `sightline` binary and the desktop app.
///
/// A line that cannot be written (stderr is a file on a full disk) is dropped: the
/// subscriber's own report of the failure goes through `eprintln!`, which panics when stderr
/// fails, and that panic killed the writer thread mid-warning, so ingest stayed closed after
/// the disk had room again.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .log_internal_errors(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// The async runtime both executables run on; the failure is said on stderr.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            eprintln!("sightline: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        })
}

/// Parses `args` (the program name first) and runs the command; clap prints help and usage
/// errors itself.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Demo(args) => runtime.block_on(demo(args)),
        Command::Dev(DevCommand::Seed(args)) => seed(args),
        Command::Incident(command) => incident::run(command),
        Command::Export(args) => share::export(args),
        Command::Import(args) => share::import(args),
        Command::Report(args) => share::report(args),
        Command::Mcp(target) => runtime.block_on(async {
            let engine = crate::mcp::Engine::new(target.ui, target.token)?;
            engine.check().await?;
            crate::mcp::serve_stdio(engine).await
        }),
        Command::Openapi => {
            print!("{}", crate::api::doc::document_json());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sightline: {err}");
            ExitCode::FAILURE
        }
    }
}
