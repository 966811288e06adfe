//! What the UI shows about a session is that session's, and right: in Debian's Chromium,
//! through the real engine. Two recorded sessions (rrweb snapshots, typing, two overlapping
//! checkouts) and a backend trace whose failure is four spans deep are opened the ways a user
//! opens them — a link, the address bar, Back, a pasted link — and each screen is checked:
//! the first frame painted before Play, no state of one session under another's address,
//! typing as one row per field, requests at their start, the Backend tab following the
//! Network tab, the deepest error span picked, a not-found page for an unknown address, no
//! request answered 404 in `serve` mode, and Status counting what the list shows.
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use std::path::Path;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use serde_json::{json, Value};
use sightline_tests::{node_client, Engine};

const T0: u64 = 1_763_000_000_000;
/// The declined checkout's trace, and the quick request that overlapped it.
const DECLINED: [u8; 16] = [0xd1; 16];
const QUICK: [u8; 16] = [0x9a; 16];
const BESIDE: [u8; 16] = [0x55; 16];

fn el(id: u64, tag: &str, attrs: Value, children: Vec<Value>) -> Value {
    json!({"type": 2, "id": id, "tagName": tag, "attributes": attrs, "childNodes": children})
}

fn text(id: u64, s: &str) -> Value {
    json!({"type": 3, "id": id, "textContent": s})
}

/// A page load: the meta event and a full snapshot with a heading and an email field.
fn page(t: u64, url: &str, heading: &str) -> Vec<Value> {
    vec![
        json!({"type": 4, "timestamp": t, "data": {"href": url, "width": 1024, "height": 640}}),
        json!({"type": 2, "timestamp": t + 5, "data": {"initialOffset": {"left": 0, "top": 0},
        "node": {"type": 0, "id": 1, "childNodes": [el(2, "html", json!({}), vec![
            el(3, "head", json!({}), vec![]),
            el(4, "body", json!({"style": "font: 20px sans-serif; margin: 40px"}), vec![
                el(5, "h1", json!({}), vec![text(6, heading)]),
                el(10, "label", json!({"for": "email"}), vec![text(11, "Email")]),
                el(12, "input", json!({"id": "email", "type": "email"}), vec![]),
                el(20, "button", json!({}), vec![text(21, "Place order")]),
            ])])]}}}),
    ]
}

fn request(reported: u64, duration_ms: u64, trace: &[u8; 16], status: u16) -> Value {
    json!({"type": 5, "timestamp": reported, "data": {"tag": "sightline.network", "payload": {
        "method": "POST", "url": "http://shop/api/checkout", "status": status,
        "durationMs": duration_ms, "traceId": hex::encode(trace), "spanId": "0101010101010101"}}})
}

fn kv(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(
    trace: &[u8; 16],
    id: u8,
    parent: Option<u8>,
    name: &str,
    start_ms: u64,
    error: Option<&str>,
) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: start_ms * 1_000_000,
        end_time_unix_nano: (start_ms + 50) * 1_000_000,
        status: error.map(|m| Status {
            code: status::StatusCode::Error as i32,
            message: m.into(),
        }),
        ..Default::default()
    }
}

