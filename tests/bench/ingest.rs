//! Ingest benchmark: realistic spans (20 attributes, 512 per request) from several concurrent
//! clients, over gRPC and over HTTP/protobuf, into a running `sightline serve` (release build),
//! first with an empty database and then with one already holding millions of spans.
//!
//!     cargo bench --bench ingest -- [--clients 4] [--seconds 20] [--fill 5000000] [--incident all|user] [--peer rotel|none]
//!
//! The peer, first: rotel (a Rust OpenTelemetry collector, `pip install rotel`, which ships its
//! agent binary) with its blackhole exporter, which acknowledges what it has decoded and keeps
//! nothing — the ceiling a receiver that stores must be measured against. The same clients and
//! requests go to it, and the ratio of Sightline's stored spans/s to rotel's acknowledged ones
//! is printed per protocol. The agent is found at `$SIGHTLINE_ROTEL`, else in
//! `~/.cache/sightline/rotel-venv` (made with `python3 -m venv` and `pip install rotel` when
//! missing).
//!
//! `--incident all` opens an incident window over everyone first, so every span is tagged with
//! it; `--incident user` opens one for a user no span names, so every span is checked (its
//! session's user, its trace's browser request) and none is tagged: the costs of incident mode
//! on ingest.
//!
//! Reports spans/s, request MB/s (protobuf bytes on the wire), request latency (p50/p99) and
//! the server's peak RSS per phase. Every acknowledged request is durable: the server answers
//! only after its group commit. The client runs on the same 2 cores, so its cost is included.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use rand::SeedableRng;
use sightline_tests::{api_get, Process};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

// Each bench uses part of the shared workload.
#[allow(dead_code)]
mod workload;
use workload::{Template, SPANS_PER_REQUEST};

struct Args {
    clients: usize,
    seconds: u64,
    fill: u64,
    incident: Option<String>,
    peer: String,
}

