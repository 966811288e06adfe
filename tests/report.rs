//! "Copy as bug report": a recorded checkout told as steps to reproduce (with the rage click in
//! plain words), the failing request with the backend span that failed and its message, the
//! error log, and the link back; the same as JSON; the same every time; from the CLI too.

use std::process::Command;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use serde_json::{json, Value};
use sightline_tests::{sightline_bin, Engine};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const T0: i64 = 1_790_000_000_000;

fn service(name: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(name.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn span(id: u8, parent: Option<u8>, name: &str, ms: i64, error: Option<&str>) -> Span {
    Span {
        trace_id: hex::decode(TRACE).unwrap(),
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: (ms * 1_000_000) as u64,
        end_time_unix_nano: ((ms + 40) * 1_000_000) as u64,
        status: error.map(|m| Status {
            code: 2,
            message: m.into(),
        }),
        ..Default::default()
    }
}

fn checkout(e: &Engine) {
    let click = |i: i64| {
        let t = T0 + 12_000 + i * 160;
        [
            json!({"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": 42, "x": 300, "y": 500}}),
            json!({"type": 5, "timestamp": t, "data": {"tag": "sightline.click", "payload": {"target": "Place Order", "x": 300, "y": 500}}}),
        ]
    };
    let mut events = vec![
        json!({"type": 4, "timestamp": T0, "data": {"href": "https://shop.test/cart", "width": 1280, "height": 720}}),
        json!({"type": 2, "timestamp": T0 + 1, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"left": 0, "top": 0}}}),
        json!({"type": 5, "timestamp": T0 + 4_000, "data": {"tag": "sightline.navigation", "payload": {"url": "https://shop.test/checkout"}}}),
        json!({"type": 3, "timestamp": T0 + 6_000, "data": {"source": 5, "id": 7, "text": "*****"}}),
        json!({"type": 3, "timestamp": T0 + 6_400, "data": {"source": 5, "id": 7, "text": "*****"}}),
    ];
    for i in 0..6 {
        events.extend(click(i));
    }
    events.push(json!({"type": 5, "timestamp": T0 + 12_100, "data": {"tag": "sightline.network", "payload": {
        "method": "POST", "url": "https://shop.test/api/orders", "status": 402, "durationMs": 90,
        "traceId": TRACE, "spanId": "aaaaaaaaaaaaaaaa"}}}));
    events.push(json!({"type": 5, "timestamp": T0 + 12_300, "data": {"tag": "sightline.error", "payload": {"message": "TypeError: order is undefined"}}}));
    e.post_replay(&json!({"sessionId": "qa-42", "batch": 0, "events": events, "meta": {
        "userEmail": "ada@example.com", "url": "https://shop.test/cart",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36",
        "viewport": {"width": 1280, "height": 720}}}));

    let traces = ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: service("storefront-api"),
                scope_spans: vec![ScopeSpans {
                    spans: vec![span(
                        1,
                        None,
                        "POST /api/orders",
                        T0 + 12_110,
                        Some("payment failed"),
                    )],
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceSpans {
                resource: service("payment-svc"),
                scope_spans: vec![ScopeSpans {
                    spans: vec![span(
                        2,
                        Some(1),
                        "charge card",
                        T0 + 12_120,
                        Some("card_declined: insufficient funds"),
                    )],
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    };
    e.post_protobuf("/v1/traces", traces.encode_to_vec());
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: service("payment-svc"),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: ((T0 + 12_130) * 1_000_000) as u64,
                    severity_number: 17,
                    severity_text: "ERROR".into(),
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(
                            "charge refused by the bank".into(),
                        )),
                    }),
                    trace_id: hex::decode(TRACE).unwrap(),
                    span_id: vec![2; 8],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/logs", logs.encode_to_vec());
}

#[test]
fn a_session_reads_as_a_bug_report() {
    let e = Engine::start();
    checkout(&e);
    let (status, r) = e.api("/api/v1/sessions/qa-42/report");
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["title"],
        "POST /api/orders fails with 402: card_declined: insufficient funds"
    );
    assert_eq!(r["environment"]["user"], "ada@example.com");
    assert_eq!(r["environment"]["browser"], "Chrome 131 on Linux");
    assert_eq!(r["environment"]["viewport"], "1280×720");
    assert_eq!(r["environment"]["url"], "https://shop.test/cart");
    let steps: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "Opened https://shop.test/cart",
            "Went to /checkout",
            "Typed in a field",
            "Clicked \"Place Order\" 6 times in 0.8 s (rage click)",
            "The page's request POST /api/orders failed with 402",
            "The page threw an error: TypeError: order is undefined",
        ],
        "{r:#}"
    );
    let failing = &r["failingRequests"][0];
    assert_eq!(
        (failing["method"].as_str(), failing["status"].as_i64()),
        (Some("POST"), Some(402))
    );
    assert_eq!(failing["traceId"], TRACE);
    assert_eq!(
        failing["failingSpan"]["name"], "charge card",
        "the deepest error span"
    );
    assert_eq!(failing["failingSpan"]["service"], "payment-svc");
    assert_eq!(
        failing["failingSpan"]["message"],
        "card_declined: insufficient funds"
    );
    assert_eq!(r["errorLogs"][0]["message"], "charge refused by the bank");
    assert_eq!(r["errorLogs"][0]["service"], "payment-svc");
    assert_eq!(r["link"], "sightline://session/qa-42?t=10.1s");
    assert_eq!(r["bundleFile"], "sightline-session-qa-42.sightline");

    // Markdown to paste into a ticket: the same content.
    let md =
        reqwest::blocking::get(e.api_url("/api/v1/sessions/qa-42/report?format=markdown")).unwrap();
    assert!(md.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let md = md.text().unwrap();
    for line in [
        "## POST /api/orders fails with 402: card_declined: insufficient funds",
        "- Browser: Chrome 131 on Linux",
        "4. Clicked \"Place Order\" 6 times in 0.8 s (rage click) _(at 0:12)_",
        "- `POST https://shop.test/api/orders` → 402 · trace `5b8efff798038103d269b633813fc60c`",
        "  - failing span: `charge card` in payment-svc: card_declined: insufficient funds",
        "sightline://session/qa-42?t=10.1s",
        "`sightline-session-qa-42.sightline`",
    ] {
        assert!(md.contains(line), "missing {line:?} in\n{md}");
    }
    // Deterministic, and the CLI prints the same.
    let again = reqwest::blocking::get(e.api_url("/api/v1/sessions/qa-42/report?format=markdown"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(md, again);
    let out = Command::new(sightline_bin())
        .args(["report", "--session", "qa-42", "--ui", &e.ui.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), md);
    let (status, _) = e.api("/api/v1/sessions/nope/report");
    assert_eq!(status, 404);
    let _: Value = r;
}
