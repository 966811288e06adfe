//! The trace page with a large trace, timed in Debian's Chromium against a release engine: for
//! traces of 1,000, 5,000 and 20,000 spans, the time to interactive (navigation to the first
//! rows painted with the span count shown), scrolling from top to bottom in ten-viewport steps
//! (frame time per step), find (typing to its count) and switching to the flame graph.
//!
//!     cargo bench --bench ui -- [--rounds 3]
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use std::process::Command;

use serde_json::Value;
use sightline_tests::{big_trace, Engine};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let rounds: usize = argv
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let e = Engine::start();
    let shots = std::env::temp_dir().join("sightline-ui-bench");
    println!(
        "{:>7} | {:>10} | {:>8} | {:>14} | {:>14} | {:>8} | {:>8}",
        "spans", "TTI ms", "JSON MB", "scroll p50 ms", "scroll p95 ms", "find ms", "flame ms"
    );
    for (n, trace) in [(1_000usize, 0x61u8), (5_000, 0x62), (20_000, 0x63)] {
        e.post_protobuf("/v1/traces", big_trace(trace, n));
        let id = hex::encode([trace; 16]);
        let json = reqwest::blocking::get(e.api_url(&format!("/api/v1/traces/{id}")))
            .and_then(|r| r.bytes())
            .map(|b| b.len())
            .unwrap_or(0);
        let out = Command::new("node")
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
            .args([
                "trace-perf.mjs",
                &format!("http://{}", e.ui),
                &id,
                shots.to_str().unwrap(),
                &rounds.to_string(),
            ])
            .output()
            .expect("node runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).expect("trace-perf prints JSON");
        let rs = r["rounds"].as_array().unwrap();
        let of = |f: &dyn Fn(&Value) -> f64| median(rs.iter().map(f).collect());
        println!(
            "{:>7} | {:>10.0} | {:>8.1} | {:>14.1} | {:>14.1} | {:>8.0} | {:>8.0}",
            n,
            of(&|x| x["interactiveMs"].as_f64().unwrap()),
            json as f64 / 1e6,
            of(&|x| x["scroll"]["p50"].as_f64().unwrap()),
            of(&|x| x["scroll"]["p95"].as_f64().unwrap()),
            of(&|x| x["findMs"].as_f64().unwrap()),
            of(&|x| x["flameMs"].as_f64().unwrap()),
        );
    }
    println!("(median of {rounds} rounds; 1280×800; a frame at 60 Hz is 16.7 ms, each scroll step waits two)");
}
