//! The black-box test harness: start Sightline (in-process over loopback, or as the real
//! `sightline` binary), send to it, and ask its API what it stored.
//!
//! Every address is bound on port 0; every engine gets its own data directory.

pub mod corpus;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use sightline_server::{Handle, Limits, ServerConfig};

/// An engine running in this process on its own runtime, like the binary would.
pub struct Engine {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub ui: SocketAddr,
    pub db: PathBuf,
    handle: Option<Handle>,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Engine {
    pub fn start() -> Engine {
        Self::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Engine {
        Self::with_config(|c| c.limits = limits).expect("engine starts")
    }

    /// An engine on loopback port 0 and its own data directory, with `adjust` applied to that
    /// configuration; the startup error if it refuses to start.
    pub fn with_config(adjust: impl FnOnce(&mut ServerConfig)) -> Result<Engine> {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = ServerConfig {
            data_dir: dir.path().to_owned(),
            otlp_grpc: loopback(),
            otlp_http: loopback(),
            ui: loopback(),
            ..ServerConfig::default()
        };
        adjust(&mut config);
        let handle = rt.block_on(sightline_server::start(config))?;
        Ok(Engine {
            grpc: handle.otlp_grpc,
            http: handle.otlp_http,
            ui: handle.ui,
            db: handle.database().to_owned(),
            handle: Some(handle),
            rt,
            dir,
        })
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }

    pub fn otlp_url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    pub fn api_url(&self, path: &str) -> String {
        format!("http://{}{}", self.ui, path)
    }

    /// POSTs a protobuf body to an OTLP/HTTP path, asserts 200, and returns the response bytes.
    pub fn post_protobuf(&self, path: &str, body: Vec<u8>) -> Vec<u8> {
        let resp = reqwest::blocking::Client::new()
            .post(self.otlp_url(path))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .expect("request");
        assert_eq!(resp.status(), 200, "{path}");
        resp.bytes().expect("body").to_vec()
    }

    /// POSTs one replay batch (JSON) to `/v1/replay` and asserts 200.
    pub fn post_replay(&self, batch: &Value) {
        let resp = reqwest::blocking::Client::new()
            .post(self.otlp_url("/v1/replay"))
            .header("content-type", "application/json")
            .body(batch.to_string())
            .send()
            .expect("request");
        assert_eq!(resp.status(), 200, "replay batch refused");
    }

    /// GET on the API: status and JSON body.
    pub fn api(&self, path: &str) -> (u16, Value) {
        api_get(self.ui, path)
    }

    /// `POST /api/v1/sql`: status and JSON body.
    pub fn sql(&self, statement: &str) -> (u16, Value) {
        let resp = reqwest::blocking::Client::new()
            .post(self.api_url("/api/v1/sql"))
            .json(&serde_json::json!({ "sql": statement }))
            .send()
            .expect("sql request");
        (
            resp.status().as_u16(),
            resp.json().expect("sql answer is JSON"),
        )
    }

    pub fn stats(&self) -> Value {
        let (status, body) = self.api("/api/v1/stats");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// One trace from the API, or panics after saying what the API answered.
    pub fn trace(&self, trace_id: &str) -> Value {
        let (status, body) = self.api(&format!("/api/v1/traces/{trace_id}"));
        assert_eq!(status, 200, "trace {trace_id}: {body}");
        body
    }

    /// One retention pass with `policy`, as if it were `now_ms`.
    pub fn prune(
        &self,
        policy: &sightline_store::retention::RetentionConfig,
        now_ms: i64,
    ) -> sightline_server::jobs::retention::Pruned {
        let handle = self.handle.as_ref().expect("a running engine");
        self.rt
            .block_on(handle.prune(policy, now_ms))
            .expect("a retention pass")
    }

    /// Reads the store directly, read-only, for what the API does not expose yet.
    pub fn read<T>(&self, f: impl FnOnce(&sightline_store::Connection) -> T) -> T {
        let conn =
            sightline_store::Connection::open_with_flags(&self.db, rusqlite_flags_read_only())
                .expect("open db read-only");
        f(&conn)
    }
}

fn rusqlite_flags_read_only() -> sightline_store::OpenFlags {
    sightline_store::OpenFlags::SQLITE_OPEN_READ_ONLY
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.rt.block_on(handle.shutdown());
        }
    }
}

pub fn api_get(ui: SocketAddr, path: &str) -> (u16, Value) {
    let resp = reqwest::blocking::get(format!("http://{ui}{path}"))
        .unwrap_or_else(|e| panic!("the API at {ui} does not answer {path}: {e:?}"));
    let status = resp.status().as_u16();
    let body = resp.json().unwrap_or(Value::Null);
    (status, body)
}

/// A W3C trace-context carrier over an HTTP request's headers, for test backends that
/// continue the browser's trace as an OTel-instrumented server does.
pub struct HeaderCarrier<'a>(pub &'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

impl Engine {
    /// The official OpenTelemetry Rust SDK exporting `service`'s spans to this engine over
    /// OTLP/gRPC: a test backend's tracer.
    pub fn tracer_provider(
        &self,
        service: &'static str,
    ) -> opentelemetry_sdk::trace::SdkTracerProvider {
        use opentelemetry_otlp::WithExportConfig;
        self.rt.block_on(async {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(format!("http://{}", self.grpc))
                .build()
                .expect("exporter");
            opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_resource(
                    opentelemetry_sdk::Resource::builder_empty()
                        .with_service_name(service)
                        .build(),
                )
                .with_batch_exporter(exporter)
                .build()
        })
    }

