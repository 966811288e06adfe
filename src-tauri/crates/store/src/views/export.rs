//! OTLP requests rebuilt from the store: the round trip of every field, and what a bundle carries.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use rusqlite::{Connection, Row};
use serde_json::json;

use super::corrupt;
use crate::attrs::{attrs_from_json, value_from_json};
use crate::error::Result;
use crate::span_json::{events_from_json, links_from_json};

fn resource(conn: &Connection, id: i64) -> Result<(Resource, String)> {
    conn.prepare_cached(
        "SELECT attributes, dropped_attributes_count, entity_refs, schema_url
           FROM resources WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok((
            Resource {
                attributes: attrs_from_json(&r.get::<_, String>(0)?),
                dropped_attributes_count: r.get(1)?,
                entity_refs: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
            },
            r.get(3)?,
        ))
    })
    .map_err(Into::into)
}

fn scope(conn: &Connection, id: i64) -> Result<(InstrumentationScope, String)> {
    conn.prepare_cached(
        "SELECT name, version, attributes, dropped_attributes_count, schema_url
           FROM scopes WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok((
            InstrumentationScope {
                name: r.get(0)?,
                version: r.get(1)?,
                attributes: attrs_from_json(&r.get::<_, String>(2)?),
                dropped_attributes_count: r.get(3)?,
            },
            r.get(4)?,
        ))
    })
    .map_err(Into::into)
}

/// Groups rows that arrive ordered by storage into resource → scope → items, the way OTLP nests
/// them: consecutive rows with the same resource and scope share one group.
struct Nester<T> {
    out: Vec<(i64, Vec<ScopeGroup<T>>)>,
}

/// A scope id and its items.
type ScopeGroup<T> = (i64, Vec<T>);

impl<T> Nester<T> {
    fn new() -> Self {
        Self { out: Vec::new() }
    }

    fn push(&mut self, resource_id: i64, scope_id: i64, item: T) {
        match self.out.last_mut() {
            Some((rid, scopes)) if *rid == resource_id => match scopes.last_mut() {
                Some((sid, items)) if *sid == scope_id => items.push(item),
                _ => scopes.push((scope_id, vec![item])),
            },
            _ => self.out.push((resource_id, vec![(scope_id, vec![item])])),
        }
    }
}

/// All stored spans as one request, in arrival order.
pub fn export_traces(conn: &Connection) -> Result<ExportTraceServiceRequest> {
    export_traces_of(conn, None)
}

/// The spans of some traces (their row ids), or all, as one request in arrival order.
pub fn export_traces_of(
    conn: &Connection,
    traces: Option<&[i64]>,
) -> Result<ExportTraceServiceRequest> {
    let filter = match traces {
        Some(_) => "WHERE trace IN (SELECT value FROM json_each(?1))",
        None => "WHERE ?1 IS NULL",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT trace_id, span_id, parent_span_id, trace_state, flags, name, kind,
                start_time_unix_nano, end_time_unix_nano, attributes, dropped_attributes_count,
                events, dropped_events_count, links, dropped_links_count, status_code,
                status_message, resource_id, scope_id
           FROM spans {filter} ORDER BY id"
    ))?;
    let mut nest = Nester::new();
    let mut rows = stmt.query([traces.map(|t| json!(t).to_string())])?;
    while let Some(r) = rows.next()? {
        let span = Span {
            trace_id: r.get(0)?,
            span_id: r.get(1)?,
            parent_span_id: r.get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default(),
            trace_state: r.get(3)?,
            flags: r.get(4)?,
            name: r.get(5)?,
            kind: r.get(6)?,
            start_time_unix_nano: r.get::<_, i64>(7)? as u64,
            end_time_unix_nano: r.get::<_, i64>(8)? as u64,
            attributes: attrs_from_json(&r.get::<_, String>(9)?),
            dropped_attributes_count: r.get(10)?,
            events: events_from_json(&r.get::<_, String>(11)?),
            dropped_events_count: r.get(12)?,
            links: links_from_json(&r.get::<_, String>(13)?),
            dropped_links_count: r.get(14)?,
            status: Some(Status {
                code: r.get(15)?,
                message: r.get(16)?,
            }),
        };
        nest.push(r.get(17)?, r.get(18)?, span);
    }
    let mut resource_spans = Vec::new();
    for (rid, scopes) in nest.out {
        let (res, schema_url) = resource(conn, rid)?;
        let mut scope_spans = Vec::new();
        for (sid, spans) in scopes {
            let (sc, schema_url) = scope(conn, sid)?;
            scope_spans.push(ScopeSpans {
                scope: Some(sc),
                spans,
                schema_url,
            });
        }
        resource_spans.push(ResourceSpans {
            resource: Some(res),
            scope_spans,
            schema_url,
        });
    }
    Ok(ExportTraceServiceRequest { resource_spans })
}

