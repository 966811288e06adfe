//! The labelled corpus of recorded sessions (`tests/fixtures/corpus`, made by
//! `tests/clients/corpus-record.mjs` in Chromium with Sightline's recorder, rrweb's own
//! `record()` and the OpenTelemetry session-replay scheme's semantic events), replayed into an
//! engine as its recorders sent it, and the engine's signals scored against the labels a person
//! gave each session. Shared by the corpus test (the goal, asserted) and `cargo bench --bench
//! signals` (the confusion table, printed).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Engine;

/// The signal types the engine finds; reported types outside these are scored under their own.
pub const KINDS: &[&str] = &["rage_click", "dead_click", "error_click", "thrashing"];

/// A fixture's decompressed JSON is at most this large: the corpus is a few MB in all, and a
/// damaged file must not take the test's memory.
const MAX_FIXTURE_BYTES: u64 = 64 * 1024 * 1024;

/// One recorded session and what a person says of it.
pub struct Fixture {
    pub name: String,
    pub recorder: String,
    pub session_id: String,
    pub labels: Vec<Label>,
    requests: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Label {
    pub signal: String,
    /// A case-insensitive part of the signal's target; `None`: any target.
    pub target: Option<String>,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

/// Every fixture, by name.
pub fn load() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/fixtures/corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

fn read(path: &Path) -> Fixture {
    let file = std::fs::File::open(path).expect("a fixture");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .take(MAX_FIXTURE_BYTES)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Fixture {
        name: s("name"),
        recorder: s("recorder"),
        session_id: s("sessionId"),
        labels: v["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| Label {
                signal: l["signal"].as_str().unwrap_or_default().to_owned(),
                target: l["target"].as_str().map(str::to_owned),
            })
            .collect(),
        requests: v["requests"].as_array().cloned().unwrap_or_default(),
    }
}

/// What the engine said of one fixture, scored.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub recorder: String,
    /// (kind, target, source) of every signal of the session.
    pub signals: Vec<(String, Option<String>, String)>,
    /// Labels no signal matched.
    pub missed: Vec<Label>,
    /// Signals no label matched.
    pub extra: Vec<(String, Option<String>)>,
    pub matched: Vec<(String, Option<String>)>,
}

/// True and false positives and misses of one signal type.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Confusion {
    /// 1 when nothing was found and nothing was wrong.
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

/// Sends the fixture's requests as its recorder sent them, in order, then scores the signals
/// the engine stored for its session.
pub fn replay(e: &Engine, f: &Fixture) -> Outcome {
    let client = reqwest::blocking::Client::new();
    for r in &f.requests {
        let path = r["path"].as_str().unwrap_or("/v1/replay");
        let resp = client
            .post(e.otlp_url(path))
            .header(
                "content-type",
                r["contentType"].as_str().unwrap_or("application/json"),
            )
            .body(r["body"].to_string())
            .send()
            .expect("the engine answers");
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(
            status.is_success() && !text.contains("rejected"),
            "{}: {path} answered {status}: {text}",
            f.name
        );
    }
    let (status, session) = e.api(&format!("/api/v1/sessions/{}", f.session_id));
    assert_eq!(status, 200, "{}: {session}", f.name);
    let signals: Vec<(String, Option<String>, String)> = session["frustrationSignals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["kind"].as_str().unwrap_or_default().to_owned(),
                s["target"].as_str().map(str::to_owned),
                s["source"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut unmatched: Vec<(String, Option<String>)> = signals
        .iter()
        .map(|(k, t, _)| (k.clone(), t.clone()))
        .collect();
    let mut missed = Vec::new();
    let mut matched = Vec::new();
    for label in &f.labels {
        let hit = unmatched.iter().position(|(kind, target)| {
            *kind == label.signal
                && label.target.as_ref().is_none_or(|want| {
                    target
                        .as_deref()
                        .is_some_and(|t| t.to_lowercase().contains(&want.to_lowercase()))
                })
        });
        match hit {
            Some(i) => matched.push(unmatched.remove(i)),
            None => missed.push(label.clone()),
        }
    }
    Outcome {
        name: f.name.clone(),
        recorder: f.recorder.clone(),
        signals,
        missed,
        extra: unmatched,
        matched,
    }
}

/// The confusion table per signal type over `outcomes`.
pub fn confusion(outcomes: &[Outcome]) -> BTreeMap<String, Confusion> {
    let mut table: BTreeMap<String, Confusion> = KINDS
        .iter()
        .map(|k| (k.to_string(), Confusion::default()))
        .collect();
    for o in outcomes {
        for (kind, _) in &o.matched {
            table.entry(kind.clone()).or_default().tp += 1;
        }
        for (kind, _) in &o.extra {
            table.entry(kind.clone()).or_default().fp += 1;
        }
        for l in &o.missed {
            table.entry(l.signal.clone()).or_default().fn_ += 1;
        }
    }
    table
}

/// The table as Markdown, as BENCHMARKS.md keeps it.
pub fn markdown(table: &BTreeMap<String, Confusion>) -> String {
    let mut out = String::from(
        "| signal | true positives | false positives | missed | precision | recall |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for (kind, c) in table {
        out.push_str(&format!(
            "| {kind} | {} | {} | {} | {:.2} | {:.2} |\n",
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall()
        ));
    }
    out
}
