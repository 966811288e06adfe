//! The frustration signals against a labelled corpus: sessions recorded in Chromium by
//! Sightline's recorder, by rrweb's own `record()` and as the OpenTelemetry session-replay
//! scheme's semantic events (tests/fixtures/corpus), each labelled with the signals a person
//! agrees on. Replayed into a real engine over loopback as their recorders sent them.
//!
//! The goal (issue 16): no signal at all on a normal purchase, and precision and recall of at
//! least 0.95 for every signal type. `cargo bench --bench signals` prints the same table.

use sightline_tests::corpus;
use sightline_tests::Engine;

/// Precision and recall every signal type must reach over the corpus.
const GOAL: f64 = 0.95;

#[test]
fn signals_match_what_a_person_sees_in_every_recorded_session() {
    let fixtures = corpus::load();
    assert!(
        fixtures.len() >= 20,
        "the corpus is there: {}",
        fixtures.len()
    );
    let e = Engine::start();
    let outcomes: Vec<corpus::Outcome> = fixtures.iter().map(|f| corpus::replay(&e, f)).collect();

    // A session a person calls normal has no signal at all.
    for o in outcomes.iter().filter(|o| o.name.contains("normal")) {
        assert!(o.signals.is_empty(), "{}: {:?}", o.name, o.signals);
    }
    // Every recorder is in the corpus, and each has positives to find.
    for recorder in ["sightline", "rrweb", "otel-logs"] {
        assert!(
            fixtures
                .iter()
                .any(|f| f.recorder == recorder && !f.labels.is_empty()),
            "{recorder}"
        );
    }
    let table = corpus::confusion(&outcomes);
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.missed.is_empty() || !o.extra.is_empty())
        .map(|o| format!("{}: missed {:?}, extra {:?}", o.name, o.missed, o.extra))
        .collect();
    for (kind, c) in &table {
        assert!(
            c.precision() >= GOAL && c.recall() >= GOAL,
            "{kind}: {c:?}\n{}\n{}",
            corpus::markdown(&table),
            wrong.join("\n")
        );
    }
}