    /// The official OpenTelemetry Rust SDK exporting logs to this engine over OTLP/gRPC, each
    /// record as it is emitted.
    pub fn logger_provider(&self) -> opentelemetry_sdk::logs::SdkLoggerProvider {
        use opentelemetry_otlp::WithExportConfig;
        self.rt.block_on(async {
            let exporter = opentelemetry_otlp::LogExporter::builder()
                .with_tonic()
                .with_endpoint(format!("http://{}", self.grpc))
                .build()
                .expect("log exporter");
            opentelemetry_sdk::logs::SdkLoggerProvider::builder()
                .with_simple_exporter(exporter)
                .build()
        })
    }
}

/// A request of `spans` under one resource and scope, neither with anything set.
pub fn spans_request(
    spans: Vec<opentelemetry_proto::tonic::trace::v1::Span>,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A request of one span named `span {n}`, its ids made of `n`.
pub fn one_span(
    n: u8,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    spans_request(vec![opentelemetry_proto::tonic::trace::v1::Span {
        trace_id: vec![n; 16],
        span_id: vec![n; 8],
        name: format!("span {n}"),
        ..Default::default()
    }])
}

/// Builds a binary of the workspace with cargo, in this test's profile, and gives its path.
/// `cargo test --test X` does not rebuild another package's binaries, so relying on what is in
/// `target/` could test a stale build.
fn build_bin(package: &str, bin: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "-p", package, "--bin", bin]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo build");
    assert!(status.success(), "building {bin} failed");
    profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX))
}

/// Fills `dir` with `sightline dev seed` (sessions with replays, their traces and logs); what
/// it printed (`key=value` lines: totals and notable trace ids). Panics with its stderr if it
/// fails.
pub fn seed(
    dir: &Path,
    sessions: u64,
    spans: u64,
    logs: u64,
) -> std::collections::HashMap<String, String> {
    let out = Command::new(sightline_bin())
        .args(["dev", "seed", "--sessions", &sessions.to_string()])
        .args(["--spans", &spans.to_string(), "--logs", &logs.to_string()])
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("sightline dev seed runs");
    assert!(
        out.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The `sightline` binary, built once per test process.
pub fn sightline_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| build_bin("sightline-server", "sightline"))
        .clone()
}

/// The desktop app's binary, built once per test process. Building it needs the webkit
/// development packages.
pub fn desktop_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| build_bin("sightline-desktop", "sightline-desktop"))
        .clone()
}

/// The `sightline serve` process.
pub struct Process {
    pub child: Child,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub ui: SocketAddr,
    /// The demo storefront's URL (`sightline demo` only).
    pub storefront: Option<String>,
    pub stderr: PathBuf,
}

/// How long the binary may take to print its addresses (a cold debug build under load).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

impl Process {
    /// Starts `sightline serve` on port 0 everywhere, with `data_dir`, and waits for its
    /// address lines.
    pub fn serve(data_dir: &Path, extra: &[&str]) -> Result<Process> {
        Self::run("serve", data_dir, extra)
    }

    /// `sightline demo` (the engine and the demo storefront) on port 0 everywhere but the
    /// storefront, which `extra` gives with `--port`.
    pub fn demo(data_dir: &Path, extra: &[&str]) -> Result<Process> {
        Self::run("demo", data_dir, extra)
    }

