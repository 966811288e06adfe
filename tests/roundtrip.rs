//! Every OTLP field survives the store: full requests (every field set, every value kind, every
//! metric type) are sent over the wire, read back out of SQLite as OTLP, and compared whole.
//! If a field is dropped anywhere between decode and storage, the comparison fails.
//!
//! Not covered, by design: the profiles signal's dictionary indexes (`key_strindex`,
//! `string_value_strindex`), meaningful only inside a profile.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use sightline_store::views;
use sightline_tests::Engine;

fn v(value: Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: v(value),
        ..Default::default()
    }
}

/// One attribute of every kind, nested kinds included.
fn every_kind(prefix: &str) -> Vec<KeyValue> {
    vec![
        kv(
            &format!("{prefix}.str"),
            Value::StringValue("text ✓".into()),
        ),
        kv(&format!("{prefix}.bool"), Value::BoolValue(false)),
        kv(
            &format!("{prefix}.int"),
            Value::IntValue(-9_007_199_254_740_993),
        ),
        kv(&format!("{prefix}.double"), Value::DoubleValue(2.0)),
        kv(
            &format!("{prefix}.inf"),
            Value::DoubleValue(f64::NEG_INFINITY),
        ),
        kv(
            &format!("{prefix}.bytes"),
            Value::BytesValue(vec![0, 1, 254, 255]),
        ),
        kv(
            &format!("{prefix}.array"),
            Value::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(Value::IntValue(1)),
                    },
                    AnyValue {
                        value: Some(Value::StringValue("two".into())),
                    },
                    AnyValue { value: None },
                ],
            }),
        ),
        kv(
            &format!("{prefix}.map"),
            Value::KvlistValue(KeyValueList {
                values: vec![
                    kv("inner", Value::DoubleValue(0.5)),
                    kv(
                        "deeper",
                        Value::KvlistValue(KeyValueList { values: vec![] }),
                    ),
                ],
            }),
        ),
        KeyValue {
            key: format!("{prefix}.empty"),
            value: None,
            ..Default::default()
        },
    ]
}

fn resource() -> Resource {
    Resource {
        attributes: [
            vec![kv("service.name", Value::StringValue("cart".into()))],
            every_kind("res"),
        ]
        .concat(),
        dropped_attributes_count: 3,
        entity_refs: vec![EntityRef {
            schema_url: "https://opentelemetry.io/schemas/1.30.0".into(),
            r#type: "service".into(),
            id_keys: vec!["service.name".into()],
            description_keys: vec!["deployment.environment".into()],
        }],
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "io.opentelemetry.cart".into(),
        version: "2.0.1".into(),
        attributes: every_kind("scope"),
        dropped_attributes_count: 4,
    }
}

fn full_traces() -> ExportTraceServiceRequest {
    let span = |n: u8, parent: Vec<u8>| Span {
        trace_id: vec![0x11; 16],
        span_id: vec![n; 8],
        trace_state: "congo=t61rcWkgMzE".into(),
        parent_span_id: parent,
        flags: 0x301,
        name: format!("span {n}"),
        kind: 5,
        start_time_unix_nano: 1_700_000_000_000_000_001,
        end_time_unix_nano: u64::MAX,
        attributes: every_kind("span"),
        dropped_attributes_count: 5,
        events: vec![Event {
            time_unix_nano: 1_700_000_000_000_000_002,
            name: "exception".into(),
            attributes: every_kind("event"),
            dropped_attributes_count: 6,
        }],
        dropped_events_count: 7,
        links: vec![Link {
            trace_id: vec![0x22; 16],
            span_id: vec![0x33; 8],
            trace_state: "rojo=00f067aa0ba902b7".into(),
            attributes: every_kind("link"),
            dropped_attributes_count: 8,
            flags: 0x101,
        }],
        dropped_links_count: 9,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(resource()),
                scope_spans: vec![
                    ScopeSpans {
                        scope: Some(scope()),
                        spans: vec![span(1, vec![]), span(2, vec![1; 8])],
                        schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
                    },
                    ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: "second".into(),
                            ..Default::default()
                        }),
                        spans: vec![span(3, vec![2; 8])],
                        schema_url: String::new(),
                    },
                ],
                schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
            },
            ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", Value::StringValue("pay".into()))],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope()),
                    spans: vec![span(4, vec![3; 8])],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            },
        ],
    }
}