fn service(name: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![kv("service.name", name)],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn seed(e: &Engine) {
    // Alice: types her email (one keystroke per event, as rrweb records), and pays twice
    // within 90 ms: the first checkout (declined after 5 s) and a quick second one.
    let mut a = page(T0, "http://shop/checkout", "Alpha checkout");
    for i in 0..6 {
        a.push(json!({"type": 3, "timestamp": T0 + 300 + i * 80, "data": {"source": 5, "id": 12, "text": "*".repeat(i as usize + 1), "isChecked": false}}));
    }
    a.push(json!({"type": 3, "timestamp": T0 + 990, "data": {"source": 2, "type": 2, "id": 20, "x": 40, "y": 200}}));
    a.push(request(T0 + 1_290, 200, &QUICK, 201));
    a.push(request(T0 + 6_000, 5_000, &DECLINED, 400));
    a.push(json!({"type": 3, "timestamp": T0 + 6_010, "data": {"source": 0, "adds": [], "removes": [], "texts": [{"id": 6, "value": "Payment declined"}], "attributes": []}}));
    a.push(json!({"type": 3, "timestamp": T0 + 20_000, "data": {"source": 1, "positions": [{"x": 1, "y": 1, "id": 4, "timeOffset": 0}]}}));
    e.post_replay(&json!({"sessionId": "truth-a", "batch": 0, "meta": {"userEmail": "alice@example.com"}, "events": a}));
    // Bob: a short visit to another page.
    let mut b = page(T0 + 60_000, "http://shop/help", "Beta help");
    b.push(json!({"type": 3, "timestamp": T0 + 63_000, "data": {"source": 1, "positions": [{"x": 2, "y": 2, "id": 4, "timeOffset": 0}]}}));
    e.post_replay(&json!({"sessionId": "truth-b", "batch": 0, "meta": {"userEmail": "bob@example.com"}, "events": b}));

    // The declined checkout failed four spans deep: the API and its client call pass the
    // error up; payment-svc's server span answered (4xx is not a server error); its
    // "authorize card" is where it failed.
    let s = T0 + 1_000;
    let traces = ExportTraceServiceRequest {
        resource_spans: vec![
            service(
                "storefront-api",
                vec![
                    span(
                        &DECLINED,
                        1,
                        None,
                        "POST /api/checkout",
                        s,
                        Some("payment failed"),
                    ),
                    span(
                        &DECLINED,
                        2,
                        Some(1),
                        "POST",
                        s + 10,
                        Some("400 Bad Request"),
                    ),
                    span(&QUICK, 1, None, "POST /api/checkout", s + 90, None),
                ],
            ),
            service(
                "payment-svc",
                vec![
                    span(&DECLINED, 3, Some(2), "POST /authorize", s + 20, None),
                    span(
                        &DECLINED,
                        4,
                        Some(3),
                        "authorize card",
                        s + 30,
                        Some("card_declined"),
                    ),
                    // A job of the same service that ran beside the declined checkout.
                    span(&BESIDE, 1, None, "settle batch", s + 25, None),
                ],
            ),
            // A backend-only session id: named on a span, never recorded.
            service(
                "worker",
                vec![Span {
                    attributes: vec![kv("session.id", "backend-only")],
                    ..span(&[0x77; 16], 1, None, "nightly job", s, None)
                }],
            ),
        ],
    };
    e.post_protobuf("/v1/traces", traces.encode_to_vec());
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn the_ui_shows_the_right_session_and_the_right_span() {
    let e = Engine::start();
    seed(&e);
    // The engine agrees with what the screens are checked against.
    let (_, a) = e.api("/api/v1/sessions/truth-a");
    assert_eq!(a["sessionId"], "truth-a");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let seen = node_client([
        "ui-truth.mjs",
        &format!("http://{}/", e.ui),
        shots.to_str().unwrap(),
        &hex::encode(DECLINED),
    ]);
    assert_eq!(seen["failedApiRequests"], json!([]), "{seen:#}");
    assert_eq!(seen["typingRows"], 1, "{seen:#}");
    assert_eq!(seen["statusSessions"], "2", "{seen:#}");
    // The declined checkout's trace lists the job that ran beside it in payment-svc, and
    // payment-svc has one colour in both traces.
    assert_eq!(
        seen["overlapping"],
        format!("#/traces/{}", hex::encode(BESIDE)),
        "{seen:#}"
    );
    assert_eq!(seen["sameColour"], true, "{seen:#}");
}

/// The bug report names the span that failed, four deep, not the API or its client call that
/// passed the error up.
#[test]
fn the_bug_report_names_the_deepest_error_span() {
    let e = Engine::start();
    seed(&e);
    let (status, report) = e.api("/api/v1/sessions/truth-a/report");
    assert_eq!(status, 200, "{report}");
    let failing = report["failingRequests"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "{report:#}");
    let span = &failing[0]["failingSpan"];
    assert_eq!(
        (&span["service"], &span["name"], &span["message"]),
        (
            &json!("payment-svc"),
            &json!("authorize card"),
            &json!("card_declined")
        ),
        "{report:#}"
    );
    // Nothing here was frustrating, and the steps say none of it.
    let steps = report["steps"].to_string();
    assert!(
        !steps.contains("dead click") && !steps.contains("rage click"),
        "{steps}"
    );
}