    fn run(command: &str, data_dir: &Path, extra: &[&str]) -> Result<Process> {
        let stderr = data_dir.join(format!("stderr-{}.log", std::process::id()));
        let mut child = Command::new(sightline_bin())
            .arg(command)
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "--otlp-grpc",
                "127.0.0.1:0",
                "--otlp-http",
                "127.0.0.1:0",
                "--ui",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr)?)
            .spawn()
            .context("spawn sightline")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + STARTUP_LIMIT;
        let (mut grpc, mut http, mut ui, mut storefront) = (None, None, None, None);
        while grpc.is_none()
            || http.is_none()
            || ui.is_none()
            || (command == "demo" && storefront.is_none())
        {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
                    bail!("sightline did not print its addresses; stderr:\n{log}");
                }
            };
            let parse = |v: &str| v.parse::<SocketAddr>().ok();
            if let Some(v) = line.strip_prefix("otlp-grpc=") {
                grpc = parse(v);
            } else if let Some(v) = line.strip_prefix("otlp-http=") {
                http = parse(v);
            } else if let Some(v) = line.strip_prefix("ui=") {
                ui = parse(v);
            } else if let Some(v) = line.strip_prefix("storefront=") {
                storefront = Some(v.to_owned());
            }
        }
        Ok(Process {
            child,
            grpc: grpc.unwrap_or_else(loopback),
            http: http.unwrap_or_else(loopback),
            ui: ui.unwrap_or_else(loopback),
            storefront,
            stderr,
        })
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Peak resident memory (VmHWM) in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        read_status_kib(self.child.id(), "VmHWM:")
    }

    pub fn rss_kib(&self) -> Option<u64> {
        read_status_kib(self.child.id(), "VmRSS:")
    }
}

fn read_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it holds, for at most 30 s (a condition that never comes fails the test
/// instead of hanging it; nothing is asserted about how long it took).
/// A view's answer as the API sends it: JSON, for tests that read a view and index its fields
/// by their wire names.
pub fn json<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).expect("a view's answer is JSON")
}

/// The same, for a list of answers.
pub fn json_list<T: serde::Serialize>(values: Vec<T>) -> Vec<serde_json::Value> {
    values.into_iter().map(json).collect()
}

pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not happen within 30 s");
}

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual screen (`Xvfb`, `WIDTHxHEIGHTxDEPTH`) on a display number nobody else uses (Xvfb
/// picks it and says which); it goes away when the guard is dropped.
pub fn xvfb(screen: &str) -> (Killed, String) {
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            screen,
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb runs");
    let mut line = String::new();
    BufReader::new(xvfb.stdout.take().expect("Xvfb's stdout"))
        .read_line(&mut line)
        .expect("Xvfb names its display");
    (Killed(xvfb), format!(":{}", line.trim()))
}

/// Runs one of the Python clients in `tests/clients` with the test Python (the venv `make
/// test` fills, `SIGHTLINE_TEST_PYTHON`), asserts it succeeded, and returns the JSON it printed.
pub fn python_client<I, A>(args: I) -> Value
where
    I: IntoIterator<Item = A>,
    A: AsRef<std::ffi::OsStr>,
{
    let python = std::env::var("SIGHTLINE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    client(&python, args)
}

/// Runs one of the JS clients in `tests/clients` (`node SCRIPT ARGS…`), asserts it succeeded
/// (its output is the failure message), and returns the JSON it printed.
pub fn node_client<I, A>(args: I) -> Value
where
    I: IntoIterator<Item = A>,
    A: AsRef<std::ffi::OsStr>,
{
    client("node", args)
}

/// `program ARGS…` in `tests/clients`, asserted to succeed; the JSON it printed.
fn client<I, A>(program: &str, args: I) -> Value
where
    I: IntoIterator<Item = A>,
    A: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(program)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients"))
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}

/// A trace of `n` spans in a tree of fan-out 8 over four services, each 1 ms later than its
/// parent, for the large-trace checks and the UI bench: one request of protobuf.
pub fn big_trace(trace: u8, n: usize) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;
    const T0_MS: u64 = 1_763_000_000_000;
    let s = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    };
    let services = ["storefront-api", "payment-svc", "order-svc", "fraud-svc"];
    let id = |i: usize| -> Vec<u8> {
        let mut b = (i as u64 + 1).to_be_bytes().to_vec();
        b[0] = trace;
        b
    };
    let spans: Vec<Span> = (0..n)
        .map(|i| {
            let parent = if i == 0 { vec![] } else { id((i - 1) / 8) };
            let start = (T0_MS + 120_000 + (i as u64 % 500)) * 1_000_000;
            Span {
                trace_id: vec![trace; 16],
                span_id: id(i),
                parent_span_id: parent,
                name: format!("step {}", i % 40),
                kind: 1,
                start_time_unix_nano: start,
                end_time_unix_nano: start + (1 + (i as u64 % 7)) * 1_000_000,
                attributes: vec![s("step.index", &i.to_string())],
                ..Default::default()
            }
        })
        .collect();
    let mut by_service: Vec<Vec<Span>> = vec![vec![]; services.len()];
    for (i, sp) in spans.into_iter().enumerate() {
        by_service[i % services.len()].push(sp);
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .zip(services)
            .map(|(spans, service)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![s("service.name", service)],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
    .encode_to_vec()
}