fn args() -> Args {
    let mut a = Args {
        clients: 4,
        seconds: 20,
        fill: 5_000_000,
        incident: None,
        peer: "rotel".into(),
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let next = || argv.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match argv[i].as_str() {
            "--clients" => a.clients = next().unwrap_or(4) as usize,
            "--seconds" => a.seconds = next().unwrap_or(20),
            "--fill" => a.fill = next().unwrap_or(5_000_000),
            "--incident" => a.incident = argv.get(i + 1).cloned(),
            "--peer" => a.peer = argv.get(i + 1).cloned().unwrap_or_default(),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A gRPC codec that sends already-encoded request bytes and decodes the real response.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, tonic::Status> {
        ExportTraceServiceResponse::decode(src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Protocol {
    Grpc,
    HttpProtobuf,
}

struct Outcome {
    spans: u64,
    bytes: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: u64,
}

/// Runs `clients` concurrent senders for `duration` (or until `span_budget` is sent).
fn run(
    rt: &tokio::runtime::Runtime,
    (grpc, http): (std::net::SocketAddr, std::net::SocketAddr),
    protocol: Protocol,
    clients: usize,
    duration: Duration,
    span_budget: u64,
    templates: &Arc<Vec<Template>>,
) -> Outcome {
    let spans = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let templates = templates.clone();
    let latencies = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (spans, bytes, failures) = (spans.clone(), bytes.clone(), failures.clone());
            let templates = templates.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(c as u64 + 1);
                let mut lat = Vec::new();
                let mut grpc_client = match protocol {
                    Protocol::Grpc => {
                        let channel =
                            tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
                                .expect("endpoint")
                                .connect()
                                .await
                                .expect("grpc connect");
                        Some(tonic::client::Grpc::new(channel))
                    }
                    Protocol::HttpProtobuf => None,
                };
                let http_client = reqwest::Client::new();
                let url = format!("http://{http}/v1/traces");
                while Instant::now() < deadline && spans.load(Ordering::Relaxed) < span_budget {
                    let n = lat.len() + failures.load(Ordering::Relaxed) as usize;
                    let body = templates[(n + c) % templates.len()].instantiate(&mut rng);
                    let size = body.len() as u64;
                    let t = Instant::now();
                    let ok = match &mut grpc_client {
                        Some(client) => {
                            // The encoded request goes out as it is, through tonic's own client
                            // and transport, as a collector forwarding a batch would send it.
                            client.ready().await.is_ok()
                                && client
                                    .unary(
                                        tonic::Request::new(body),
                                        http::uri::PathAndQuery::from_static(EXPORT_PATH),
                                        RawCodec,
                                    )
                                    .await
                                    .is_ok()
                        }
                        None => {
                            let resp = http_client
                                .post(&url)
                                .header("content-type", "application/x-protobuf")
                                .body(body)
                                .send()
                                .await;
                            resp.map(|r| r.status().is_success()).unwrap_or(false)
                        }
                    };
                    if ok {
                        lat.push(t.elapsed());
                        spans.fetch_add(SPANS_PER_REQUEST as u64, Ordering::Relaxed);
                        bytes.fetch_add(size, Ordering::Relaxed);
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("client task"));
        }
        all
    });
    Outcome {
        spans: spans.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        latencies,
        failures: failures.load(Ordering::Relaxed),
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Resets the kernel's peak-RSS counter for the process, so each phase reports its own peak.
fn reset_peak(p: &Process) {
    let _ = std::fs::write(format!("/proc/{}/clear_refs", p.child.id()), "5");
}

fn report(phase: &str, protocol: Protocol, clients: usize, o: &mut Outcome, p: &Process) {
    o.latencies.sort();
    let secs = o.elapsed.as_secs_f64();
    println!(
        "{phase:<18} {:<14} clients={clients} spans={:>9} {:>9.0} spans/s {:>6.1} MB/s  p50={:>6.1}ms p99={:>6.1}ms  peak RSS={:>4} MiB  failures={}",
        match protocol {
            Protocol::Grpc => "gRPC",
            Protocol::HttpProtobuf => "HTTP/protobuf",
        },
        o.spans,
        o.spans as f64 / secs,
        o.bytes as f64 / secs / 1e6,
        percentile(&o.latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&o.latencies, 0.99).as_secs_f64() * 1e3,
        p.peak_rss_kib().unwrap_or(0) / 1024,
        o.failures,
    );
}

/// The rotel agent binary: `$SIGHTLINE_ROTEL`, or the one `pip install rotel` put in the cache's
/// venv (installed there when missing).
fn rotel_agent() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("SIGHTLINE_ROTEL") {
        return p.into();
    }
    let venv = std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
        .join(".cache/sightline/rotel-venv");
    let find = || -> Option<std::path::PathBuf> {
        std::fs::read_dir(venv.join("lib"))
            .ok()?
            .flatten()
            .map(|d| d.path().join("site-packages/rotel/rotel-agent"))
            .find(|p| p.exists())
    };
    if let Some(p) = find() {
        return p;
    }
    let ok = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "rotel"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(ok, "pip install rotel into {}", venv.display());
    find().expect("rotel-agent in the rotel package")
}

fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// rotel with its blackhole exporter, until dropped.
struct Rotel(std::process::Child);

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_rotel() -> (Rotel, std::net::SocketAddr, std::net::SocketAddr, String) {
    let agent = rotel_agent();
    let version = std::process::Command::new(&agent)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let (grpc, http) = (free_port(), free_port());
    let child = std::process::Command::new(&agent)
        .args(["start", "--exporter", "blackhole", "--otlp-grpc-endpoint"])
        .arg(grpc.to_string())
        .arg("--otlp-http-endpoint")
        .arg(http.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("rotel starts");
    let rotel = Rotel(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(grpc).is_err() || std::net::TcpStream::connect(http).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "rotel listens on {grpc} and {http}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (rotel, grpc, http, version)
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().expect("temp dir");
    let p = Process::serve(dir.path(), &[]).expect("sightline serve starts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "sightline ingest benchmark: {} spans/request, 20 attributes/span, {} clients, {} s per phase; machine: {} cores",
        SPANS_PER_REQUEST,
        a.clients,
        a.seconds,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    if let Some(scope) = &a.incident {
        let (body, says) = match scope.as_str() {
            "user" => (
                serde_json::json!({"minutes": 1440, "user": "nobody-in-the-workload"}),
                "an incident window for one user is open: every span is checked, none tagged",
            ),
            _ => (
                serde_json::json!({"minutes": 1440}),
                "an incident window over everyone is open: every span is tagged",
            ),
        };
        let resp = reqwest::blocking::Client::new()
            .post(format!("http://{}/api/v1/incidents", p.ui))
            .json(&body)
            .send()
            .expect("the incident API answers");
        assert_eq!(resp.status(), 201, "an incident window opens");
        println!("{says}");
    }
    let phase = Duration::from_secs(a.seconds);
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let templates = Arc::new(
        (0..24)
            .map(|i| Template::new(&mut rng, i % 3))
            .collect::<Vec<_>>(),
    );
    // The peer first, on the same cores, with the same clients and requests.
    let mut peer: Vec<(Protocol, f64)> = Vec::new();
    if a.peer == "rotel" {
        let (rotel, grpc, http, version) = start_rotel();
        println!("peer: {version}, blackhole exporter (decodes, acknowledges, keeps nothing)");
        for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
            let mut o = run(
                &rt,
                (grpc, http),
                protocol,
                a.clients,
                phase,
                u64::MAX,
                &templates,
            );
            o.latencies.sort();
            let rate = o.spans as f64 / o.elapsed.as_secs_f64();
            println!(
                "{:<18} {:<14} clients={} spans={:>9} {:>9.0} spans/s  p50={:>6.1}ms p99={:>6.1}ms  failures={}",
                "rotel (blackhole)",
                match protocol {
                    Protocol::Grpc => "gRPC",
                    Protocol::HttpProtobuf => "HTTP/protobuf",
                },
                a.clients,
                o.spans,
                rate,
                percentile(&o.latencies, 0.50).as_secs_f64() * 1e3,
                percentile(&o.latencies, 0.99).as_secs_f64() * 1e3,
                o.failures,
            );
            peer.push((protocol, rate));
        }
        drop(rotel);
    }
    let mut ours: Vec<(Protocol, f64)> = Vec::new();
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        reset_peak(&p);
        let mut o = run(
            &rt,
            (p.grpc, p.http),
            protocol,
            a.clients,
            phase,
            u64::MAX,
            &templates,
        );
        ours.push((protocol, o.spans as f64 / o.elapsed.as_secs_f64()));
        report("empty database", protocol, a.clients, &mut o, &p);
    }
    for ((protocol, mine), (_, theirs)) in ours.iter().zip(&peer) {
        println!(
            "Sightline stored / rotel acknowledged, {}: {:.2}× ({mine:.0} / {theirs:.0} spans/s)",
            match protocol {
                Protocol::Grpc => "gRPC",
                Protocol::HttpProtobuf => "HTTP/protobuf",
            },
            mine / theirs
        );
    }

    let (_, stats) = api_get(p.ui, "/api/v1/stats");
    let have = stats["spans"].as_u64().unwrap_or(0);
    if a.fill > have {
        let t = Instant::now();
        let mut o = run(
            &rt,
            (p.grpc, p.http),
            Protocol::Grpc,
            a.clients,
            Duration::from_secs(24 * 3600),
            a.fill - have,
            &templates,
        );
        println!(
            "filled to {} spans in {:.0} s ({:.0} spans/s)",
            have + o.spans,
            t.elapsed().as_secs_f64(),
            o.spans as f64 / t.elapsed().as_secs_f64()
        );
        o.latencies.clear();
    }
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        reset_peak(&p);
        let mut o = run(
            &rt,
            (p.grpc, p.http),
            protocol,
            a.clients,
            phase,
            u64::MAX,
            &templates,
        );
        report("filled database", protocol, a.clients, &mut o, &p);
    }
    let (_, stats) = api_get(p.ui, "/api/v1/stats");
    println!(
        "database: {} spans, {:.0} MiB ({} bytes/span)",
        stats["spans"],
        stats["databaseBytes"].as_f64().unwrap_or(0.0) / 1048576.0,
        stats["databaseBytes"].as_u64().unwrap_or(0) / stats["spans"].as_u64().unwrap_or(1).max(1)
    );
}