fn full_logs() -> ExportLogsServiceRequest {
    let record = |body: Option<AnyValue>| LogRecord {
        time_unix_nano: 1_700_000_000_000_000_010,
        observed_time_unix_nano: 1_700_000_000_000_000_011,
        severity_number: 21,
        severity_text: "FATAL".into(),
        body,
        attributes: every_kind("log"),
        dropped_attributes_count: 12,
        flags: 1,
        trace_id: vec![0x11; 16],
        span_id: vec![1; 8],
        event_name: "app.crash".into(),
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records: vec![
                    record(v(Value::StringValue("plain".into()))),
                    record(v(Value::KvlistValue(KeyValueList {
                        values: every_kind("body"),
                    }))),
                    record(v(Value::BytesValue(vec![9, 8, 7]))),
                    record(None),
                ],
                schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
        }],
    }
}

fn exemplars() -> Vec<Exemplar> {
    vec![Exemplar {
        filtered_attributes: every_kind("exemplar"),
        time_unix_nano: 1_700_000_000_000_000_020,
        span_id: vec![1; 8],
        trace_id: vec![0x11; 16],
        value: Some(exemplar::Value::AsDouble(0.25)),
    }]
}

fn full_metrics() -> ExportMetricsServiceRequest {
    let number = |value| NumberDataPoint {
        attributes: every_kind("point"),
        start_time_unix_nano: 1_700_000_000_000_000_000,
        time_unix_nano: 1_700_000_000_000_000_030,
        exemplars: exemplars(),
        flags: 1,
        value: Some(value),
    };
    let metric = |name: &str, data| Metric {
        name: name.into(),
        description: format!("{name} description"),
        unit: "ms".into(),
        metadata: every_kind("metadata"),
        data: Some(data),
    };
    let metrics = vec![
        metric(
            "gauge",
            metric::Data::Gauge(Gauge {
                data_points: vec![
                    number(number_data_point::Value::AsDouble(1.5)),
                    number(number_data_point::Value::AsInt(-3)),
                ],
            }),
        ),
        metric(
            "sum",
            metric::Data::Sum(Sum {
                data_points: vec![number(number_data_point::Value::AsInt(99))],
                aggregation_temporality: 1,
                is_monotonic: true,
            }),
        ),
        metric(
            "histogram",
            metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: every_kind("hist"),
                    start_time_unix_nano: 1,
                    time_unix_nano: 2,
                    count: 6,
                    sum: Some(12.5),
                    bucket_counts: vec![1, 2, 3],
                    explicit_bounds: vec![1.0, 5.0],
                    exemplars: exemplars(),
                    flags: 0,
                    min: Some(0.1),
                    max: Some(9.9),
                }],
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "exponential",
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    attributes: every_kind("exp"),
                    start_time_unix_nano: 3,
                    time_unix_nano: 4,
                    count: 10,
                    sum: Some(100.0),
                    scale: -2,
                    zero_count: 1,
                    positive: Some(Buckets {
                        offset: -1,
                        bucket_counts: vec![4, 5],
                    }),
                    negative: Some(Buckets {
                        offset: 2,
                        bucket_counts: vec![0],
                    }),
                    flags: 1,
                    exemplars: exemplars(),
                    min: Some(-1.0),
                    max: Some(50.0),
                    zero_threshold: 0.001,
                }],
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "summary",
            metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: every_kind("summary"),
                    start_time_unix_nano: 5,
                    time_unix_nano: 6,
                    count: 3,
                    sum: 7.5,
                    quantile_values: vec![
                        ValueAtQuantile {
                            quantile: 0.5,
                            value: 2.0,
                        },
                        ValueAtQuantile {
                            quantile: 0.99,
                            value: 4.0,
                        },
                    ],
                    flags: 0,
                }],
            }),
        ),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics,
                schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.24.0".into(),
        }],
    }
}

