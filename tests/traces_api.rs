//! Trace search (service, span name, status, duration, attribute, session, time) and the
//! sessions a trace belongs to, with where in the replay it starts.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use serde_json::{json, Value};
use sightline_tests::Engine;

const T0_MS: u64 = 1_763_000_000_000;

fn s(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// One trace of one span in `service`, starting `at_ms` after T0 and lasting `ms`.
fn trace(
    n: u8,
    service: &str,
    name: &str,
    at_ms: u64,
    ms: u64,
    error: bool,
    attrs: Vec<KeyValue>,
) -> ResourceSpans {
    let start = (T0_MS + at_ms) * 1_000_000;
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![s("service.name", service)],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                trace_id: vec![n; 16],
                span_id: vec![n; 8],
                name: name.into(),
                start_time_unix_nano: start,
                end_time_unix_nano: start + ms * 1_000_000,
                attributes: attrs,
                status: Some(Status {
                    code: if error { 2 } else { 0 },
                    message: String::new(),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn seed(e: &Engine) {
    let req = ExportTraceServiceRequest {
        resource_spans: vec![
            trace(
                1,
                "api",
                "GET /products",
                1_000,
                12,
                false,
                vec![s("http.route", "/products")],
            ),
            trace(
                2,
                "api",
                "POST /checkout",
                2_000,
                5_200,
                true,
                vec![s("session.id", "shopper")],
            ),
            trace(
                3,
                "payments",
                "charge",
                3_000,
                300,
                false,
                vec![s("payment.provider", "acme")],
            ),
            trace(4, "payments", "refund", 4_000, 80, true, vec![]),
            trace(5, "api", "GET /health", 5_000, 1, false, vec![]),
        ],
    };
    e.post_protobuf("/v1/traces", req.encode_to_vec());
    // The shopper's recording started 500 ms before the checkout trace.
    let batch = json!({"sessionId": "shopper", "batch": 0, "events": [
        {"type": 4, "timestamp": T0_MS + 1_500, "data": {"href": "http://shop/"}}]});
    e.post_replay(&batch);
}

fn names(body: &Value) -> Vec<&str> {
    body["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rootName"].as_str().unwrap())
        .collect()
}

#[test]
fn traces_are_searched_newest_first() {
    let e = Engine::start();
    seed(&e);
    let (status, all) = e.api("/api/v1/traces");
    assert_eq!(status, 200);
    assert_eq!(
        names(&all),
        [
            "GET /health",
            "refund",
            "charge",
            "POST /checkout",
            "GET /products"
        ]
    );
    let checkout = &all["traces"][3];
    assert_eq!(checkout["durationMs"], 5_200.0);
    assert_eq!(checkout["errorCount"], 1);
    assert_eq!(checkout["services"], json!(["api"]));
    assert_eq!(checkout["sessionId"], "shopper");

    for (query, expected) in [
        ("service=payments", vec!["refund", "charge"]),
        ("name=checkout", vec!["POST /checkout"]),
        ("status=error", vec!["refund", "POST /checkout"]),
        (
            "status=ok&service=api",
            vec!["GET /health", "GET /products"],
        ),
        ("minDurationMs=100", vec!["charge", "POST /checkout"]),
        ("maxDurationMs=12", vec!["GET /health", "GET /products"]),
        (
            "minDurationMs=5000&maxDurationMs=6000",
            vec!["POST /checkout"],
        ),
        ("attribute=payment.provider%3Dacme", vec!["charge"]),
        ("attribute=http.route%3D/products", vec!["GET /products"]),
        ("session=shopper", vec!["POST /checkout"]),
        (
            &format!("fromMs={}&toMs={}", T0_MS + 2_500, T0_MS + 4_500),
            vec!["refund", "charge"],
        ),
    ] {
        let (status, body) = e.api(&format!("/api/v1/traces?{query}"));
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(names(&body), expected, "{query}");
    }

    let (_, page) = e.api("/api/v1/traces?limit=3");
    assert_eq!(names(&page).len(), 3);
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, rest) = e.api(&format!("/api/v1/traces?limit=3&cursor={cursor}"));
    assert_eq!(names(&rest), ["POST /checkout", "GET /products"]);
    assert_eq!(rest["nextCursor"], Value::Null);

    for bad in [
        "status=broken",
        "minDurationMs=fast",
        "attribute=novalue",
        "limit=0",
        "cursor=xyz",
    ] {
        let (status, body) = e.api(&format!("/api/v1/traces?{bad}"));
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request");
    }
}

#[test]
fn a_trace_names_its_session_and_where_its_replay_is() {
    let e = Engine::start();
    seed(&e);
    let trace = e.trace(&hex::encode([2u8; 16]));
    let sessions = trace["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["sessionId"], "shopper");
    assert_eq!(
        sessions[0]["offsetMs"], 500.0,
        "the trace starts 500 ms into the replay"
    );
    let other = e.trace(&hex::encode([1u8; 16]));
    assert_eq!(other["sessions"], json!([]));
}

#[test]
fn services_and_the_calls_between_them() {
    let e = Engine::start();
    seed(&e);
    // A trace that crosses services: api → payments → fraud (which fails).
    let hop = |service: &str, id: u8, parent: Option<u8>, error: bool| ResourceSpans {
        resource: Some(Resource {
            attributes: vec![s("service.name", service)],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                trace_id: vec![9; 16],
                span_id: vec![id; 8],
                parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
                name: format!("{service} work"),
                // The receiving side of a call is a server span (OTel's SPAN_KIND_SERVER).
                kind: if parent.is_some() { 2 } else { 1 },
                start_time_unix_nano: (T0_MS + 9_000) * 1_000_000,
                end_time_unix_nano: (T0_MS + 9_100) * 1_000_000,
                status: Some(Status {
                    code: if error { 2 } else { 0 },
                    message: String::new(),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    // Services export on their own schedules: the deepest call arrives first, its parent
    // later with the root; either order counts each call once.
    for spans in [
        vec![hop("fraud", 0x93, Some(0x92), true)],
        vec![
            hop("api", 0x91, None, false),
            hop("payments", 0x92, Some(0x91), false),
        ],
    ] {
        let req = ExportTraceServiceRequest {
            resource_spans: spans,
        };
        e.post_protobuf("/v1/traces", req.encode_to_vec());
    }

    let (status, body) = e.api("/api/v1/services");
    assert_eq!(status, 200);
    let services = body["services"].as_array().unwrap();
    let api = services.iter().find(|s| s["serviceName"] == "api").unwrap();
    assert_eq!(api["spanCount"], 4);
    assert_eq!(api["errorCount"], 1);
    assert_eq!(api["errorRate"], 0.25);
    let fraud = services
        .iter()
        .find(|s| s["serviceName"] == "fraud")
        .unwrap();
    assert_eq!(fraud["errorRate"], 1.0);

    let (status, map) = e.api("/api/v1/service-map");
    assert_eq!(status, 200);
    let mut edges: Vec<(String, String, i64, i64)> = map["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
                e["callCount"].as_i64().unwrap(),
                e["errorCount"].as_i64().unwrap(),
            )
        })
        .collect();
    edges.sort();
    assert_eq!(
        edges,
        [
            ("api".to_owned(), "payments".to_owned(), 1, 0),
            ("payments".to_owned(), "fraud".to_owned(), 1, 1)
        ]
    );
    // A window starting a minute after the calls holds none (windows have minute resolution).
    let (_, later) = e.api(&format!("/api/v1/service-map?fromMs={}", T0_MS + 69_000));
    assert_eq!(later["edges"], json!([]));
}

/// What anyone may post (the OTLP receivers are open to every page, by design) cannot make the
/// trace views fail: times past 2^63 ns, and a trace that names a new service on every span.
#[test]
fn hostile_traces_still_read() {
    let e = Engine::start();
    let huge = |n: u8, start: u64, end: u64| ResourceSpans {
        resource: Some(Resource {
            attributes: vec![s("service.name", "evil")],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                trace_id: vec![0xee; 16],
                span_id: vec![n; 8],
                parent_span_id: if n == 1 { vec![] } else { vec![1; 8] },
                name: format!("span {n}"),
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                status: Some(Status {
                    code: 2,
                    message: "boom".into(),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    e.post_protobuf(
        "/v1/traces",
        ExportTraceServiceRequest {
            resource_spans: vec![huge(1, 1 << 63, u64::MAX), huge(2, (1 << 63) - 1, 1)],
        }
        .encode_to_vec(),
    );
    let wide: Vec<ResourceSpans> = (0..300u32)
        .map(|i| {
            let mut r = trace(
                0xdd,
                &format!("svc-{i}"),
                "hop",
                1_000 + u64::from(i),
                5,
                false,
                vec![],
            );
            r.scope_spans[0].spans[0].span_id = (u64::from(i) + 1).to_be_bytes().to_vec();
            r
        })
        .collect();
    e.post_protobuf(
        "/v1/traces",
        ExportTraceServiceRequest {
            resource_spans: wide,
        }
        .encode_to_vec(),
    );
    for path in [
        format!("/api/v1/traces/{}/outline", "ee".repeat(16)),
        format!("/api/v1/traces/{}", "ee".repeat(16)),
        "/api/v1/traces?status=error&limit=500".to_owned(),
        "/api/v1/traces?service=evil".to_owned(),
        format!("/api/v1/traces?fromMs={}", i64::MIN),
        format!("/api/v1/traces?toMs={}", i64::MAX),
    ] {
        let (status, body) = e.api(&path);
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, outline) = e.api(&format!("/api/v1/traces/{}/outline", "ee".repeat(16)));
    assert_eq!(outline["spanCount"], 2, "{outline}");
    assert_eq!(outline["errorCount"], 2, "{outline}");
    // 300 services in one trace: the outline lists the 20 with the most time, and says how
    // many there are.
    let (status, wide) = e.api(&format!("/api/v1/traces/{}/outline", "dd".repeat(16)));
    assert_eq!(status, 200, "{wide}");
    assert_eq!(wide["serviceCount"], 300);
    assert_eq!(wide["services"].as_array().unwrap().len(), 20);
}

/// A root named only by its method ("GET", as some instrumentations name server spans) is
/// listed by its route, as the HTTP semantic conventions name it.
#[test]
fn roots_named_by_their_method_take_their_route() {
    let e = Engine::start();
    let mut bare = trace(
        0x31,
        "shop",
        "GET",
        10,
        5,
        false,
        vec![s("http.route", "/api/cart/{id}")],
    );
    bare.scope_spans[0].spans[0].kind = 2;
    let plain = trace(0x32, "shop", "GET", 20, 5, false, vec![]);
    e.post_protobuf(
        "/v1/traces",
        ExportTraceServiceRequest {
            resource_spans: vec![bare, plain],
        }
        .encode_to_vec(),
    );
    let (_, list) = e.api("/api/v1/traces?service=shop");
    let roots: Vec<&str> = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rootName"].as_str().unwrap())
        .collect();
    assert_eq!(roots, ["GET", "GET /api/cart/{id}"], "{list}");
}
