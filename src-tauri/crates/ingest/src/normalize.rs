//! OTLP requests into store rows: validation (what cannot be stored is counted and explained,
//! the rest is kept), attribute encoding, service names and session ids.
//!
//! Runs on the request's task, so the work spreads over the runtime's threads and the single
//! writer only inserts.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, Gauge, Metric, Sum};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sightline_store::attrs::{attrs_to_json, value_to_json};
use sightline_store::model::{Batch, LogRow, MetricRow, PointRow, ResourceRow, ScopeRow, SpanRow};
use sightline_store::redact::redacted;
use sightline_store::span_json::{events_to_json, links_to_json};

use crate::facts::record_facts;
use crate::session::session_for;

/// Rows to store, and what was refused with the first reason.
#[derive(Debug, Default)]
pub struct Normalized {
    pub batch: Batch,
    pub rejected: i64,
    pub first_rejection: Option<String>,
}

impl Normalized {
    fn reject(&mut self, count: i64, reason: impl FnOnce() -> String) {
        if self.first_rejection.is_none() {
            self.first_rejection = Some(reason());
        }
        self.rejected += count;
    }

    /// The English message for OTLP's `partial_success.error_message`.
    pub fn rejection_message(&self, what: &str) -> String {
        match &self.first_rejection {
            Some(first) if self.rejected > 1 => {
                format!("{} {what} rejected; the first: {first}", self.rejected)
            }
            Some(first) => format!("1 {what} rejected: {first}"),
            None => String::new(),
        }
    }
}

fn service_name(attrs: &[KeyValue]) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
}

fn push_resource(batch: &mut Batch, resource: Option<&Resource>, schema_url: &str) -> usize {
    let empty = Resource::default();
    let r = resource.unwrap_or(&empty);
    batch.resources.push(ResourceRow::new(
        attrs_to_json(&r.attributes),
        r.dropped_attributes_count,
        serde_json::to_string(&r.entity_refs).unwrap_or_else(|_| "[]".into()),
        schema_url.to_owned(),
        service_name(&r.attributes),
    ));
    batch.resources.len() - 1
}

fn push_scope(batch: &mut Batch, scope: Option<&InstrumentationScope>, schema_url: &str) -> usize {
    let empty = InstrumentationScope::default();
    let s = scope.unwrap_or(&empty);
    batch.scopes.push(ScopeRow::new(
        s.name.clone(),
        s.version.clone(),
        attrs_to_json(&s.attributes),
        s.dropped_attributes_count,
        schema_url.to_owned(),
    ));
    batch.scopes.len() - 1
}

/// A non-zero id of exactly `N` bytes.
fn id<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    let id: [u8; N] = bytes.try_into().ok()?;
    (id != [0; N]).then_some(id)
}

/// An optional id: empty or all zeros is "none"; any other length is invalid.
fn optional_id<const N: usize>(bytes: &[u8]) -> Result<Option<[u8; N]>, ()> {
    if bytes.is_empty() || bytes.iter().all(|b| *b == 0) {
        return Ok(None);
    }
    bytes.try_into().map(Some).map_err(|_| ())
}