/// NaN != NaN, so compare the protobuf encodings, which are exact (and then the structs, for a
/// readable diff when they differ).
fn assert_same<T: Message + PartialEq + std::fmt::Debug>(sent: &T, stored: &T) {
    if sent.encode_to_vec() != stored.encode_to_vec() {
        assert_eq!(sent, stored, "a field was lost or changed in the store");
        panic!("encodings differ although the structs compare equal");
    }
}

#[test]
fn every_trace_field_round_trips() {
    let e = Engine::start();
    let sent = full_traces();
    e.post_protobuf("/v1/traces", sent.encode_to_vec());
    let stored = e.read(|c| views::export_traces(c).unwrap());
    assert_same(&sent, &stored);
}

#[test]
fn every_log_field_round_trips() {
    let e = Engine::start();
    let sent = full_logs();
    e.post_protobuf("/v1/logs", sent.encode_to_vec());
    let stored = e.read(|c| views::export_logs(c).unwrap());
    assert_same(&sent, &stored);
}

#[test]
fn every_metric_field_round_trips() {
    let e = Engine::start();
    let sent = full_metrics();
    e.post_protobuf("/v1/metrics", sent.encode_to_vec());
    let stored = e.read(|c| views::export_metrics(c).unwrap());
    assert_same(&sent, &stored);
}

#[test]
fn the_fixtures_leave_no_field_at_its_default() {
    // Guards the round-trip tests themselves: a new field in the OTLP protos, left at its
    // default here, would round-trip trivially and prove nothing. The JSON form omits nothing
    // (the serde mapping writes every field), so any default-valued leaf shows up.
    fn defaults(path: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    defaults(&format!("{path}.{k}"), v, out)
                }
            }
            serde_json::Value::Array(a) if a.is_empty() => out.push(path.to_owned()),
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    defaults(&format!("{path}[{i}]"), v, out)
                }
            }
            serde_json::Value::String(s) if s.is_empty() => out.push(path.to_owned()),
            serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => out.push(path.to_owned()),
            serde_json::Value::Bool(false) | serde_json::Value::Null => out.push(path.to_owned()),
            _ => {}
        }
    }
    let mut found = Vec::new();
    defaults(
        "traces",
        &serde_json::to_value(full_traces()).unwrap(),
        &mut found,
    );
    defaults(
        "logs",
        &serde_json::to_value(full_logs()).unwrap(),
        &mut found,
    );
    defaults(
        "metrics",
        &serde_json::to_value(full_metrics()).unwrap(),
        &mut found,
    );
    // Deliberate defaults: the every-kind values (false, the empty value, an empty map), a
    // second scope/resource kept minimal, a root span's empty parent, the no-body log, and
    // zero-valued point fields that are meaningful at zero.
    let deliberate = |p: &str| {
        // Attribute sets hold every value kind on purpose, defaults included.
        p.contains("ttributes[")
            || p.contains("metadata[")
            || p.contains("body.kvlistValue")
            || p.contains("resourceSpans[1]")
            || p.contains("scopeSpans[1]")
            || p.contains("spans[0].parentSpanId")
            || p.contains("logRecords[3].body")
            || p.ends_with(".flags")
            || p.contains("negative.bucketCounts")
    };
    let unexpected: Vec<_> = found.into_iter().filter(|p| !deliberate(p)).collect();
    assert!(
        unexpected.is_empty(),
        "fields left at default: {unexpected:#?}"
    );
}
