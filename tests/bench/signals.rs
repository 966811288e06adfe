//! Frustration signals against the labelled corpus (tests/fixtures/corpus): per fixture, what
//! the engine found and what a person labelled; then the confusion table per signal type, and
//! how long the engine took to store and score each session.
//!
//!     cargo bench --bench signals

use std::time::Instant;

use sightline_tests::corpus;
use sightline_tests::Engine;

fn main() {
    let fixtures = corpus::load();
    let e = Engine::start();
    let mut outcomes = Vec::new();
    println!(
        "{:<36} {:<10} {:>8}  {:<40} result",
        "fixture", "recorder", "ms", "labels"
    );
    let started = Instant::now();
    for f in &fixtures {
        let t = Instant::now();
        let o = corpus::replay(&e, f);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let labels: Vec<String> = f
            .labels
            .iter()
            .map(|l| format!("{} {}", l.signal, l.target.as_deref().unwrap_or("")))
            .collect();
        let result = if o.missed.is_empty() && o.extra.is_empty() {
            "ok".to_owned()
        } else {
            format!("missed {:?}; extra {:?}", o.missed, o.extra)
        };
        println!(
            "{:<36} {:<10} {:>8.1}  {:<40} {result}",
            f.name,
            f.recorder,
            ms,
            if labels.is_empty() {
                "(none)".to_owned()
            } else {
                labels.join(", ")
            }
        );
        outcomes.push(o);
    }
    println!(
        "\n{} sessions in {:.2} s\n",
        fixtures.len(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", corpus::markdown(&corpus::confusion(&outcomes)));
}
