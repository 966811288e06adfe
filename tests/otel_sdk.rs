//! The official OpenTelemetry Rust SDK (`opentelemetry-otlp`) exports traces, logs and metrics
//! to Sightline over gRPC, HTTP/protobuf and HTTP/JSON; every field it sent is asked back.

use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, KeyValue, SpanId, TraceId, Value};
use opentelemetry_otlp::{
    Compression, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use serde_json::{json, Value as Json};
use sightline_tests::Engine;

#[derive(Clone, Copy, Debug)]
enum Transport {
    /// gRPC with gzip, as most production SDK configurations send it.
    GrpcGzip,
    /// HTTP/protobuf with gzip.
    HttpProtoGzip,
    /// HTTP/JSON, uncompressed.
    HttpJson,
}

const ALL: [Transport; 3] = [
    Transport::GrpcGzip,
    Transport::HttpProtoGzip,
    Transport::HttpJson,
];

fn resource(transport: Transport) -> Resource {
    Resource::builder_empty()
        .with_service_name("checkout")
        .with_attributes([
            KeyValue::new("deployment.environment", "local"),
            KeyValue::new("test.transport", format!("{transport:?}")),
        ])
        .build()
}

/// Builds one signal's exporter for a transport: the three builders differ only in their type
/// and the HTTP path.
macro_rules! exporter {
    ($exporter:ty, $engine:expr, $transport:expr, $path:literal) => {{
        let (e, t): (&Engine, Transport) = ($engine, $transport);
        match t {
            // tonic needs a runtime to build its channel on; the engine's is running.
            Transport::GrpcGzip => e.runtime().block_on(async {
                <$exporter>::builder()
                    .with_tonic()
                    .with_endpoint(format!("http://{}", e.grpc))
                    .with_compression(Compression::Gzip)
                    .build()
                    .expect("grpc exporter")
            }),
            Transport::HttpProtoGzip => <$exporter>::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_compression(Compression::Gzip)
                .with_endpoint(e.otlp_url($path))
                .build()
                .expect("http exporter"),
            Transport::HttpJson => <$exporter>::builder()
                .with_http()
                .with_protocol(Protocol::HttpJson)
                .with_endpoint(e.otlp_url($path))
                .build()
                .expect("http json exporter"),
        }
    }};
}

fn span_exporter(e: &Engine, t: Transport) -> opentelemetry_otlp::SpanExporter {
    exporter!(opentelemetry_otlp::SpanExporter, e, t, "/v1/traces")
}

fn log_exporter(e: &Engine, t: Transport) -> opentelemetry_otlp::LogExporter {
    exporter!(opentelemetry_otlp::LogExporter, e, t, "/v1/logs")
}

fn metric_exporter(e: &Engine, t: Transport) -> opentelemetry_otlp::MetricExporter {
    exporter!(opentelemetry_otlp::MetricExporter, e, t, "/v1/metrics")
}

/// Emits a server span with a client child, then returns (trace id, server span id, client span id).
fn emit_trace(provider: &SdkTracerProvider) -> (String, String, String) {
    let tracer = provider.tracer_with_scope(
        opentelemetry::InstrumentationScope::builder("shop.http")
            .with_version("1.2.3")
            .build(),
    );
    let linked = SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        SpanId::from_hex("b7ad6b7169203331").unwrap(),
        TraceFlags::SAMPLED,
        false,
        TraceState::from_key_value([("vendor", "v1")]).unwrap(),
    );
    let start = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_763_000_000_123_456_789);
    let mut server = tracer
        .span_builder("POST /api/checkout")
        .with_kind(SpanKind::Server)
        .with_start_time(start)
        .with_links(vec![Link::with_context(linked)])
        .with_attributes([
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("http.response.status_code", 502_i64),
            KeyValue::new("retry", true),
            KeyValue::new("cart.total", 42.5_f64),
            KeyValue::new(
                "cart.skus",
                Value::Array(Array::String(vec!["a-1".into(), "b-2".into()])),
            ),
            KeyValue::new("session.id", "sess-42"),
        ])
        .start(&tracer);
    server.add_event(
        "payment.declined",
        vec![KeyValue::new("decline.code", "insufficient_funds")],
    );
    server.set_status(Status::error("payment provider said no"));
    let cx = Context::current_with_span(server);
    let mut client = tracer
        .span_builder("POST payment-svc/charge")
        .with_kind(SpanKind::Client)
        .start_with_context(&tracer, &cx);
    client.end_with_timestamp(start + Duration::from_millis(40));
    let span = cx.span();
    let sc = span.span_context().clone();
    span.end_with_timestamp(start + Duration::from_millis(50));
    let client_id = client.span_context().span_id().to_string();
    (
        sc.trace_id().to_string(),
        sc.span_id().to_string(),
        client_id,
    )
}