/// All stored logs as one request, in arrival order.
pub fn export_logs(conn: &Connection) -> Result<ExportLogsServiceRequest> {
    export_logs_of(conn, None)
}

/// Some logs (their row ids), or all, as one request in arrival order.
pub fn export_logs_of(conn: &Connection, logs: Option<&[i64]>) -> Result<ExportLogsServiceRequest> {
    let filter = match logs {
        Some(_) => "WHERE id IN (SELECT value FROM json_each(?1))",
        None => "WHERE ?1 IS NULL",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT time_unix_nano, observed_time_unix_nano, severity_number, severity_text, body,
                attributes, dropped_attributes_count, flags, trace_id, span_id, event_name,
                resource_id, scope_id
           FROM logs {filter} ORDER BY id"
    ))?;
    let mut nest = Nester::new();
    let mut rows = stmt.query([logs.map(|l| json!(l).to_string())])?;
    while let Some(r) = rows.next()? {
        let record = LogRecord {
            time_unix_nano: r.get::<_, i64>(0)? as u64,
            observed_time_unix_nano: r.get::<_, i64>(1)? as u64,
            severity_number: r.get(2)?,
            severity_text: r.get(3)?,
            body: r
                .get::<_, Option<String>>(4)?
                .and_then(|b| value_from_json(&b)),
            attributes: attrs_from_json(&r.get::<_, String>(5)?),
            dropped_attributes_count: r.get(6)?,
            flags: r.get(7)?,
            trace_id: r.get::<_, Option<Vec<u8>>>(8)?.unwrap_or_default(),
            span_id: r.get::<_, Option<Vec<u8>>>(9)?.unwrap_or_default(),
            event_name: r.get(10)?,
        };
        nest.push(r.get(11)?, r.get(12)?, record);
    }
    let mut resource_logs = Vec::new();
    for (rid, scopes) in nest.out {
        let (res, schema_url) = resource(conn, rid)?;
        let mut scope_logs = Vec::new();
        for (sid, log_records) in scopes {
            let (sc, schema_url) = scope(conn, sid)?;
            scope_logs.push(ScopeLogs {
                scope: Some(sc),
                log_records,
                schema_url,
            });
        }
        resource_logs.push(ResourceLogs {
            resource: Some(res),
            scope_logs,
            schema_url,
        });
    }
    Ok(ExportLogsServiceRequest { resource_logs })
}

/// Adds one stored point to its metric, decoding the point for the metric's type.
fn push_point(metric: &mut Metric, point: &[u8], attrs: &str) -> Result<()> {
    let attributes = attrs_from_json(attrs);
    match &mut metric.data {
        Some(metric::Data::Gauge(g)) => {
            let mut p = NumberDataPoint::decode(point).map_err(|e| corrupt("gauge point", e))?;
            p.attributes = attributes;
            g.data_points.push(p);
        }
        Some(metric::Data::Sum(s)) => {
            let mut p = NumberDataPoint::decode(point).map_err(|e| corrupt("sum point", e))?;
            p.attributes = attributes;
            s.data_points.push(p);
        }
        Some(metric::Data::Histogram(h)) => {
            let mut p =
                HistogramDataPoint::decode(point).map_err(|e| corrupt("histogram point", e))?;
            p.attributes = attributes;
            h.data_points.push(p);
        }
        Some(metric::Data::ExponentialHistogram(h)) => {
            let mut p = ExponentialHistogramDataPoint::decode(point)
                .map_err(|e| corrupt("exponential histogram point", e))?;
            p.attributes = attributes;
            h.data_points.push(p);
        }
        Some(metric::Data::Summary(s)) => {
            let mut p = SummaryDataPoint::decode(point).map_err(|e| corrupt("summary point", e))?;
            p.attributes = attributes;
            s.data_points.push(p);
        }
        None => {}
    }
    Ok(())
}