pub fn traces(req: &ExportTraceServiceRequest) -> Normalized {
    let mut out = Normalized::default();
    for rs in &req.resource_spans {
        let resource = push_resource(&mut out.batch, rs.resource.as_ref(), &rs.schema_url);
        let resource_attrs = rs
            .resource
            .as_ref()
            .map(|r| &r.attributes[..])
            .unwrap_or(&[]);
        for ss in &rs.scope_spans {
            let scope = push_scope(&mut out.batch, ss.scope.as_ref(), &ss.schema_url);
            for span in &ss.spans {
                let Some(trace_id) = id::<16>(&span.trace_id) else {
                    out.reject(1, || {
                        format!(
                            "span {:?} has an invalid trace id ({} bytes; must be 16, not all zero)",
                            span.name,
                            span.trace_id.len()
                        )
                    });
                    continue;
                };
                let Some(span_id) = id::<8>(&span.span_id) else {
                    out.reject(1, || {
                        format!(
                            "span {:?} has an invalid span id ({} bytes; must be 8, not all zero)",
                            span.name,
                            span.span_id.len()
                        )
                    });
                    continue;
                };
                let Ok(parent_span_id) = optional_id::<8>(&span.parent_span_id) else {
                    out.reject(1, || {
                        format!(
                            "span {:?} has an invalid parent span id ({} bytes; must be 8 or empty)",
                            span.name,
                            span.parent_span_id.len()
                        )
                    });
                    continue;
                };
                let status = span.status.clone().unwrap_or_default();
                out.batch.spans.push(SpanRow {
                    resource,
                    scope,
                    trace_id,
                    span_id,
                    parent_span_id,
                    trace_state: span.trace_state.clone(),
                    flags: span.flags,
                    // Names and messages are free text: a card or a token in a URL path or
                    // an error message is redacted like one in an attribute.
                    name: redacted(span.name.clone()),
                    kind: span.kind,
                    start_time_unix_nano: span.start_time_unix_nano,
                    end_time_unix_nano: span.end_time_unix_nano,
                    attributes: attrs_to_json(&span.attributes),
                    dropped_attributes_count: span.dropped_attributes_count,
                    events: events_to_json(&span.events),
                    dropped_events_count: span.dropped_events_count,
                    links: links_to_json(&span.links),
                    dropped_links_count: span.dropped_links_count,
                    status_code: status.code,
                    status_message: redacted(status.message),
                    session_id: session_for(&span.attributes, resource_attrs),
                    incident_id: None,
                    facts: record_facts(&span.attributes, resource_attrs),
                });
            }
        }
    }
    out
}

/// Log records, and the session replay some of them carry (see [`crate::log_replay`]), which
/// becomes replay batches. `received_ms` stamps those batches.
pub fn logs(req: &ExportLogsServiceRequest, received_ms: i64) -> Normalized {
    let mut out = Normalized::default();
    let mut replay = crate::log_replay::Collector::default();
    for rl in &req.resource_logs {
        let resource = push_resource(&mut out.batch, rl.resource.as_ref(), &rl.schema_url);
        let resource_attrs = rl
            .resource
            .as_ref()
            .map(|r| &r.attributes[..])
            .unwrap_or(&[]);
        for sl in &rl.scope_logs {
            let scope = push_scope(&mut out.batch, sl.scope.as_ref(), &sl.schema_url);
            for log in &sl.log_records {
                if replay.offer(log, resource_attrs) == crate::log_replay::Offered::Taken {
                    continue;
                }
                let Ok(trace_id) = optional_id::<16>(&log.trace_id) else {
                    out.reject(1, || {
                        format!(
                            "a log record has an invalid trace id ({} bytes; must be 16 or empty)",
                            log.trace_id.len()
                        )
                    });
                    continue;
                };
                let Ok(span_id) = optional_id::<8>(&log.span_id) else {
                    out.reject(1, || {
                        format!(
                            "a log record has an invalid span id ({} bytes; must be 8 or empty)",
                            log.span_id.len()
                        )
                    });
                    continue;
                };
                out.batch.logs.push(LogRow {
                    resource,
                    scope,
                    // 0 means "unknown" (OTLP); the time it was observed is the best known
                    // (tracing's OpenTelemetry bridge sends only that), so the record sorts and
                    // filters by time like the others instead of landing in 1970.
                    time_unix_nano: if log.time_unix_nano == 0 {
                        log.observed_time_unix_nano
                    } else {
                        log.time_unix_nano
                    },
                    observed_time_unix_nano: log.observed_time_unix_nano,
                    severity_number: log.severity_number,
                    severity_text: log.severity_text.clone(),
                    body: log.body.as_ref().map(|b| value_to_json(Some(b))),
                    attributes: attrs_to_json(&log.attributes),
                    dropped_attributes_count: log.dropped_attributes_count,
                    flags: log.flags,
                    trace_id,
                    span_id,
                    event_name: log.event_name.clone(),
                    session_id: session_for(&log.attributes, resource_attrs),
                    incident_id: None,
                    facts: record_facts(&log.attributes, resource_attrs),
                });
            }
        }
    }
    let carried = replay.finish(received_ms);
    out.batch.replay.extend(carried.chunks);
    if let Some(reason) = carried.first_rejection {
        out.reject(carried.rejected, || reason);
    }
    out
}

