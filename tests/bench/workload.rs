//! The benchmarks' workload: OTLP trace requests shaped like a busy storefront backend's.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::Event, ResourceSpans, ScopeSpans, Span, Status};
use rand::Rng;

pub const SPANS_PER_REQUEST: usize = 512;

/// Telemetry arrives roughly in time order: each request starts a little after the previous
/// one (with some jitter between services), as live exports do.
static CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_763_000_000_000_000_000);

fn s(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn i(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::IntValue(v)),
        }),
        ..Default::default()
    }
}

/// A request shaped like a busy storefront backend's: 64 traces of 8 spans, 20 attributes a
/// span, one session per trace, an event on every fourth span, errors on a few.
pub fn request(rng: &mut impl Rng, service: usize) -> ExportTraceServiceRequest {
    let now = CLOCK.fetch_add(5_000_000, std::sync::atomic::Ordering::Relaxed)
        + rng.random_range(0..2_000_000_000u64);
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST);
    let mut trace_id = [0u8; 16];
    let mut session = String::new();
    let mut parent = [0u8; 8];
    for n in 0..SPANS_PER_REQUEST {
        if n % 8 == 0 {
            rng.fill_bytes(&mut trace_id);
            session = format!("sess-{:016x}", rng.next_u64());
            parent = [0; 8];
        }
        let mut span_id = [0u8; 8];
        rng.fill_bytes(&mut span_id);
        let status = rng.random_range(0..100);
        let start = now + n as u64 * 1_000_000;
        spans.push(Span {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            parent_span_id: if parent == [0; 8] { vec![] } else { parent.to_vec() },
            name: format!("GET /api/products/{{id}} #{}", n % 16),
            kind: if n % 8 == 0 { 2 } else { 3 },
            start_time_unix_nano: start,
            end_time_unix_nano: start + rng.random_range(100_000..50_000_000),
            attributes: vec![
                s("http.request.method", "GET"),
                s("http.route", "/api/products/{id}"),
                i("http.response.status_code", if status < 3 { 500 } else { 200 }),
                s("url.full", "http://localhost:3000/api/products/1234?ref=home&utm=x"),
                s(
                    "user_agent.original",
                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
                ),
                s("server.address", "localhost"),
                i("server.port", 3000),
                s("network.peer.address", "127.0.0.1"),
                s("db.system.name", "postgresql"),
                s("db.query.text", "SELECT id, name, price FROM products WHERE id = $1 LIMIT 1"),
                i("thread.id", rng.random_range(1..64)),
                s("thread.name", "tokio-runtime-worker"),
                s("code.function.name", "storefront::handlers::products::show"),
                s("code.file.path", "src/handlers/products.rs"),
                i("code.line.number", 128),
                s("session.id", &session),
                s("user.id", &format!("user-{}", rng.random_range(0..5000))),
                s("enduser.role", "customer"),
                KeyValue {
                    key: "feature.new_checkout".into(),
                    value: Some(AnyValue {
                        value: Some(Value::BoolValue(n % 2 == 0)),
                    }),
                    ..Default::default()
                },
                i("http.response.body.size", rng.random_range(200..40_000)),
            ],
            events: if n % 4 == 0 {
                vec![Event {
                    time_unix_nano: start + 50_000,
                    name: "cache.miss".into(),
                    attributes: vec![s("cache.key", "product:1234")],
                    dropped_attributes_count: 0,
                }]
            } else {
                vec![]
            },
            status: Some(Status {
                code: if status < 3 { 2 } else { 0 },
                message: if status < 3 { "upstream timeout".into() } else { String::new() },
            }),
            ..Default::default()
        });
        parent = span_id;
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    s("service.name", &format!("storefront-{service}")),
                    s("service.version", "1.8.2"),
                    s("deployment.environment.name", "local"),
                    s("telemetry.sdk.language", "rust"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