fn emit_logs(provider: &SdkLoggerProvider, trace_id: &str, span_id: &str) {
    let logger = provider.logger("shop.logs");
    let mut record = logger.create_log_record();
    record.set_body(AnyValue::String("payment declined for order 17".into()));
    record.set_severity_number(Severity::Error);
    record.set_severity_text("ERROR");
    record.set_event_name("payment.declined");
    record.set_timestamp(SystemTime::UNIX_EPOCH + Duration::from_nanos(1_763_000_000_150_000_000));
    record.add_attribute("order.id", 17_i64);
    record.add_attribute("session.id", "sess-42");
    record.set_trace_context(
        TraceId::from_hex(trace_id).unwrap(),
        SpanId::from_hex(span_id).unwrap(),
        Some(TraceFlags::SAMPLED),
    );
    logger.emit(record);
}

fn by_name<'a>(spans: &'a [Json], name: &str) -> &'a Json {
    spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:?}"))
}

#[test]
fn sdk_traces_and_logs_arrive_field_by_field_over_every_transport() {
    let engine = Engine::start();
    for transport in ALL {
        let traces = SdkTracerProvider::builder()
            .with_resource(resource(transport))
            .with_simple_exporter(span_exporter(&engine, transport))
            .build();
        let (trace_id, server_id, client_id) = emit_trace(&traces);
        traces.shutdown().expect("trace export");

        let logs = SdkLoggerProvider::builder()
            .with_resource(resource(transport))
            .with_simple_exporter(log_exporter(&engine, transport))
            .build();
        emit_logs(&logs, &trace_id, &server_id);
        logs.shutdown().expect("log export");

        let view = engine.trace(&trace_id);
        let spans = view["spans"].as_array().expect("spans");
        assert_eq!(spans.len(), 2, "{transport:?}: {view}");

        let server = by_name(spans, "POST /api/checkout");
        assert_eq!(server["traceId"], trace_id.as_str());
        assert_eq!(server["spanId"], server_id.as_str());
        assert_eq!(server["parentSpanId"], "");
        assert_eq!(server["kind"], 2, "SPAN_KIND_SERVER");
        assert_eq!(server["startTimeUnixNano"], "1763000000123456789");
        assert_eq!(server["endTimeUnixNano"], "1763000000173456789");
        assert_eq!(
            server["attributes"],
            json!({
                "http.request.method": "POST",
                "http.response.status_code": 502,
                "retry": true,
                "cart.total": 42.5,
                "cart.skus": ["a-1", "b-2"],
                "session.id": "sess-42",
            }),
            "{transport:?}"
        );
        assert_eq!(
            server["status"],
            json!({"code": 2, "message": "payment provider said no"})
        );
        assert_eq!(server["events"][0]["name"], "payment.declined");
        assert_eq!(
            server["events"][0]["attributes"],
            json!({"decline.code": "insufficient_funds"})
        );
        assert_eq!(
            server["links"][0]["traceId"],
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(server["links"][0]["spanId"], "b7ad6b7169203331");
        assert_eq!(server["links"][0]["traceState"], "vendor=v1");
        assert_eq!(server["serviceName"], "checkout");
        assert_eq!(server["sessionId"], "sess-42");
        assert_eq!(
            server["scope"],
            json!({"name": "shop.http", "version": "1.2.3"})
        );
        assert_eq!(
            view["resources"][server["resourceId"].as_str().unwrap()]["attributes"]
                ["deployment.environment"],
            "local"
        );
        assert_eq!(server["flags"].as_u64().unwrap() & 0xff, 1, "sampled");

        let client = by_name(spans, "POST payment-svc/charge");
        assert_eq!(client["parentSpanId"], server_id.as_str());
        assert_eq!(client["spanId"], client_id.as_str());
        assert_eq!(client["kind"], 3, "SPAN_KIND_CLIENT");
        assert_eq!(
            client["sessionId"], "sess-42",
            "the client span carries no session attribute but belongs to its trace's session"
        );
        assert_eq!(view["sessionId"], "sess-42");

        let logs = view["logs"].as_array().expect("logs");
        assert_eq!(logs.len(), 1, "{transport:?}: {view}");
        let log = &logs[0];
        assert_eq!(log["body"], "payment declined for order 17");
        assert_eq!(log["severityNumber"], 17, "SEVERITY_NUMBER_ERROR");
        assert_eq!(log["severityText"], "ERROR");
        assert_eq!(log["eventName"], "payment.declined");
        assert_eq!(log["timeUnixNano"], "1763000000150000000");
        assert_eq!(
            log["attributes"],
            json!({"order.id": 17, "session.id": "sess-42"})
        );
        assert_eq!(log["traceId"], trace_id.as_str());
        assert_eq!(log["spanId"], server_id.as_str());
        assert_eq!(log["serviceName"], "checkout");
        assert_eq!(log["sessionId"], "sess-42");
    }
    let stats = engine.stats();
    assert_eq!(stats["spans"], 6);
    assert_eq!(stats["logs"], 3);
    assert_eq!(stats["traces"], 3);
    assert_eq!(stats["sessions"], 1);
}

#[test]
fn sdk_metrics_arrive_over_every_transport() {
    let engine = Engine::start();
    for transport in ALL {
        let provider = SdkMeterProvider::builder()
            .with_resource(resource(transport))
            .with_periodic_exporter(metric_exporter(&engine, transport))
            .build();
        let meter = provider.meter("shop.metrics");
        let orders = meter.u64_counter("orders").with_unit("{order}").build();
        orders.add(3, &[KeyValue::new("outcome", "ok")]);
        orders.add(1, &[KeyValue::new("outcome", "declined")]);
        let latency = meter
            .f64_histogram("checkout.duration")
            .with_unit("s")
            .with_description("checkout latency")
            .build();
        for v in [0.02, 0.2, 2.0] {
            latency.record(v, &[]);
        }
        let gauge = meter.i64_gauge("cart.items").build();
        gauge.record(7, &[]);
        provider.shutdown().expect("metric export");
    }

    let exported = engine.read(|conn| sightline_store::views::export_metrics(conn).unwrap());
    let mut seen = Vec::new();
    for rm in &exported.resource_metrics {
        let transport = rm
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .find(|kv| kv.key == "test.transport")
            .map(|kv| format!("{:?}", kv.value))
            .unwrap();
        for sm in &rm.scope_metrics {
            assert_eq!(sm.scope.as_ref().unwrap().name, "shop.metrics");
            for m in &sm.metrics {
                use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
                match (m.name.as_str(), m.data.as_ref().unwrap()) {
                    ("orders", Data::Sum(sum)) => {
                        assert!(sum.is_monotonic);
                        assert_eq!(m.unit, "{order}");
                        let mut values: Vec<_> = sum
                            .data_points
                            .iter()
                            .map(|p| match p.value {
                                Some(number_data_point::Value::AsInt(v)) => v,
                                other => panic!("{other:?}"),
                            })
                            .collect();
                        values.sort();
                        assert_eq!(values, [1, 3]);
                    }
                    ("checkout.duration", Data::Histogram(h)) => {
                        assert_eq!(m.description, "checkout latency");
                        let p = &h.data_points[0];
                        assert_eq!(p.count, 3);
                        assert!((p.sum.unwrap() - 2.22).abs() < 1e-9);
                        assert_eq!(p.bucket_counts.iter().sum::<u64>(), 3);
                        assert!(!p.explicit_bounds.is_empty());
                        assert_eq!(p.min, Some(0.02));
                        assert_eq!(p.max, Some(2.0));
                    }
                    ("cart.items", Data::Gauge(g)) => {
                        assert_eq!(
                            g.data_points[0].value,
                            Some(number_data_point::Value::AsInt(7))
                        );
                    }
                    (name, data) => panic!("unexpected metric {name}: {data:?}"),
                }
                seen.push(format!("{transport}/{}", m.name));
            }
        }
    }
    assert_eq!(seen.len(), 9, "3 metrics × 3 transports: {seen:?}");
    assert_eq!(engine.stats()["metrics"], 9);
}
