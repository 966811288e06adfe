//! Sharing and retention benchmark, on a database filled by `sightline dev seed` (release):
//! exporting sessions as bundles and importing them into another engine (latency, size), and a
//! retention pass that deletes everything (throughput, the longest transaction) while a client
//! keeps sending spans (ingest latency before and during the pass).
//!
//!     cargo bench --bench share -- [--sessions 2000] [--spans 1000000] [--logs 500000] [--bundles 20]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use serde_json::Value;
use sightline_server::ServerConfig;
use sightline_store::retention::RetentionConfig;
use sightline_tests::seed;
use workload::{percentile, summary};

#[allow(dead_code)]
mod workload;

struct Args {
    sessions: u64,
    spans: u64,
    logs: u64,
    bundles: usize,
}

fn args() -> Args {
    let mut a = Args {
        sessions: 2_000,
        spans: 1_000_000,
        logs: 500_000,
        bundles: 20,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let n = argv
            .get(i + 1)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match argv[i].as_str() {
            "--sessions" => a.sessions = n,
            "--spans" => a.spans = n,
            "--logs" => a.logs = n,
            "--bundles" => a.bundles = n.max(1) as usize,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn engine(rt: &tokio::runtime::Runtime, dir: &Path) -> sightline_server::Handle {
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    rt.block_on(sightline_server::start(ServerConfig {
        data_dir: dir.to_owned(),
        otlp_grpc: loopback,
        otlp_http: loopback,
        ui: loopback,
        ..ServerConfig::default()
    }))
    .expect("the engine starts")
}

/// Sends 512-span requests over OTLP/HTTP until `stop`; the latency of each.
fn ingest(http: std::net::SocketAddr, stop: Arc<AtomicBool>) -> Vec<f64> {
    let client = reqwest::blocking::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let template = workload::Template::new(&mut rng, 0);
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let body = template.instantiate(&mut rng);
        let t = Instant::now();
        let resp = client
            .post(format!("http://{http}/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .expect("ingest answers");
        assert!(
            resp.status().is_success(),
            "ingest refused: {}",
            resp.status()
        );
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    latencies
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "sightline share/retention benchmark: {} sessions, {} spans, {} logs; machine: {} cores",
        a.sessions,
        a.spans,
        a.logs,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let t = Instant::now();
    seed(dir.path(), a.sessions, a.spans, a.logs);
    println!("seeded in {:.0} s", t.elapsed().as_secs_f64());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let source = engine(&rt, dir.path());
    let api = |path: &str| -> Value {
        reqwest::blocking::get(format!("http://{}{path}", source.ui))
            .expect("api")
            .json()
            .expect("json")
    };

    // Export sessions that have traces, one bundle each; import them into a fresh engine.
    let list = api(&format!(
        "/api/v1/sessions?hasBackendTraces=true&limit={}&facets=false",
        a.bundles
    ));
    let ids: Vec<String> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_owned())
        .collect();
    let (mut export_ms, mut sizes, mut bundles) = (Vec::new(), Vec::new(), Vec::new());
    for id in &ids {
        let t = Instant::now();
        let bytes =
            reqwest::blocking::get(format!("http://{}/api/v1/export?session={id}", source.ui))
                .unwrap()
                .bytes()
                .unwrap();
        export_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        sizes.push(bytes.len() as f64 / 1024.0);
        bundles.push(bytes);
    }
    let target_dir = tempfile::tempdir().expect("temp dir");
    let target = engine(&rt, target_dir.path());
    let mut import_ms = Vec::new();
    let client = reqwest::blocking::Client::new();
    for (id, bytes) in ids.iter().zip(&bundles) {
        let t = Instant::now();
        let resp = client
            .post(format!("http://{}/api/v1/import", target.ui))
            .header("x-file-name", format!("{id}.sightline"))
            .body(bytes.clone())
            .send()
            .unwrap();
        assert!(resp.status().is_success());
        import_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    sizes.sort_by(f64::total_cmp);
    println!("export, one session a bundle: {}", summary(export_ms));
    println!(
        "bundle size: p50={:.0} KiB max={:.0} KiB",
        percentile(&sizes, 0.5),
        sizes.last().copied().unwrap_or(0.0)
    );
    println!("import into a fresh engine: {}", summary(import_ms));
    rt.block_on(target.shutdown());

    // Ingest alone, then during a retention pass that deletes everything.
    let run_ingest = |seconds: Option<u64>| {
        let stop = Arc::new(AtomicBool::new(false));
        let (http, s) = (source.otlp_http, stop.clone());
        let worker = std::thread::spawn(move || ingest(http, s));
        if let Some(seconds) = seconds {
            std::thread::sleep(Duration::from_secs(seconds));
        }
        (stop, worker)
    };
    let (stop, worker) = run_ingest(Some(10));
    stop.store(true, Ordering::Relaxed);
    let before = worker.join().unwrap();
    let stats = api("/api/v1/stats");
    let (stop, worker) = run_ingest(None);
    let everything = RetentionConfig {
        session_days: 1,
        error_session_days: 1,
        orphan_days: 1,
        max_db_bytes: None,
    };
    let t = Instant::now();
    let mut total = sightline_server::jobs::retention::Pruned::default();
    // Passes stop after 500 steps; the next picks up the rest, as the background task does.
    loop {
        let p = rt
            .block_on(source.prune(&everything, now_ms() + 10 * 24 * 3_600_000))
            .expect("prune");
        let done = p.sessions + p.traces + p.logs == 0;
        total.sessions += p.sessions;
        total.traces += p.traces;
        total.logs += p.logs;
        total.steps += p.steps;
        total.slowest_step_ms = total.slowest_step_ms.max(p.slowest_step_ms);
        if done {
            break;
        }
    }
    let took = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let during = worker.join().unwrap();
    println!(
        "retention: deleted {} sessions, {} orphan traces, {} orphan logs ({} spans, {} logs before) in {:.1} s, {} transactions, the longest {:.0} ms",
        total.sessions, total.traces, total.logs, stats["spans"], stats["logs"], took, total.steps, total.slowest_step_ms
    );
    println!("ingest (512 spans/request) before: {}", summary(before));
    println!(
        "ingest (512 spans/request) during retention: {}",
        summary(during)
    );
    rt.block_on(source.shutdown());
}
