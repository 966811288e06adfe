//! Ingest benchmark: realistic spans (20 attributes, 512 per request) from several concurrent
//! clients, over gRPC and over HTTP/protobuf, into a running `sightline serve` (release build),
//! first with an empty database and then with one already holding millions of spans.
//!
//!     cargo bench --bench ingest -- [--clients 4] [--seconds 20] [--fill 5000000] [--incident all|user]
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
}

fn args() -> Args {
    let mut a = Args {
        clients: 4,
        seconds: 20,
        fill: 5_000_000,
        incident: None,
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
    p: &Process,
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
    let (grpc, http) = (p.grpc, p.http);
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
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        reset_peak(&p);
        let mut o = run(&rt, &p, protocol, a.clients, phase, u64::MAX, &templates);
        report("empty database", protocol, a.clients, &mut o, &p);
    }

    let (_, stats) = api_get(p.ui, "/api/v1/stats");
    let have = stats["spans"].as_u64().unwrap_or(0);
    if a.fill > have {
        let t = Instant::now();
        let mut o = run(
            &rt,
            &p,
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
        let mut o = run(&rt, &p, protocol, a.clients, phase, u64::MAX, &templates);
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