fn empty_metric(r: &Row<'_>) -> rusqlite::Result<Metric> {
    let kind: Option<String> = r.get(3)?;
    let temporality: i32 = r.get(4)?;
    let data = match kind.as_deref() {
        Some("gauge") => Some(metric::Data::Gauge(Gauge::default())),
        Some("sum") => Some(metric::Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: temporality,
            is_monotonic: r.get(5)?,
        })),
        Some("histogram") => Some(metric::Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: temporality,
        })),
        Some("exponential_histogram") => {
            Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: Vec::new(),
                aggregation_temporality: temporality,
            }))
        }
        Some("summary") => Some(metric::Data::Summary(Summary::default())),
        _ => None,
    };
    Ok(Metric {
        name: r.get(0)?,
        description: r.get(1)?,
        unit: r.get(2)?,
        metadata: attrs_from_json(&r.get::<_, String>(6)?),
        data,
    })
}

/// All stored metrics as one request: each stream with its points in arrival order; streams in
/// the order they first arrived.
pub fn export_metrics(conn: &Connection) -> Result<ExportMetricsServiceRequest> {
    let mut stmt = conn.prepare(
        "SELECT name, description, unit, type, aggregation_temporality, is_monotonic, metadata,
                id, resource_id, scope_id
           FROM metrics ORDER BY id",
    )?;
    let mut points = conn
        .prepare("SELECT point, attributes FROM metric_points WHERE metric_id = ?1 ORDER BY id")?;
    let mut nest = Nester::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let mut metric = empty_metric(r)?;
        let id: i64 = r.get(7)?;
        let mut prow = points.query([id])?;
        while let Some(p) = prow.next()? {
            push_point(
                &mut metric,
                &p.get::<_, Vec<u8>>(0)?,
                &p.get::<_, String>(1)?,
            )?;
        }
        nest.push(r.get(8)?, r.get(9)?, metric);
    }
    let mut resource_metrics = Vec::new();
    for (rid, scopes) in nest.out {
        let (res, schema_url) = resource(conn, rid)?;
        let mut scope_metrics = Vec::new();
        for (sid, metrics) in scopes {
            let (sc, schema_url) = scope(conn, sid)?;
            scope_metrics.push(ScopeMetrics {
                scope: Some(sc),
                metrics,
                schema_url,
            });
        }
        resource_metrics.push(ResourceMetrics {
            resource: Some(res),
            scope_metrics,
            schema_url,
        });
    }
    Ok(ExportMetricsServiceRequest { resource_metrics })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, TRACE};

    #[test]
    fn stored_spans_and_logs_come_back_as_otlp() {
        let traces = read(export_traces);
        let spans: Vec<&Span> = traces
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect();
        assert_eq!(spans.len(), 3);
        let card = spans.iter().find(|s| s.name == "authorize card").unwrap();
        assert_eq!(card.trace_id, TRACE);
        assert_eq!(card.parent_span_id, vec![1; 8]);
        assert_eq!(card.status.as_ref().unwrap().message, "card_declined");
        assert_eq!(
            traces.resource_spans[0].scope_spans[0]
                .scope
                .as_ref()
                .unwrap()
                .name,
            "checkout"
        );
        let logs = read(export_logs);
        let records: Vec<_> = logs
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .collect();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].severity_number, 17);
        assert_eq!(read(export_metrics).resource_metrics.len(), 0);
    }
}
