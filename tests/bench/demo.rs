//! The demo's cost, and how soon what it does can be seen in Sightline: starting it (`POST
//! /api/v1/demo`, the UI's "Try the demo") and the memory it adds to the engine's process; a
//! checkout's latency through its four services (payment-svc waits 400 ms for its simulated
//! issuer); and the time from a checkout's answer until its whole trace (10 spans over four
//! services) and its 5 logs can be read from the API — the services export every 500 ms.
//!
//!     cargo bench --bench demo -- [--checkouts 40]

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sightline_tests::Engine;
use workload::summary;

#[allow(dead_code)]
mod workload;

/// Spans and logs of one successful checkout (see `src-tauri/crates/demo`).
const CHECKOUT_SPANS: usize = 10;
const CHECKOUT_LOGS: usize = 5;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let checkouts = argv
        .iter()
        .position(|a| a == "--checkouts")
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(40usize);

    let e = Engine::with_config(|c| {
        c.demo.addr = "127.0.0.1:0".parse().expect("an address");
        c.demo.slow_order_chance = 0.0;
    })
    .expect("engine starts");
    let client = reqwest::blocking::Client::new();
    let before = rss_mib();
    let started = Instant::now();
    let demo: Value = client
        .post(e.api_url("/api/v1/demo"))
        .send()
        .and_then(|r| r.json())
        .expect("the demo starts");
    let start_ms = started.elapsed().as_secs_f64() * 1e3;
    let shop = demo["url"].as_str().expect("its URL").to_owned();
    client
        .get(format!("{shop}api/products"))
        .send()
        .expect("the shop answers");
    println!(
        "demo start (POST /api/v1/demo): {start_ms:.1} ms; the engine's process {before:.0} → {:.0} MiB RSS",
        rss_mib()
    );

    let (mut answer_ms, mut visible_ms) = (Vec::new(), Vec::new());
    for n in 0..checkouts {
        let trace = format!(
            "{:032x}",
            0xde30_0000_0000_0000_0000_0000_0000_0000u128 + n as u128
        );
        let session = format!("bench-{n}");
        let sent = Instant::now();
        let response = client
            .post(format!("{shop}api/checkout"))
            .header("traceparent", format!("00-{trace}-00000000000000aa-01"))
            .header("x-session-id", &session)
            .json(&json!({
                "email": "bench@fernhill.test",
                "items": [{"id": "mug", "quantity": 1}],
                "card": {"number": "4242 4242 4242 4242"},
            }))
            .send()
            .expect("the checkout is answered");
        assert_eq!(response.status().as_u16(), 201);
        let answered = Instant::now();
        answer_ms.push((answered - sent).as_secs_f64() * 1e3);
        loop {
            let (status, view) = e.api(&format!("/api/v1/traces/{trace}"));
            let spans = view["spans"].as_array().map_or(0, Vec::len);
            let logs = view["logs"].as_array().map_or(0, Vec::len);
            if status == 200 && spans >= CHECKOUT_SPANS && logs >= CHECKOUT_LOGS {
                break;
            }
            assert!(
                answered.elapsed() < Duration::from_secs(30),
                "trace {trace}: {view}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        visible_ms.push(answered.elapsed().as_secs_f64() * 1e3);
    }
    println!("checkout through four services: {}", summary(answer_ms));
    println!(
        "from the answer to the whole trace ({CHECKOUT_SPANS} spans, {CHECKOUT_LOGS} logs) in the API: {}",
        summary(visible_ms)
    );
    println!("the engine's process after: {:.0} MiB RSS", rss_mib());
}
