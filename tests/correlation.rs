//! Session ↔ trace ↔ log links, whatever order the data arrives in.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};
use sightline_tests::Engine;

const TRACE: [u8; 16] = [0x5b; 16];
const TRACE_HEX: &str = "5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b";

/// A backend span and a log with no session attribute at all.
fn send_backend(e: &Engine) {
    let spans = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: TRACE.to_vec(),
                    span_id: vec![1; 8],
                    name: "POST /api/checkout".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    trace_id: TRACE.to_vec(),
                    span_id: vec![1; 8],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    for (path, body) in [
        ("/v1/traces", spans.encode_to_vec()),
        ("/v1/logs", logs.encode_to_vec()),
    ] {
        let resp = reqwest::blocking::Client::new()
            .post(e.otlp_url(path))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
}

/// The recorder's record of the request that started that trace.
fn send_replay(e: &Engine) {
    let batch = json!({
        "sessionId": "shopper-1", "batch": 0,
        "events": [{"type": 5, "timestamp": 1_763_000_000_000u64, "data": {"tag": "sightline.network",
            "payload": {"method": "POST", "url": "/api/checkout", "status": 200, "durationMs": 40,
                        "traceId": TRACE_HEX, "spanId": "0202020202020202"}}}]
    });
    e.post_replay(&batch);
}

fn assert_linked(trace: &Value) {
    assert_eq!(trace["sessionId"], "shopper-1", "{trace}");
    assert_eq!(
        trace["spans"][0]["sessionId"], "shopper-1",
        "the backend span belongs to it"
    );
    assert_eq!(
        trace["logs"][0]["sessionId"], "shopper-1",
        "so does the trace's log"
    );
}

#[test]
fn a_replay_network_event_links_a_trace_that_came_first() {
    let e = Engine::start();
    send_backend(&e);
    assert_eq!(e.trace(TRACE_HEX)["sessionId"], Value::Null);
    send_replay(&e);
    assert_linked(&e.trace(TRACE_HEX));
}

#[test]
fn a_replay_network_event_links_a_trace_that_comes_later() {
    let e = Engine::start();
    send_replay(&e);
    send_backend(&e);
    let trace = e.trace(TRACE_HEX);
    assert_linked(&trace);
    assert_eq!(trace["spans"].as_array().unwrap().len(), 1);
    assert_eq!(e.stats()["traces"], 1, "the link row became the trace row");
}
