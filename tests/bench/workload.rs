//! The benchmarks' workload: OTLP trace requests shaped like a busy storefront backend's; and
//! how the benchmarks report latencies.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::Event, ResourceSpans, ScopeSpans, Span, Status};
use rand::Rng;

pub const SPANS_PER_REQUEST: usize = 512;

/// Telemetry arrives roughly in time order: each request starts a little after the previous
/// one (with some jitter between services), as live exports do.
static CLOCK: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(1_763_000_000_000_000_000);

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

/// A pre-encoded request whose trace ids and times are patched in place for each send: every
/// request is still unique (fresh trace ids, times moving forward), but the load generator
/// spends well under a microsecond per span, as a collector forwarding batches would, leaving
/// the cores to the server being measured.
pub struct Template {
    body: Vec<u8>,
    /// Byte offsets of each trace's id, one group per trace (16 bytes each).
    traces: Vec<Vec<usize>>,
    /// Byte offsets of every fixed64 timestamp (little-endian).
    times: Vec<usize>,
}

/// Every 8-byte window of a body, by content: finds ids and timestamps in one pass.
struct Windows<'a> {
    body: &'a [u8],
    at: std::collections::HashMap<[u8; 8], Vec<usize>>,
}

impl<'a> Windows<'a> {
    fn new(body: &'a [u8]) -> Self {
        let mut at: std::collections::HashMap<[u8; 8], Vec<usize>> = Default::default();
        for (i, w) in body.windows(8).enumerate() {
            let mut k = [0u8; 8];
            k.copy_from_slice(w);
            at.entry(k).or_default().push(i);
        }
        Windows { body, at }
    }

    fn find_all(&self, needle: &[u8]) -> Vec<usize> {
        let mut k = [0u8; 8];
        k.copy_from_slice(&needle[..8]);
        self.at
            .get(&k)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| self.body.get(i..i + needle.len()) == Some(needle))
            .collect()
    }
}

impl Template {
    pub fn new(rng: &mut impl Rng, service: usize) -> Template {
        use prost::Message;
        let req = request(rng, service);
        let body = req.encode_to_vec();
        let windows = Windows::new(&body);
        let spans = &req.resource_spans[0].scope_spans[0].spans;
        let mut traces: Vec<Vec<usize>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut times = Vec::new();
        for s in spans {
            if seen.insert(s.trace_id.clone()) {
                let at = windows.find_all(&s.trace_id);
                assert_eq!(
                    at.len(),
                    8,
                    "each trace id appears once per span of its trace"
                );
                traces.push(at);
            }
            let mut stamps = vec![s.start_time_unix_nano, s.end_time_unix_nano];
            stamps.extend(s.events.iter().map(|e| e.time_unix_nano));
            for t in stamps {
                let at = windows.find_all(&t.to_le_bytes());
                assert!(!at.is_empty(), "timestamp not found in the encoding");
                times.extend(at);
            }
        }
        times.sort_unstable();
        times.dedup();
        drop(windows);
        Template {
            body,
            traces,
            times,
        }
    }

    /// A new request body: fresh trace ids, times moved forward with the shared clock.
    pub fn instantiate(&self, rng: &mut impl Rng) -> Vec<u8> {
        let shift = CLOCK.fetch_add(5_000_000, std::sync::atomic::Ordering::Relaxed)
            - 1_763_000_000_000_000_000;
        let mut body = self.body.clone();
        for group in &self.traces {
            let mut id = [0u8; 16];
            rng.fill_bytes(&mut id);
            for &at in group {
                body[at..at + 16].copy_from_slice(&id);
            }
        }
        for &at in &self.times {
            let mut t = [0u8; 8];
            t.copy_from_slice(&body[at..at + 8]);
            let v = u64::from_le_bytes(t).wrapping_add(shift);
            body[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        body
    }
}

/// The `p` quantile (0–1) of `sorted` (nearest rank); 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `n, p50, p99, max` of latencies in milliseconds, for a benchmark's output line.
pub fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0)
    )
}
