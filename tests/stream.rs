//! `GET /api/v1/stream`: Server-Sent Events announce new and updated sessions, traces and
//! logs, so the UI refreshes without polling.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};
use sightline_tests::Engine;

/// Reads SSE messages (event name, JSON data) from the stream on a thread of its own.
fn listen(e: &Engine) -> mpsc::Receiver<(String, Value)> {
    let resp = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap()
        .get(e.api_url("/api/v1/stream"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut name = String::new();
        for line in BufReader::new(resp).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                let data = serde_json::from_str(d).unwrap_or(Value::Null);
                if tx.send((name.clone(), data)).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// The next message of kind `name`, within a bound (the stream coalesces over 250 ms).
fn next(rx: &mpsc::Receiver<(String, Value)>, name: &str) -> Value {
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok((n, data)) if n == name => return data,
            Ok(_) => continue,
            Err(e) => panic!("no {name} event: {e}"),
        }
    }
}

#[test]
fn changes_are_announced_as_they_commit() {
    let e = Engine::start();
    let rx = listen(&e);

    e.post_replay(&json!({"sessionId": "live-1", "batch": 0,
        "events": [{"type": 4, "timestamp": 1_763_000_000_000u64, "data": {"href": "http://shop/"}}]}));
    let spans = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![7; 16],
                    span_id: vec![7; 8],
                    name: "GET /".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/traces", spans.encode_to_vec());

    let sessions = next(&rx, "sessions");
    assert_eq!(sessions["new"], json!(["live-1"]), "{sessions}");
    let traces = next(&rx, "traces");
    assert_eq!(traces["spans"], 1);

    e.post_replay(&json!({"sessionId": "live-1", "batch": 1,
        "events": [{"type": 3, "timestamp": 1_763_000_001_000u64, "data": {"source": 1, "positions": []}}]}));
    let updated = next(&rx, "sessions");
    assert_eq!(updated["updated"], json!(["live-1"]), "{updated}");
    assert_eq!(updated["new"], json!([]));
}

/// Pausing and resuming ingest is announced at once, so every open UI shows the switch.
#[test]
fn an_ingest_pause_is_announced() {
    let e = Engine::start();
    let rx = listen(&e);
    let put = |paused: bool| {
        let resp = reqwest::blocking::Client::new()
            .put(e.api_url("/api/v1/ingest"))
            .json(&json!({ "paused": paused }))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
    };
    put(true);
    assert_eq!(next(&rx, "ingest"), json!({ "paused": true }));
    put(false);
    assert_eq!(next(&rx, "ingest"), json!({ "paused": false }));
}

/// A window started, extended or stopped anywhere (here: the API, as the CLI does) is
/// announced, so an open UI shows its banner at once.
#[test]
fn incident_windows_are_announced() {
    let e = Engine::start();
    let rx = listen(&e);
    let post = |path: &str, body: Value| {
        let resp = reqwest::blocking::Client::new()
            .post(e.api_url(path))
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success());
        resp.json::<Value>().unwrap()
    };
    let started = post("/api/v1/incidents", json!({"minutes": 5}));
    next(&rx, "incidents");
    let id = started["id"].as_str().unwrap();
    post(&format!("/api/v1/incidents/{id}/stop"), json!({}));
    next(&rx, "incidents");
}
