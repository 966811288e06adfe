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

/// A trace both sessions took part in: the backend span names one session (its own attribute),
/// the other session's recorder saw the request, and a log of the trace names the first.
#[test]
fn a_trace_in_two_sessions_is_listed_by_both() {
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    let e = Engine::start();
    let span = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: TRACE.to_vec(),
                    span_id: vec![1; 8],
                    name: "POST /api/cart/merge".into(),
                    start_time_unix_nano: 1_763_000_000_010_000_000,
                    end_time_unix_nano: 1_763_000_000_050_000_000,
                    attributes: vec![KeyValue {
                        key: "session.id".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("desktop-tab".into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/traces", span.encode_to_vec());
    e.post_replay(&json!({
        "sessionId": "desktop-tab", "batch": 0,
        "events": [{"type": 4, "timestamp": 1_762_999_999_000u64,
                    "data": {"href": "https://shop.test/", "width": 800, "height": 600}}]
    }));
    send_replay(&e); // session "shopper-1" saw the request carrying TRACE

    let trace = e.trace(TRACE_HEX);
    assert_eq!(
        trace["sessionId"], "desktop-tab",
        "the first session seen stays the trace's own"
    );
    let mut members: Vec<&str> = trace["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["desktop-tab", "shopper-1"], "{trace}");

    for session in ["desktop-tab", "shopper-1"] {
        let (status, found) = e.api(&format!("/api/v1/traces?session={session}"));
        assert_eq!(status, 200);
        assert_eq!(
            found["traces"][0]["traceId"], TRACE_HEX,
            "{session}: {found}"
        );
        let (_, list) = e.api(&format!("/api/v1/sessions?q={session}"));
        assert_eq!(list["sessions"][0]["traceCount"], 1, "{session}: {list}");
        let (_, timeline) = e.api(&format!("/api/v1/sessions/{session}/timeline"));
        let has_trace = timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["trace"]["traceId"] == TRACE_HEX);
        assert!(
            has_trace,
            "{session}'s timeline shows the trace: {timeline}"
        );
    }
    let (_, sql) = e.sql(
        "SELECT session_id FROM session_traces WHERE trace_id = '5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b' ORDER BY 1",
    );
    assert_eq!(
        sql["rows"],
        json!([["desktop-tab"], ["shopper-1"]]),
        "{sql}"
    );
}
