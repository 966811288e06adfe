//! `GET /api/v1/diagnostics`: what did not link, so a user can fix their instrumentation.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use sightline_tests::{spans_request, Engine};

fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, session: Option<&str>) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        attributes: session
            .map(|s| {
                vec![KeyValue {
                    key: "session.id".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(s.into())),
                    }),
                    ..Default::default()
                }]
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}

fn network(trace: u8, span: u8, ms: u64) -> serde_json::Value {
    json!({"type": 5, "timestamp": ms, "data": {"tag": "sightline.network", "payload": {
        "method": "GET", "url": format!("/api/{trace}"), "status": 200,
        "traceId": hex::encode([trace; 16]), "spanId": hex::encode([span; 8])}}})
}

#[test]
fn what_did_not_link_is_listed_with_what_to_fix() {
    let e = Engine::start();
    // The browser saw two requests: trace 1 arrives, trace 2 never does.
    let batch = json!({"sessionId": "recorded", "batch": 0,
        "events": [network(1, 0xb1, 1_763_000_000_000), network(2, 0xb2, 1_763_000_001_000)]});
    e.post_replay(&batch);
    let spans = vec![
        // Trace 1: the backend span's parent is the browser's request (recorded): not an orphan.
        span(1, 0x11, Some(0xb1), "GET /api/1", None),
        // Trace 3: names a session that has no recording.
        span(3, 0x31, None, "POST /api/orders", Some("never-recorded")),
        // Trace 4: a child whose parent span was never exported.
        span(4, 0x42, Some(0x41), "SELECT orders", None),
    ];
    let req = spans_request(spans);
    e.post_protobuf("/v1/traces", req.encode_to_vec());

    let (status, d) = e.api("/api/v1/diagnostics");
    assert_eq!(status, 200);
    let missing = d["missingTraces"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{d}");
    assert_eq!(missing[0]["traceId"], hex::encode([2u8; 16]));
    assert_eq!(missing[0]["sessionId"], "recorded");
    assert_eq!(missing[0]["url"], "/api/2");

    let without = d["sessionsWithoutReplay"].as_array().unwrap();
    assert_eq!(without.len(), 1, "{d}");
    assert_eq!(without[0]["sessionId"], "never-recorded");
    assert_eq!(without[0]["rootName"], "POST /api/orders");

    let orphans = d["orphanSpans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{d}");
    assert_eq!(orphans[0]["name"], "SELECT orders");
    assert_eq!(orphans[0]["parentSpanId"], hex::encode([0x41u8; 8]));

    // The missing parent arrives late: the orphan is gone.
    let late = spans_request(vec![span(4, 0x41, None, "GET /orders", None)]);
    e.post_protobuf("/v1/traces", late.encode_to_vec());
    let (_, d) = e.api("/api/v1/diagnostics");
    assert!(d["orphanSpans"].as_array().unwrap().is_empty(), "{d}");
}