fn point_count(m: &Metric) -> usize {
    match &m.data {
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

/// A point row: the point's protobuf without its attributes, which get their own column.
fn point_row<P: Message + Clone>(
    metric: usize,
    point: &P,
    attributes: &[KeyValue],
    clear: impl FnOnce(&mut P),
    times: (u64, u64),
    numbers: (Option<f64>, Option<u64>, Option<f64>),
) -> PointRow {
    let mut bare = point.clone();
    clear(&mut bare);
    PointRow {
        metric,
        time_unix_nano: times.0,
        start_time_unix_nano: times.1,
        attributes: attrs_to_json(attributes),
        value: numbers.0,
        count: numbers.1,
        sum: numbers.2,
        point: bare.encode_to_vec(),
    }
}

pub fn metrics(req: &ExportMetricsServiceRequest) -> Normalized {
    let mut out = Normalized::default();
    for rm in &req.resource_metrics {
        let resource = push_resource(&mut out.batch, rm.resource.as_ref(), &rm.schema_url);
        for sm in &rm.scope_metrics {
            let scope = push_scope(&mut out.batch, sm.scope.as_ref(), &sm.schema_url);
            for m in &sm.metrics {
                if m.name.is_empty() {
                    out.reject(point_count(m) as i64, || {
                        "a metric has no name (OTLP requires one)".to_owned()
                    });
                    continue;
                }
                let (kind, temporality, monotonic) = match &m.data {
                    Some(metric::Data::Gauge(_)) => (Some("gauge"), 0, false),
                    Some(metric::Data::Sum(s)) => {
                        (Some("sum"), s.aggregation_temporality, s.is_monotonic)
                    }
                    Some(metric::Data::Histogram(h)) => {
                        (Some("histogram"), h.aggregation_temporality, false)
                    }
                    Some(metric::Data::ExponentialHistogram(h)) => (
                        Some("exponential_histogram"),
                        h.aggregation_temporality,
                        false,
                    ),
                    Some(metric::Data::Summary(_)) => (Some("summary"), 0, false),
                    None => (None, 0, false),
                };
                out.batch.metrics.push(MetricRow::new(
                    resource,
                    scope,
                    m.name.clone(),
                    m.description.clone(),
                    m.unit.clone(),
                    kind,
                    temporality,
                    monotonic,
                    attrs_to_json(&m.metadata),
                ));
                let idx = out.batch.metrics.len() - 1;
                let points = &mut out.batch.points;
                match &m.data {
                    Some(metric::Data::Gauge(Gauge { data_points }))
                    | Some(metric::Data::Sum(Sum { data_points, .. })) => {
                        for p in data_points {
                            let value = match p.value {
                                Some(number_data_point::Value::AsDouble(d)) => Some(d),
                                Some(number_data_point::Value::AsInt(i)) => Some(i as f64),
                                None => None,
                            };
                            points.push(point_row(
                                idx,
                                p,
                                &p.attributes,
                                |b| b.attributes.clear(),
                                (p.time_unix_nano, p.start_time_unix_nano),
                                (value, None, None),
                            ));
                        }
                    }
                    Some(metric::Data::Histogram(h)) => {
                        for p in &h.data_points {
                            points.push(point_row(
                                idx,
                                p,
                                &p.attributes,
                                |b| b.attributes.clear(),
                                (p.time_unix_nano, p.start_time_unix_nano),
                                (None, Some(p.count), p.sum),
                            ));
                        }
                    }
                    Some(metric::Data::ExponentialHistogram(h)) => {
                        for p in &h.data_points {
                            points.push(point_row(
                                idx,
                                p,
                                &p.attributes,
                                |b| b.attributes.clear(),
                                (p.time_unix_nano, p.start_time_unix_nano),
                                (None, Some(p.count), p.sum),
                            ));
                        }
                    }
                    Some(metric::Data::Summary(s)) => {
                        for p in &s.data_points {
                            points.push(point_row(
                                idx,
                                p,
                                &p.attributes,
                                |b| b.attributes.clear(),
                                (p.time_unix_nano, p.start_time_unix_nano),
                                (None, Some(p.count), Some(p.sum)),
                            ));
                        }
                    }
                    None => {}
                }
            }
        }
    }
    out
}
