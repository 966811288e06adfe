//! Read queries: the API's views of stored data, and OTLP requests rebuilt from the store.

use std::path::Path;

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
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value as Json};

use crate::attrs::{attrs_from_json, value_from_json};
use crate::error::{Result, StoreError};
use crate::filter_sql::{split_page, Clauses};
use crate::span_json::{events_from_json, links_from_json};

pub(crate) fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

fn hex_opt(bytes: Option<Vec<u8>>) -> String {
    bytes.map(hex::encode).unwrap_or_default()
}

/// Counts per signal and the database's size on disk.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub spans: i64,
    pub traces: i64,
    pub logs: i64,
    pub metrics: i64,
    pub metric_points: i64,
    pub resources: i64,
    /// Every session id seen, recorded or only named on backend spans and logs.
    pub sessions: i64,
    /// Sessions with a recording (what the Sessions list shows).
    pub recorded_sessions: i64,
    /// The main file plus its write-ahead log.
    pub database_bytes: u64,
}

pub fn stats(conn: &Connection, path: &Path) -> Result<Stats> {
    let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let file_len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let counter = |name: &str| -> Result<i64> {
        Ok(conn
            .prepare_cached("SELECT value FROM counters WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    };
    Ok(Stats {
        spans: counter("spans")?,
        traces: count("SELECT count(*) FROM traces WHERE span_count > 0")?,
        logs: counter("logs")?,
        metrics: count("SELECT count(*) FROM metrics")?,
        metric_points: counter("metric_points")?,
        resources: count("SELECT count(*) FROM resources")?,
        sessions: count("SELECT count(*) FROM known_sessions")?,
        recorded_sessions: count("SELECT count(*) FROM sessions")?,
        database_bytes: file_len(path) + file_len(Path::new(&wal)),
    })
}

/// What arrived since a moment (the tray's "today"): recorded sessions, traces, and traces
/// with an error span. Each is a range over a start-time index.
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy, Default)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub sessions: i64,
    pub traces: i64,
    pub failed_traces: i64,
}

pub fn activity_since(conn: &Connection, since_ms: i64) -> Result<Activity> {
    let since_ns = since_ms.saturating_mul(1_000_000);
    let sessions = conn
        .prepare_cached("SELECT count(*) FROM sessions WHERE coalesce(first_seen_ms, 0) >= ?1")?
        .query_row([since_ms], |r| r.get(0))?;
    let (traces, failed_traces) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(error_count > 0), 0) FROM traces
             WHERE start_time_unix_nano >= ?1",
        )?
        .query_row([since_ns], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Activity {
        sessions,
        traces,
        failed_traces,
    })
}

/// The recorded user of each of `sessions` that has one.
pub fn session_users(
    conn: &Connection,
    sessions: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM sessions WHERE session_id = ?1 AND user_id IS NOT NULL",
    )?;
    let mut out = std::collections::HashMap::new();
    for id in sessions {
        if out.contains_key(id) {
            continue;
        }
        if let Some(user) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
            out.insert(id.clone(), user);
        }
    }
    Ok(out)
}

/// The incident window each trace's browser request was recorded in, for the traces that have
/// one.
pub fn trace_incidents(
    conn: &Connection,
    traces: &[[u8; 16]],
) -> Result<std::collections::HashMap<[u8; 16], String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT incident_id FROM session_events
          WHERE trace_id = ?1 AND incident_id IS NOT NULL LIMIT 1",
    )?;
    let mut out = std::collections::HashMap::new();
    for trace in traces {
        if let Some(id) = stmt
            .query_row([hex::encode(trace)], |r| r.get::<_, String>(0))
            .optional()?
        {
            out.insert(*trace, id);
        }
    }
    Ok(out)
}

const SPAN_COLUMNS: &str =
    "s.trace_id, s.span_id, s.parent_span_id, s.trace_state, s.flags, s.name,
     s.kind, s.start_time_unix_nano, s.end_time_unix_nano, s.attributes,
     s.dropped_attributes_count, s.events, s.dropped_events_count, s.links, s.dropped_links_count,
     s.status_code, s.status_message, s.service_name, coalesce(s.session_id, t.session_id),
     s.resource_id, c.name, c.version, s.incident_id";

/// A span as the API gives it. Attribute sets, events and links are stored as JSON and go out
/// as they are (checked, not rebuilt): a 20,000-span trace is mostly these.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanView {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    trace_state: String,
    flags: u32,
    name: String,
    kind: i32,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Box<RawValue>,
    dropped_attributes_count: u32,
    events: Box<RawValue>,
    dropped_events_count: u32,
    links: Box<RawValue>,
    dropped_links_count: u32,
    status: SpanStatus,
    service_name: Option<String>,
    session_id: Option<String>,
    resource_id: String,
    scope: SpanScope,
    /// The incident window the span was captured in.
    incident_id: Option<String>,
    #[serde(skip)]
    resource_row: i64,
}

#[derive(Debug, Serialize)]
struct SpanStatus {
    code: i32,
    message: String,
}

#[derive(Debug, Serialize)]
struct SpanScope {
    name: String,
    version: String,
}

/// Stored JSON as it is; `null` if it is somehow not JSON (it always is: the writer made it).
fn raw_json(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| null_json())
}

fn null_json() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).expect("null is JSON")
}

fn span_view(row: &Row<'_>) -> rusqlite::Result<SpanView> {
    let resource_row: i64 = row.get(19)?;
    Ok(SpanView {
        trace_id: hex::encode(row.get::<_, Vec<u8>>(0)?),
        span_id: hex::encode(row.get::<_, Vec<u8>>(1)?),
        parent_span_id: hex_opt(row.get(2)?),
        trace_state: row.get(3)?,
        flags: row.get(4)?,
        name: row.get(5)?,
        kind: row.get(6)?,
        start_time_unix_nano: (row.get::<_, i64>(7)? as u64).to_string(),
        end_time_unix_nano: (row.get::<_, i64>(8)? as u64).to_string(),
        attributes: raw_json(row.get(9)?),
        dropped_attributes_count: row.get(10)?,
        events: raw_json(row.get(11)?),
        dropped_events_count: row.get(12)?,
        links: raw_json(row.get(13)?),
        dropped_links_count: row.get(14)?,
        status: SpanStatus {
            code: row.get(15)?,
            message: row.get(16)?,
        },
        service_name: row.get(17)?,
        session_id: row.get(18)?,
        resource_id: resource_row.to_string(),
        scope: SpanScope {
            name: row.get(20)?,
            version: row.get(21)?,
        },
        incident_id: row.get(22)?,
        resource_row,
    })
}

/// One trace: its spans in start order, each resource once, its logs and the sessions it
/// belongs to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceView {
    pub trace_id: String,
    pub session_id: Option<String>,
    pub spans: Vec<SpanView>,
    pub resources: serde_json::Map<String, Json>,
    pub logs: Vec<Json>,
    pub sessions: Vec<Json>,
}

const LOG_COLUMNS: &str = "l.time_unix_nano, l.observed_time_unix_nano, l.severity_number,
     l.severity_text, l.body, l.attributes, l.dropped_attributes_count, l.flags, l.trace_id,
     l.span_id, l.event_name, l.service_name, coalesce(l.session_id, t.session_id), l.incident_id";

fn log_view(row: &Row<'_>) -> rusqlite::Result<Json> {
    Ok(json!({
        "timeUnixNano": (row.get::<_, i64>(0)? as u64).to_string(),
        "observedTimeUnixNano": (row.get::<_, i64>(1)? as u64).to_string(),
        "severityNumber": row.get::<_, i32>(2)?,
        "severityText": row.get::<_, String>(3)?,
        "body": row.get::<_, Option<String>>(4)?.map(|b| parse_json(&b)).unwrap_or(Json::Null),
        "attributes": parse_json(&row.get::<_, String>(5)?),
        "droppedAttributesCount": row.get::<_, u32>(6)?,
        "flags": row.get::<_, u32>(7)?,
        "traceId": hex_opt(row.get(8)?),
        "spanId": hex_opt(row.get(9)?),
        "eventName": row.get::<_, String>(10)?,
        "serviceName": row.get::<_, Option<String>>(11)?,
        "sessionId": row.get::<_, Option<String>>(12)?,
        "incidentId": row.get::<_, Option<String>>(13)?,
    }))
}

/// One trace for the API: its spans (in start order) and the logs that carry its id.
/// `None` when nothing of the trace is stored.
pub fn trace_view(conn: &Connection, trace_id: &[u8; 16]) -> Result<Option<TraceView>> {
    let Some((row, session_id)) = conn
        .prepare_cached("SELECT id, session_id FROM traces WHERE trace_id = ?1")?
        .query_row([&trace_id[..]], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SPAN_COLUMNS} FROM spans s
           JOIN scopes c ON c.id = s.scope_id
           JOIN traces t ON t.id = s.trace
          WHERE s.trace = ?1
          ORDER BY s.start_time_unix_nano, s.id"
    ))?;
    let spans = stmt
        .query_map([row], span_view)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Each resource once, as Jaeger's `processes` do: a service's resource is the same on all
    // its spans, and repeating it made a 20,000-span answer several times larger.
    let mut resources = serde_json::Map::new();
    let mut stmt = conn.prepare_cached(
        "SELECT attributes, dropped_attributes_count, schema_url, service_name
           FROM resources WHERE id = ?1",
    )?;
    for span in &spans {
        if resources.contains_key(&span.resource_id) {
            continue;
        }
        let resource = stmt.query_row([span.resource_row], |r| {
            Ok(json!({
                "attributes": parse_json(&r.get::<_, String>(0)?),
                "droppedAttributesCount": r.get::<_, u32>(1)?,
                "schemaUrl": r.get::<_, String>(2)?,
                "serviceName": r.get::<_, Option<String>>(3)?,
            }))
        })?;
        resources.insert(span.resource_id.clone(), resource);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LOG_COLUMNS} FROM logs l LEFT JOIN traces t ON t.id = l.trace
          WHERE l.trace = ?1 ORDER BY l.time_unix_nano, l.id"
    ))?;
    let logs = stmt
        .query_map([row], log_view)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if spans.is_empty() && logs.is_empty() {
        return Ok(None);
    }
    Ok(Some(TraceView {
        trace_id: hex::encode(trace_id),
        session_id,
        spans,
        resources,
        logs,
        sessions: trace_sessions(conn, trace_id)?,
    }))
}

// ---- Rebuilding OTLP requests: the store's round-trip, and later the exporter's source. ----

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

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
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

/// Whether a trace id has any stored span (used by tests and the importer).
pub fn has_trace(conn: &Connection, trace_id: &[u8; 16]) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM spans WHERE trace_id = ?1 LIMIT 1",
            [&trace_id[..]],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

// ---- Session replay ----

/// A session's summary row, as the API shows it; `None` if the session is unknown.
pub fn session_view(conn: &Connection, session_id: &str) -> Result<Option<Json>> {
    let row = conn
        .prepare_cached(
            "SELECT session_id, first_seen_ms, last_seen_ms, user_id, user_email, start_url,
                    user_agent, viewport, attributes, event_count, batch_count, raw_bytes,
                    stored_bytes, error_count, frustration_score, failed_request_count,
                    client_error_count,
                    (SELECT count(*) FROM trace_sessions m JOIN traces t ON t.id = m.trace
                      WHERE m.session_id = sessions.session_id AND t.error_count > 0)
               FROM sessions WHERE session_id = ?1",
        )?
        .query_row([session_id], |r| {
            Ok(json!({
                "sessionId": r.get::<_, String>(0)?,
                "firstSeenMs": r.get::<_, Option<i64>>(1)?,
                "lastSeenMs": r.get::<_, Option<i64>>(2)?,
                "userId": r.get::<_, Option<String>>(3)?,
                "userEmail": r.get::<_, Option<String>>(4)?,
                "startUrl": r.get::<_, Option<String>>(5)?,
                "userAgent": r.get::<_, Option<String>>(6)?,
                "viewport": r.get::<_, Option<String>>(7)?.map(|v| parse_json(&v)),
                "attributes": parse_json(&r.get::<_, String>(8)?),
                "eventCount": r.get::<_, i64>(9)?,
                "batchCount": r.get::<_, i64>(10)?,
                "rawBytes": r.get::<_, i64>(11)?,
                "storedBytes": r.get::<_, i64>(12)?,
                "errorCount": r.get::<_, i64>(13)?,
                "frustrationScore": r.get::<_, f64>(14)?,
                "failedRequestCount": r.get::<_, i64>(15)?,
                "clientErrorCount": r.get::<_, i64>(16)?,
                "failingTraceCount": r.get::<_, i64>(17)?,
            }))
        })
        .optional()?;
    let Some(mut session) = row else {
        return Ok(None);
    };
    let pages: Vec<Json> = conn
        .prepare_cached(
            "SELECT url, first_seen_ms FROM session_pages WHERE session_id = ?1
              ORDER BY first_seen_ms, url",
        )?
        .query_map([session_id], |r| {
            Ok(json!({ "url": r.get::<_, String>(0)?, "firstSeenMs": r.get::<_, i64>(1)? }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    session["pages"] = Json::Array(pages);
    session["pinned"] = conn
        .prepare_cached("SELECT pinned_ms, note FROM pinned_sessions WHERE session_id = ?1")?
        .query_row([session_id], |r| {
            Ok(json!({ "pinnedMs": r.get::<_, i64>(0)?, "note": r.get::<_, Option<String>>(1)? }))
        })
        .optional()?
        .unwrap_or(Json::Null);
    // Where an imported session came from (the first bundle that brought it).
    session["importedFrom"] = conn
        .prepare_cached(
            "SELECT i.file_name, i.imported_ms, i.exported_ms, i.source, i.checksum
               FROM session_imports si JOIN imports i ON i.checksum = si.checksum
              WHERE si.session_id = ?1 ORDER BY i.imported_ms LIMIT 1",
        )?
        .query_row([session_id], |r| {
            Ok(json!({
                "fileName": r.get::<_, String>(0)?, "importedMs": r.get::<_, i64>(1)?,
                "exportedMs": r.get::<_, Option<i64>>(2)?, "source": r.get::<_, Option<String>>(3)?,
                "checksum": r.get::<_, String>(4)?,
            }))
        })
        .optional()?
        .unwrap_or(Json::Null);
    Ok(Some(session))
}

/// Decompresses one stored chunk. The stored raw size bounds the output, so a corrupt chunk
/// cannot make a read allocate without limit.
pub fn chunk_events(data: &[u8], raw_bytes: i64) -> Result<Vec<Json>> {
    let json = zstd::bulk::decompress(data, raw_bytes.max(0) as usize)
        .map_err(|e| corrupt("replay chunk", e))?;
    match serde_json::from_slice(&json) {
        Ok(Json::Array(events)) => Ok(events),
        Ok(_) => Err(corrupt("replay chunk", "not a JSON array")),
        Err(e) => Err(corrupt("replay chunk", e)),
    }
}

/// A session's rrweb events in batch order (the order the recorder produced them, whatever
/// order the batches arrived in).
pub fn replay_events(conn: &Connection, session_id: &str) -> Result<Vec<Json>> {
    let mut stmt = conn.prepare_cached(
        "SELECT data, raw_bytes FROM replay_chunks WHERE session_id = ?1 ORDER BY batch",
    )?;
    let mut rows = stmt.query([session_id])?;
    let mut events = Vec::new();
    while let Some(r) = rows.next()? {
        events.extend(chunk_events(&r.get::<_, Vec<u8>>(0)?, r.get(1)?)?);
    }
    Ok(events)
}

/// A session's full snapshots: (timestamp, batch, index in the batch), in time order.
pub fn replay_checkpoints(conn: &Connection, session_id: &str) -> Result<Vec<(i64, i64, i64)>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, batch, event_index FROM replay_checkpoints WHERE session_id = ?1
          ORDER BY timestamp_ms, batch, event_index",
    )?
    .query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// A session's frustration signals, in time order.
pub fn frustration_signals(conn: &Connection, session_id: &str) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, kind, score, target, reason, evidence, source FROM frustration_signals
          WHERE session_id = ?1 ORDER BY timestamp_ms, id",
    )?
    .query_map([session_id], |r| {
        Ok(json!({
            "timestampMs": r.get::<_, i64>(0)?,
            "kind": r.get::<_, String>(1)?,
            "score": r.get::<_, f64>(2)?,
            "target": r.get::<_, Option<String>>(3)?,
            "reason": r.get::<_, String>(4)?,
            "evidence": parse_json(&r.get::<_, String>(5)?),
            "source": r.get::<_, String>(6)?,
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// A session's indexed events (page views, clicks, requests, …), in time order.
pub fn session_events(conn: &Connection, session_id: &str) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, kind, target, level, trace_id, span_id, data FROM session_events
          WHERE session_id = ?1 AND kind NOT IN ('dom', 'scroll', 'focus', 'selection', 'frustration')
          ORDER BY timestamp_ms, id",
    )?
    .query_map([session_id], |r| {
        Ok(json!({
            "timestampMs": r.get::<_, i64>(0)?,
            "kind": r.get::<_, String>(1)?,
            "target": r.get::<_, Option<String>>(2)?,
            "level": r.get::<_, Option<String>>(3)?,
            "traceId": r.get::<_, Option<String>>(4)?,
            "spanId": r.get::<_, Option<String>>(5)?,
            "data": parse_json(&r.get::<_, String>(6)?),
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// The events a player needs to show `[from_ms, to_ms]` of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayWindow {
    /// The full snapshot playback starts from, if the session has one at or before `from_ms`.
    pub checkpoint_ms: Option<i64>,
    pub events: Vec<Json>,
    /// Chunks decompressed to answer: the cost of the seek.
    pub chunks_decoded: usize,
}

const RRWEB_META: i64 = 4;

/// Seeks: starts at the last full snapshot at or before `from_ms` (with the meta event that
/// announces it), so reaching minute 40 decodes only the chunks from that snapshot on, not
/// the whole session.
pub fn replay_window(
    conn: &Connection,
    session_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<ReplayWindow> {
    let checkpoint: Option<(i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT timestamp_ms, batch, event_index FROM replay_checkpoints
              WHERE session_id = ?1 AND timestamp_ms <= ?2
              ORDER BY timestamp_ms DESC, batch DESC, event_index DESC LIMIT 1",
        )?
        .query_row(rusqlite::params![session_id, from_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (start_batch, start_index) = checkpoint.map(|(_, b, i)| (b, i)).unwrap_or((i64::MIN, 0));
    let mut stmt = conn.prepare_cached(
        "SELECT batch, data, raw_bytes FROM replay_chunks
          WHERE session_id = ?1 AND batch >= ?2 AND first_ms <= ?3
          ORDER BY batch",
    )?;
    let mut rows = stmt.query(rusqlite::params![session_id, start_batch, to_ms])?;
    let mut events = Vec::new();
    let mut chunks_decoded = 0;
    while let Some(r) = rows.next()? {
        let batch: i64 = r.get(0)?;
        let mut chunk = chunk_events(&r.get::<_, Vec<u8>>(1)?, r.get(2)?)?;
        chunks_decoded += 1;
        if batch == start_batch {
            let mut skip = start_index.max(0) as usize;
            // rrweb announces each full snapshot with a meta event (page URL, viewport).
            if skip > 0 && chunk.get(skip - 1).and_then(|e| e["type"].as_i64()) == Some(RRWEB_META)
            {
                skip -= 1;
            }
            chunk.drain(..skip.min(chunk.len()));
        }
        events.extend(
            chunk
                .into_iter()
                .filter(|e| e["timestamp"].as_f64().is_some_and(|t| t <= to_ms as f64)),
        );
    }
    Ok(ReplayWindow {
        checkpoint_ms: checkpoint.map(|(t, _, _)| t),
        events,
        chunks_decoded,
    })
}

/// Filters for the session list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub user: Option<String>,
    /// A URL the session visited (substring match).
    pub url: Option<String>,
    pub has_error: Option<bool>,
    pub min_frustration: Option<f64>,
    pub has_backend_traces: Option<bool>,
    /// Sessions active at or after / before these times (Unix ms).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Free text over user, email, start URL and session id.
    pub text: Option<String>,
    /// Only sessions with something captured in an incident window: that one, or any.
    pub incident: Option<IncidentFilter>,
}

/// Where a page of sessions ends: (first seen ms, session id) of its last row.
pub type SessionCursor = (i64, String);

/// The conditions a session (`s`) meets to pass `filter`.
fn session_clauses(filter: &SessionFilter) -> Clauses {
    let mut c = Clauses::new("1 = 1");
    if let Some(user) = &filter.user {
        let (a, b) = (c.arg(user.clone()), c.arg(user.clone()));
        c.push(format!("(s.user_id = {a} OR s.user_email = {b})"));
    }
    if let Some(url) = &filter.url {
        let a = c.arg(format!("%{url}%"));
        // The matching visits are found in one pass; the unary + keeps the planner walking
        // sessions in list order (a page stops early) instead of sorting every match.
        c.push(format!(
            "+s.session_id IN (SELECT p.session_id FROM session_pages p WHERE p.url LIKE {a})"
        ));
    }
    // Errors as users mean them: a page error, a failed request (5xx or no answer), or a
    // backend trace that failed. A 4xx alone is a client error, not an error of the session.
    let has_error = "(s.error_count > 0 OR s.failed_request_count > 0
          OR EXISTS (SELECT 1 FROM trace_sessions m JOIN traces t ON t.id = m.trace
                      WHERE m.session_id = s.session_id AND t.error_count > 0))";
    match filter.has_error {
        Some(true) => c.push(has_error),
        Some(false) => c.push(format!("NOT {has_error}")),
        None => {}
    }
    if let Some(min) = filter.min_frustration {
        let a = c.arg(min);
        c.push(format!("s.frustration_score >= {a}"));
    }
    if let Some(want) = filter.has_backend_traces {
        c.push(format!(
            "{} EXISTS (SELECT 1 FROM trace_sessions m JOIN traces t ON t.id = m.trace
                         WHERE m.session_id = s.session_id AND t.span_count > 0)",
            if want { "" } else { "NOT" }
        ));
    }
    // A session overlaps the range: it ended after its start and began before its end.
    if let Some(from) = filter.from_ms {
        let a = c.arg(from);
        c.push(format!("s.last_seen_ms >= {a}"));
    }
    if let Some(to) = filter.to_ms {
        let a = c.arg(to);
        c.push(format!("s.first_seen_ms <= {a}"));
    }
    if let Some(text) = &filter.text {
        let a = c.arg(format!("%{text}%"));
        // Any page the session visited, not only the first.
        c.push(format!(
            "(s.session_id LIKE {a} OR s.user_id LIKE {a} OR s.user_email LIKE {a} OR s.start_url LIKE {a}
              OR s.session_id IN (SELECT p.session_id FROM session_pages p WHERE p.url LIKE {a}))"
        ));
    }
    // A session is in an incident when the browser recorded something in the window, or a
    // backend span of one of its traces was captured in it.
    let incident = match &filter.incident {
        Some(IncidentFilter::Any) => Some("IS NOT NULL".to_owned()),
        Some(IncidentFilter::Id(id)) => Some(format!("= {}", c.arg(id.clone()))),
        None => None,
    };
    if let Some(test) = incident {
        c.push(format!(
            "(+s.session_id IN (SELECT e.session_id FROM session_events e
                                 WHERE e.incident_id {test})
              OR EXISTS (SELECT 1 FROM trace_sessions m JOIN spans sp ON sp.trace = m.trace
                          WHERE m.session_id = s.session_id AND sp.incident_id {test}))"
        ));
    }
    c
}

/// A page of sessions, newest first, and the cursor for the next page.
pub fn list_sessions(
    conn: &Connection,
    filter: &SessionFilter,
    cursor: Option<SessionCursor>,
    limit: usize,
) -> Result<(Vec<Json>, Option<SessionCursor>)> {
    let mut c = session_clauses(filter);
    c.before("(coalesce(s.first_seen_ms, 0), s.session_id)", cursor);
    let limit_arg = c.limit_one_past(limit);
    let sql = format!(
        "SELECT s.session_id, s.first_seen_ms, s.last_seen_ms, s.user_id, s.user_email, s.start_url,
                s.event_count, s.error_count, s.frustration_score,
                (SELECT count(*) FROM session_pages p WHERE p.session_id = s.session_id),
                (SELECT count(*) FROM trace_sessions m JOIN traces t ON t.id = m.trace
                  WHERE m.session_id = s.session_id AND t.span_count > 0),
                EXISTS (SELECT 1 FROM session_imports i WHERE i.session_id = s.session_id),
                EXISTS (SELECT 1 FROM pinned_sessions p WHERE p.session_id = s.session_id),
                (SELECT count(*) FROM trace_sessions m JOIN traces t ON t.id = m.trace
                  WHERE m.session_id = s.session_id AND t.error_count > 0),
                s.failed_request_count, s.client_error_count
           FROM sessions s
          WHERE {}
          ORDER BY coalesce(s.first_seen_ms, 0) DESC, s.session_id DESC
          LIMIT {limit_arg}",
        c.sql()
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows: Vec<(i64, String, Json)> = stmt
        .query_map(c.params(), |r| {
            let first: Option<i64> = r.get(1)?;
            let last: Option<i64> = r.get(2)?;
            let id: String = r.get(0)?;
            Ok((
                first.unwrap_or(0),
                id.clone(),
                json!({
                    "sessionId": id,
                    "firstSeenMs": first,
                    "lastSeenMs": last,
                    "durationMs": first.zip(last).map(|(f, l)| l - f),
                    "userId": r.get::<_, Option<String>>(3)?,
                    "userEmail": r.get::<_, Option<String>>(4)?,
                    "startUrl": r.get::<_, Option<String>>(5)?,
                    "eventCount": r.get::<_, i64>(6)?,
                    "errorCount": r.get::<_, i64>(7)?,
                    "frustrationScore": r.get::<_, f64>(8)?,
                    "pageCount": r.get::<_, i64>(9)?,
                    "traceCount": r.get::<_, i64>(10)?,
                    "imported": r.get::<_, bool>(11)?,
                    "pinned": r.get::<_, bool>(12)?,
                    "failingTraceCount": r.get::<_, i64>(13)?,
                    "failedRequestCount": r.get::<_, i64>(14)?,
                    "clientErrorCount": r.get::<_, i64>(15)?,
                    "hasErrors": r.get::<_, i64>(7)? > 0
                        || r.get::<_, i64>(13)? > 0
                        || r.get::<_, i64>(14)? > 0,
                }),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (rows, next) = split_page(rows, limit, |(f, id, _)| (*f, id.clone()));
    Ok((rows.into_iter().map(|(_, _, j)| j).collect(), next))
}

fn facet_row(r: &Row<'_>) -> rusqlite::Result<Json> {
    Ok(json!({ "value": r.get::<_, Option<String>>(0)?, "count": r.get::<_, i64>(1)? }))
}

/// Values each facet lists at most (the most frequent first).
pub const FACET_TOP: usize = 10;

/// Request groups (status, method, path) the error facets read at most: enough for both
/// facets' top values, however many requests failed.
const FACET_REQUEST_GROUPS: usize = 100;

/// What the sessions matching `filter` have in common, for narrowing the list: how many match,
/// and the most frequent users, pages (without query string or fragment) and error messages,
/// each with the number of matching sessions that have it.
pub fn session_facets(conn: &Connection, filter: &SessionFilter) -> Result<Json> {
    let c = session_clauses(filter);
    // The matching sessions are found once and handed to each facet as a JSON array; with no
    // filter, the facets simply cover every session.
    let (total, scope, ids) = if c.is_base_only() {
        let total: i64 = conn
            .prepare_cached("SELECT count(*) FROM sessions")?
            .query_row([], |r| r.get(0))?;
        (total, "1 = 1", "[]".to_owned())
    } else {
        let ids: Vec<String> = conn
            .prepare(&format!(
                "SELECT s.session_id FROM sessions s WHERE {}",
                c.sql()
            ))?
            .query_map(c.params(), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let all: i64 = conn
            .prepare_cached("SELECT count(*) FROM sessions")?
            .query_row([], |r| r.get(0))?;
        if ids.len() as i64 == all {
            (all, "1 = 1", "[]".to_owned())
        } else {
            // `+`: scan each facet's own index and test membership, rather than look up
            // every matching session's rows and sort them.
            (
                ids.len() as i64,
                "+session_id IN (SELECT value FROM json_each(?1))",
                serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
            )
        }
    };
    let counts = |sql: String| -> Result<Vec<Json>> {
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = if scope == "1 = 1" {
            stmt.query_map([], facet_row)?
                .collect::<rusqlite::Result<_>>()?
        } else {
            stmt.query_map([&ids], facet_row)?
                .collect::<rusqlite::Result<_>>()?
        };
        Ok(rows)
    };
    // `value` null: sessions with no user identified.
    let users = counts(format!(
        "SELECT coalesce(user_id, user_email), count(*) FROM sessions WHERE {scope}
          GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {FACET_TOP}"
    ))?;
    let pages = counts(format!(
        "SELECT page, count(DISTINCT session_id) FROM session_pages WHERE {scope}
          GROUP BY page ORDER BY 2 DESC, 1 LIMIT {FACET_TOP}"
    ))?;
    let mut errors = counts(format!(
        "SELECT target, count(DISTINCT session_id) FROM session_events
          WHERE kind = 'error' AND {scope}
          GROUP BY target ORDER BY 2 DESC, 1 LIMIT {FACET_TOP}"
    ))?;
    // Failed requests (5xx, no answer) are errors; 4xx answers are client errors, apart. They
    // are grouped in SQL by status, method and path (origin, query and fragment dropped), so
    // a facet reads groups, not every failed request ever recorded.
    let mut requests = conn.prepare_cached(&format!(
        "WITH r AS (
              SELECT session_id, CAST(level AS INTEGER) AS code,
                     json_extract(data, '$.method') AS method,
                     json_extract(data, '$.aborted') AS aborted,
                     CASE WHEN instr(target, '://') > 0
                          THEN substr(target, instr(target, '://') + 3)
                          ELSE coalesce(target, '') END AS rest
                FROM session_events
               WHERE kind = 'network' AND (CAST(level AS INTEGER) >= 400 OR level = '0')
                 AND {scope}),
              p AS (
              SELECT session_id, code, method, aborted,
                     CASE WHEN substr(rest, 1, 1) = '/' THEN rest
                          WHEN instr(rest, '/') > 0 THEN substr(rest, instr(rest, '/'))
                          ELSE '/' END AS path
                FROM r)
         SELECT code, coalesce(method, ''),
                substr(path, 1, min(instr(path || '?', '?'), instr(path || '#', '#')) - 1),
                count(DISTINCT session_id)
           FROM p WHERE NOT (code = 0 AND aborted IS 1)
          GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT {FACET_REQUEST_GROUPS}"
    ))?;
    type Group = (i64, String, String, i64);
    let group = |r: &Row<'_>| -> rusqlite::Result<Group> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    };
    let groups: Vec<Group> = if scope == "1 = 1" {
        requests
            .query_map([], group)?
            .collect::<rusqlite::Result<_>>()?
    } else {
        requests
            .query_map([&ids], group)?
            .collect::<rusqlite::Result<_>>()?
    };
    let (refused, failed): (Vec<Group>, Vec<Group>) = groups
        .into_iter()
        .partition(|(code, ..)| (400..500).contains(code));
    let ranked = |groups: Vec<Group>| {
        groups
            .into_iter()
            .take(FACET_TOP)
            .map(|(code, method, path, count)| {
                let value = match code {
                    0 => format!("no answer: {method} {path}"),
                    _ => format!("{code} {method} {path}"),
                };
                json!({ "value": value, "count": count, "type": "request" })
            })
            .collect::<Vec<_>>()
    };
    for e in &mut errors {
        e["type"] = json!("page");
    }
    errors.extend(ranked(failed));
    let failing_traces: i64 = {
        let sql = format!(
            "SELECT count(*) FROM sessions WHERE {scope} AND EXISTS (
                 SELECT 1 FROM trace_sessions m JOIN traces t ON t.id = m.trace
                  WHERE m.session_id = sessions.session_id AND t.error_count > 0)"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        if scope == "1 = 1" {
            stmt.query_row([], |r| r.get(0))?
        } else {
            stmt.query_row([&ids], |r| r.get(0))?
        }
    };
    if failing_traces > 0 {
        errors.push(
            json!({ "value": "a failing backend trace", "count": failing_traces, "type": "trace" }),
        );
    }
    errors.sort_by(|a, b| b["count"].as_i64().cmp(&a["count"].as_i64()));
    errors.truncate(FACET_TOP);
    let client_errors = ranked(refused);
    Ok(json!({
        "total": total, "users": users, "pages": pages, "errors": errors,
        "clientErrors": client_errors,
    }))
}

/// Items one timeline answer carries at most; a session longer than that says `truncated`.
pub const TIMELINE_CAP: usize = 5_000;

fn trace_summary(conn: &Connection, trace_row: i64) -> Result<Option<Json>> {
    conn.prepare_cached(
        "SELECT lower(hex(t.trace_id)), t.start_time_unix_nano, t.end_time_unix_nano,
                t.span_count, t.error_count,
                (SELECT s.name FROM spans s WHERE s.trace = t.id
                  ORDER BY s.parent_span_id IS NOT NULL, s.start_time_unix_nano LIMIT 1),
                (SELECT s.service_name FROM spans s WHERE s.trace = t.id
                  ORDER BY s.parent_span_id IS NOT NULL, s.start_time_unix_nano LIMIT 1)
           FROM traces t WHERE t.id = ?1",
    )?
    .query_row([trace_row], |r| {
        let start: Option<i64> = r.get(1)?;
        let end: Option<i64> = r.get(2)?;
        Ok(json!({
            "traceId": r.get::<_, String>(0)?,
            "startTimeUnixNano": start.map(|v| v.to_string()),
            "durationMs": start.zip(end).map(|(s, e)| (e - s) as f64 / 1e6),
            "spanCount": r.get::<_, i64>(3)?,
            "errorCount": r.get::<_, i64>(4)?,
            "rootName": r.get::<_, Option<String>>(5)?,
            "serviceName": r.get::<_, Option<String>>(6)?,
        }))
    })
    .optional()
    .map_err(Into::into)
}

/// One chronological list of what happened in a session, in the browser and behind it: page
/// views, clicks, inputs, network requests (each with its linked trace), console output and
/// errors, frustration signals, the session's backend traces and its logs. Every item has its
/// time (`timeMs`, Unix ms) and its offset from the session's start (`offsetMs`).
/// `None` if the session is unknown.
/// The browser requests recorded in incident window `id`, in time order (at most `limit`),
/// and whether there were more.
pub fn incident_requests(conn: &Connection, id: &str, limit: usize) -> Result<(Vec<Json>, bool)> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.session_id, e.id, e.timestamp_ms, e.target, e.level, e.trace_id, e.data, s.user_id
           FROM session_events e LEFT JOIN sessions s ON s.session_id = e.session_id
          WHERE e.incident_id = ?1 AND e.kind = 'network'
          ORDER BY e.timestamp_ms, e.id LIMIT ?2",
    )?;
    let mut rows: Vec<Json> = stmt
        .query_map(params![id, limit as i64 + 1], |r| {
            let data = parse_json(&r.get::<_, String>(6)?);
            let captured = CAPTURED_FIELDS.iter().any(|f| data.get(*f).is_some());
            Ok(json!({
                "sessionId": r.get::<_, String>(0)?, "eventId": r.get::<_, i64>(1)?,
                "timeMs": r.get::<_, i64>(2)?, "url": r.get::<_, Option<String>>(3)?,
                "status": r.get::<_, Option<String>>(4)?, "traceId": r.get::<_, Option<String>>(5)?,
                "method": data.get("method"), "durationMs": data.get("durationMs"),
                "captured": captured, "userId": r.get::<_, Option<String>>(7)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let truncated = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, truncated))
}

/// The parts of a network event the recorder captures in an incident window.
const CAPTURED_FIELDS: &[&str] = &[
    "requestHeaders",
    "requestBody",
    "responseHeaders",
    "responseBody",
];

/// One recorded event of a session with everything captured for it (headers and bodies of a
/// request recorded in an incident window).
pub fn session_event(conn: &Connection, session_id: &str, event_id: i64) -> Result<Option<Json>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, kind, target, level, trace_id, span_id, data, incident_id
           FROM session_events WHERE session_id = ?1 AND id = ?2",
    )?
    .query_row(params![session_id, event_id], |r| {
        Ok(json!({
            "eventId": event_id, "timeMs": r.get::<_, i64>(0)?, "kind": r.get::<_, String>(1)?,
            "target": r.get::<_, Option<String>>(2)?, "level": r.get::<_, Option<String>>(3)?,
            "traceId": r.get::<_, Option<String>>(4)?, "spanId": r.get::<_, Option<String>>(5)?,
            "data": parse_json(&r.get::<_, String>(6)?),
            "incidentId": r.get::<_, Option<String>>(7)?,
        }))
    })
    .optional()
    .map_err(Into::into)
}

pub fn session_timeline(conn: &Connection, session_id: &str) -> Result<Option<Json>> {
    let start: Option<Option<i64>> = conn
        .prepare_cached("SELECT first_seen_ms FROM sessions WHERE session_id = ?1")?
        .query_row([session_id], |r| r.get(0))
        .optional()?;
    let Some(start) = start else { return Ok(None) };
    let mut items: Vec<(f64, Json)> = Vec::new();
    let mut linked_traces = std::collections::HashSet::new();

    let mut stmt = conn.prepare_cached(
        "SELECT e.timestamp_ms, e.kind, e.target, e.level, e.trace_id, e.span_id, e.data,
                (SELECT t.id FROM traces t WHERE e.trace_id IS NOT NULL
                   AND t.trace_id = unhex(e.trace_id)),
                e.id, e.incident_id, e.node_id
           FROM session_events e
          WHERE e.session_id = ?1 AND e.kind NOT IN ('dom', 'scroll', 'focus', 'selection', 'frustration')
          ORDER BY e.timestamp_ms, e.id",
    )?;
    struct Row {
        ms: i64,
        kind: String,
        target: Option<String>,
        level: Option<String>,
        trace_id: Option<String>,
        span_id: Option<String>,
        data: String,
        trace_row: Option<i64>,
        event_id: i64,
        incident_id: Option<String>,
        node_id: Option<i64>,
    }
    let rows: Vec<Row> = stmt
        .query_map([session_id], |r| {
            Ok(Row {
                ms: r.get(0)?,
                kind: r.get(1)?,
                target: r.get(2)?,
                level: r.get(3)?,
                trace_id: r.get(4)?,
                span_id: r.get(5)?,
                data: r.get(6)?,
                trace_row: r.get(7)?,
                event_id: r.get(8)?,
                incident_id: r.get(9)?,
                node_id: r.get(10)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Typing is one row per field: rrweb records every keystroke. A run of inputs into the same
    // field (its node) is one item.
    let mut typing: Option<(usize, Option<i64>)> = None;
    for Row {
        ms,
        kind,
        target,
        level,
        trace_id,
        span_id,
        data,
        trace_row,
        event_id,
        incident_id,
        node_id,
    } in rows
    {
        if kind == "input" {
            if let Some((at, field)) = typing {
                let item = &mut items[at].1;
                let same = match (field, node_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => target.is_some() && item["target"].as_str() == target.as_deref(),
                };
                if same {
                    item["data"]["inputs"] =
                        json!(item["data"]["inputs"].as_i64().unwrap_or(1) + 1);
                    item["data"]["untilMs"] = json!(ms);
                    continue;
                }
            }
            typing = Some((items.len(), node_id));
        } else {
            typing = None;
        }
        let trace = match trace_row {
            Some(row) => {
                linked_traces.insert(row);
                trace_summary(conn, row)?
            }
            None => None,
        };
        // Captured headers and bodies stay out of the timeline (up to 64 KiB each per
        // request); the timeline says they exist and `session_event` serves them.
        let mut data = parse_json(&data);
        if kind == "input" {
            data = json!({ "inputs": 1, "untilMs": ms });
        }
        let captured = match data.as_object_mut() {
            Some(d) => {
                let before = d.len();
                d.retain(|k, _| !CAPTURED_FIELDS.contains(&k.as_str()));
                d.len() < before
            }
            None => false,
        };
        items.push((
            ms as f64,
            json!({
                "kind": kind, "timeMs": ms, "target": target, "level": level,
                "traceId": trace_id, "spanId": span_id, "data": data, "trace": trace,
                "eventId": event_id, "incidentId": incident_id, "captured": captured,
            }),
        ));
    }

    for signal in frustration_signals(conn, session_id)? {
        let ms = signal["timestampMs"].as_i64().unwrap_or(0);
        items.push((
            ms as f64,
            json!({
                "kind": "frustration", "timeMs": ms, "signal": signal["kind"],
                "target": signal["target"], "score": signal["score"],
                "reason": signal["reason"], "evidence": signal["evidence"],
                "source": signal["source"],
            }),
        ));
    }

    // Backend traces of the session that no recorded request points at (a server-side job,
    // a request the recorder did not see).
    let traces: Vec<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT t.id, t.start_time_unix_nano FROM trace_sessions m JOIN traces t ON t.id = m.trace
              WHERE m.session_id = ?1 AND t.span_count > 0 ORDER BY t.start_time_unix_nano",
        )?
        .query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (row, start_ns) in traces {
        if linked_traces.contains(&row) {
            continue;
        }
        let ms = start_ns.unwrap_or(0) as f64 / 1e6;
        items.push((
            ms,
            json!({ "kind": "trace", "timeMs": ms.floor() as i64, "trace": trace_summary(conn, row)? }),
        ));
    }

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LOG_COLUMNS} FROM logs l LEFT JOIN traces t ON t.id = l.trace
          WHERE l.session_id = ?1
             OR l.trace IN (SELECT trace FROM trace_sessions WHERE session_id = ?1)
          ORDER BY l.time_unix_nano LIMIT {TIMELINE_CAP}"
    ))?;
    let logs: Vec<Json> = stmt
        .query_map([session_id], log_view)?
        .collect::<rusqlite::Result<_>>()?;
    for log in logs {
        let ns: f64 = log["timeUnixNano"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        let ms = ns / 1e6;
        items.push((
            ms,
            json!({ "kind": "log", "timeMs": ms.floor() as i64, "log": log }),
        ));
    }

    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let truncated = items.len() > TIMELINE_CAP;
    items.truncate(TIMELINE_CAP);
    let origin = start
        .map(|s| s as f64)
        .or_else(|| items.first().map(|i| i.0))
        .unwrap_or(0.0);
    let items: Vec<Json> = items
        .into_iter()
        .map(|(ms, mut item)| {
            item["offsetMs"] = json!(((ms - origin) * 1000.0).round() / 1000.0);
            item
        })
        .collect();
    Ok(Some(
        json!({ "sessionId": session_id, "startMs": start, "items": items, "truncated": truncated }),
    ))
}

/// Entries per diagnostics list; the newest come first.
pub const DIAGNOSTICS_CAP: i64 = 100;

/// Diagnostics look at this many of the newest rows of each kind (spans, recorded requests,
/// session-linked traces): what did not link is a matter of current instrumentation, and
/// this keeps the check under 100 ms on a database of millions of spans.
pub const DIAGNOSTICS_SCAN: i64 = 25_000;

/// What did not link, so a user can fix their instrumentation:
/// - `missingTraces`: requests the recorder saw whose trace never arrived (the backend is not
///   instrumented, or does not continue `traceparent`, or has not exported yet);
/// - `sessionsWithoutReplay`: traces naming a session that has no recording (the recorder is
///   not on that page, or its batches are not reaching Sightline);
/// - `orphanSpans`: spans whose parent never arrived (a service that is not exporting, or a
///   context lost between services). A span whose parent is a request the recorder saw is not
///   an orphan: that parent is the browser.
///
/// Each looks at the newest [`DIAGNOSTICS_SCAN`] rows of its kind.
pub fn diagnostics(conn: &Connection) -> Result<Json> {
    let missing: Vec<Json> = conn
        .prepare_cached(&format!(
            "SELECT e.session_id, e.timestamp_ms, e.target, e.level, e.trace_id
               FROM session_events e
              WHERE e.kind = 'network' AND e.trace_id IS NOT NULL
                AND e.id > (SELECT coalesce(max(id), 0) FROM session_events) - {DIAGNOSTICS_SCAN}
                AND NOT EXISTS (SELECT 1 FROM traces t
                                 WHERE t.trace_id = unhex(e.trace_id) AND t.span_count > 0)
              ORDER BY e.timestamp_ms DESC LIMIT {DIAGNOSTICS_CAP}"
        ))?
        .query_map([], |r| {
            Ok(json!({
                "sessionId": r.get::<_, String>(0)?,
                "timeMs": r.get::<_, i64>(1)?,
                "url": r.get::<_, Option<String>>(2)?,
                "status": r.get::<_, Option<String>>(3)?,
                "traceId": r.get::<_, String>(4)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let without_replay: Vec<Json> = conn
        .prepare_cached(&format!(
            "SELECT lower(hex(t.trace_id)), m.session_id, t.start_time_unix_nano,
                    (SELECT s.name FROM spans s WHERE s.trace = t.id
                      ORDER BY s.parent_span_id IS NOT NULL, s.start_time_unix_nano LIMIT 1),
                    (SELECT s.service_name FROM spans s WHERE s.trace = t.id
                      ORDER BY s.parent_span_id IS NOT NULL, s.start_time_unix_nano LIMIT 1)
               FROM trace_sessions m JOIN traces t ON t.id = m.trace
              WHERE t.span_count > 0
                AND m.trace > (SELECT coalesce(max(id), 0) FROM traces) - {DIAGNOSTICS_SCAN}
                AND NOT EXISTS (SELECT 1 FROM replay_chunks c WHERE c.session_id = m.session_id)
              ORDER BY t.id DESC LIMIT {DIAGNOSTICS_CAP}"
        ))?
        .query_map([], |r| {
            Ok(json!({
                "traceId": r.get::<_, String>(0)?,
                "sessionId": r.get::<_, String>(1)?,
                "startTimeUnixNano": r.get::<_, Option<i64>>(2)?.map(|v| v.to_string()),
                "rootName": r.get::<_, Option<String>>(3)?,
                "serviceName": r.get::<_, Option<String>>(4)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let orphans: Vec<Json> = conn
        .prepare_cached(&format!(
            "SELECT lower(hex(s.trace_id)), lower(hex(s.span_id)), lower(hex(s.parent_span_id)),
                    s.name, s.service_name, s.start_time_unix_nano
               FROM spans s
              WHERE s.parent_span_id IS NOT NULL
                AND s.id > (SELECT coalesce(max(id), 0) FROM spans) - {DIAGNOSTICS_SCAN}
                AND NOT EXISTS (SELECT 1 FROM spans p
                                 WHERE p.trace = s.trace AND p.span_id = s.parent_span_id)
                AND NOT EXISTS (SELECT 1 FROM session_events e
                                 WHERE e.kind = 'network'
                                   AND e.trace_id = lower(hex(s.trace_id))
                                   AND e.span_id = lower(hex(s.parent_span_id)))
              ORDER BY s.id DESC LIMIT {DIAGNOSTICS_CAP}"
        ))?
        .query_map([], |r| {
            Ok(json!({
                "traceId": r.get::<_, String>(0)?,
                "spanId": r.get::<_, String>(1)?,
                "parentSpanId": r.get::<_, String>(2)?,
                "name": r.get::<_, String>(3)?,
                "serviceName": r.get::<_, Option<String>>(4)?,
                "startTimeUnixNano": r.get::<_, i64>(5)?.to_string(),
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({
        "missingTraces": missing,
        "sessionsWithoutReplay": without_replay,
        "orphanSpans": orphans,
    }))
}

/// Filters for trace search; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct TraceFilter {
    /// A service that took part.
    pub service: Option<String>,
    /// A span name that occurs in the trace (substring).
    pub span_name: Option<String>,
    /// `Some(true)`: traces with an error span; `Some(false)`: without.
    pub error: Option<bool>,
    pub min_duration_ms: Option<f64>,
    pub max_duration_ms: Option<f64>,
    /// A span attribute `key = value` (value compared as text).
    pub attribute: Option<(String, String)>,
    pub session: Option<String>,
    /// Traces starting in this range (Unix ms).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only traces with a span captured in an incident window: that one, or any.
    pub incident: Option<IncidentFilter>,
}

/// Where a page of traces ends: (start ns, row id) of its last trace.
pub type TraceCursor = (i64, i64);

/// Traces matching `filter`, newest first, with the cursor for the next page.
pub fn search_traces(
    conn: &Connection,
    filter: &TraceFilter,
    cursor: Option<TraceCursor>,
    limit: usize,
) -> Result<(Vec<Json>, Option<TraceCursor>)> {
    let mut c = Clauses::new("t.span_count > 0");
    if let Some(service) = &filter.service {
        let a = c.arg(service.clone());
        c.push(format!(
            "EXISTS (SELECT 1 FROM trace_services ts WHERE ts.service_name = {a} AND ts.trace = t.id)"
        ));
    }
    if let Some(name) = &filter.span_name {
        let a = c.arg(format!("%{name}%"));
        c.push(format!(
            "EXISTS (SELECT 1 FROM spans s WHERE s.trace = t.id AND s.name LIKE {a})"
        ));
    }
    match filter.error {
        Some(true) => c.push("t.error_count > 0"),
        Some(false) => c.push("t.error_count = 0"),
        None => {}
    }
    if let Some(min) = filter.min_duration_ms {
        let a = c.arg((min * 1e6) as i64);
        c.push(format!(
            "t.end_time_unix_nano - t.start_time_unix_nano >= {a}"
        ));
    }
    if let Some(max) = filter.max_duration_ms {
        let a = c.arg((max * 1e6) as i64);
        c.push(format!(
            "t.end_time_unix_nano - t.start_time_unix_nano <= {a}"
        ));
    }
    if let Some((key, value)) = &filter.attribute {
        let matches = c.attribute_equals("s.attributes", key, value)?;
        c.push(format!(
            "EXISTS (SELECT 1 FROM spans s WHERE s.trace = t.id AND {matches})"
        ));
    }
    if let Some(session) = &filter.session {
        let a = c.arg(session.clone());
        c.push(format!(
            "t.id IN (SELECT trace FROM trace_sessions WHERE session_id = {a})"
        ));
    }
    match &filter.incident {
        Some(IncidentFilter::Any) => c.push(
            "t.id IN (SELECT sp.trace FROM spans sp WHERE sp.incident_id IS NOT NULL)".to_owned(),
        ),
        Some(IncidentFilter::Id(id)) => {
            let a = c.arg(id.clone());
            c.push(format!(
                "t.id IN (SELECT sp.trace FROM spans sp WHERE sp.incident_id = {a})"
            ));
        }
        None => {}
    }
    c.ns_range("t.start_time_unix_nano", filter.from_ms, filter.to_ms);
    c.before("(t.start_time_unix_nano, t.id)", cursor);
    let limit_arg = c.limit_one_past(limit);
    let sql = format!(
        "SELECT t.id, t.start_time_unix_nano FROM traces t WHERE {}
          ORDER BY t.start_time_unix_nano DESC, t.id DESC LIMIT {limit_arg}",
        c.sql()
    );
    let mut stmt = conn.prepare(&sql)?;
    let found: Vec<(i64, i64)> = stmt
        .query_map(c.params(), |r| {
            Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (found, next) = split_page(found, limit, |(id, start)| (*start, *id));
    let mut traces = Vec::with_capacity(found.len());
    for (id, _) in found {
        if let Some(mut summary) = trace_summary(conn, id)? {
            let services: Vec<String> = conn
                .prepare_cached(
                    "SELECT service_name FROM trace_services WHERE trace = ?1 ORDER BY 1",
                )?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            summary["services"] = json!(services);
            summary["sessionId"] = conn
                .prepare_cached("SELECT session_id FROM traces WHERE id = ?1")?
                .query_row([id], |r| r.get::<_, Option<String>>(0))?
                .map_or(Json::Null, Json::String);
            traces.push(summary);
        }
    }
    Ok((traces, next))
}

/// The sessions a trace belongs to, with where in each session's replay it starts.
pub fn trace_sessions(conn: &Connection, trace_id: &[u8; 16]) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT s.session_id, s.first_seen_ms, t.start_time_unix_nano, s.user_id
           FROM traces t
           JOIN trace_sessions m ON m.trace = t.id
           JOIN sessions s ON s.session_id = m.session_id
          WHERE t.trace_id = ?1
          ORDER BY s.session_id = t.session_id DESC, s.first_seen_ms",
    )?
    .query_map([&trace_id[..]], |r| {
        let first: Option<i64> = r.get(1)?;
        let start: Option<i64> = r.get(2)?;
        Ok(json!({
            "sessionId": r.get::<_, String>(0)?,
            "userId": r.get::<_, Option<String>>(3)?,
            "offsetMs": first.zip(start).map(|(f, s)| s as f64 / 1e6 - f as f64),
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// Services with their span counts and error rates, busiest first.
pub fn services(conn: &Connection) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT service_name, span_count, error_count, first_seen_unix_nano, last_seen_unix_nano
           FROM service_stats ORDER BY span_count DESC, service_name",
    )?
    .query_map([], |r| {
        let spans: i64 = r.get(1)?;
        let errors: i64 = r.get(2)?;
        Ok(json!({
            "serviceName": r.get::<_, String>(0)?,
            "spanCount": spans,
            "errorCount": errors,
            "errorRate": if spans > 0 { errors as f64 / spans as f64 } else { 0.0 },
            "firstSeenUnixNano": r.get::<_, Option<i64>>(3)?.map(|v| v.to_string()),
            "lastSeenUnixNano": r.get::<_, Option<i64>>(4)?.map(|v| v.to_string()),
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// The service map: calls from one service to another (a server or consumer span whose parent
/// is in another service), with call and error counts, for calls that started in the minute of
/// `from_ns` or later. The writer keeps the counts (`service_edges`).
pub fn service_map(conn: &Connection, from_ns: i64) -> Result<Vec<Json>> {
    conn.prepare_cached(
        "SELECT parent_service, child_service, sum(call_count), sum(error_count)
           FROM service_edges WHERE minute >= ?1
          GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    )?
    .query_map([from_ns.max(0) / 60_000_000_000], |r| {
        Ok(json!({
            "from": r.get::<_, String>(0)?,
            "to": r.get::<_, String>(1)?,
            "callCount": r.get::<_, i64>(2)?,
            "errorCount": r.get::<_, i64>(3)?,
        }))
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// Filters for log search; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Free text: every word must occur in the body or the attributes.
    pub text: Option<String>,
    /// At least this severity number (9 info, 13 warn, 17 error).
    pub min_severity: Option<i32>,
    pub service: Option<String>,
    pub trace_id: Option<[u8; 16]>,
    pub session: Option<String>,
    pub attribute: Option<(String, String)>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only logs captured in an incident window: that one, or any.
    pub incident: Option<IncidentFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentFilter {
    Any,
    Id(String),
}

/// Where a page of logs ends: (time ns, row id) of its last record.
pub type LogCursor = (i64, i64);

/// Free text as an FTS5 query: each word a quoted phrase, all required. Nothing a person types
/// can be an FTS syntax error this way.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// Logs matching `filter`, newest first, with the cursor for the next page.
pub fn search_logs(
    conn: &Connection,
    filter: &LogFilter,
    cursor: Option<LogCursor>,
    limit: usize,
) -> Result<(Vec<Json>, Option<LogCursor>)> {
    let text = filter.text.as_deref().and_then(fts_query);
    if let (Some(q), None) = (&text, &cursor) {
        if let Some(page) = newest_text_matches(conn, filter, q, limit)? {
            return Ok(page);
        }
    }
    let mut c = log_clauses(filter)?;
    if let Some(q) = text {
        let a = c.arg(q);
        c.push(format!(
            "l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH {a})"
        ));
    }
    c.before("(l.time_unix_nano, l.id)", cursor);
    log_page(conn, c, limit)
}

/// Full-text matches the fast path reads, newest (highest id) first.
const NEWEST_MATCHES: i64 = 2_000;

/// The first page of a full-text search from the newest matches only. A common word matches
/// hundreds of thousands of logs, and collecting them all to sort by time costs most of a
/// second; logs arrive close to time order, so the newest page is almost always among the
/// latest few thousand matches. It is used only when that is provably so: the page is full,
/// and no older log (lower id) is newer than its last row. `None` means "use the exact path".
fn newest_text_matches(
    conn: &Connection,
    filter: &LogFilter,
    q: &str,
    limit: usize,
) -> Result<Option<(Vec<Json>, Option<LogCursor>)>> {
    let (oldest, found): (Option<i64>, i64) = conn
        .prepare_cached(&format!(
            "SELECT min(rowid), count(*) FROM (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?1
                                                ORDER BY rowid DESC LIMIT {NEWEST_MATCHES})"
        ))?
        .query_row([q], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let Some(oldest) = oldest.filter(|_| found == NEWEST_MATCHES) else {
        return Ok(None); // few matches in all: the exact path is cheap
    };
    let mut c = log_clauses(filter)?;
    let (a, b) = (c.arg(q.to_owned()), c.arg(oldest));
    c.push(format!(
        "l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH {a} AND rowid >= {b})"
    ));
    let rows = log_rows(conn, c, limit)?;
    let Some(&(_, last_time, _)) = rows.get(limit) else {
        return Ok(None); // the newest matches did not fill the page
    };
    let older_but_newer: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM logs WHERE time_unix_nano >= ?1 AND id < ?2)",
        )?
        .query_row(rusqlite::params![last_time, oldest], |r| r.get(0))?;
    if older_but_newer {
        return Ok(None);
    }
    let (rows, next) = split_page(rows, limit, |(_, time, id)| (*time, *id));
    Ok(Some((rows.into_iter().map(|(v, _, _)| v).collect(), next)))
}

/// The conditions of a log search other than its text and cursor.
fn log_clauses(filter: &LogFilter) -> Result<Clauses> {
    let mut c = Clauses::new("1 = 1");
    if let Some(min) = filter.min_severity {
        let a = c.arg(i64::from(min));
        c.push(format!("l.severity_number >= {a}"));
    }
    if let Some(service) = &filter.service {
        let a = c.arg(service.clone());
        c.push(format!("l.service_name = {a}"));
    }
    if let Some(trace_id) = filter.trace_id {
        let a = c.arg(trace_id.to_vec());
        c.push(format!(
            "l.trace = (SELECT id FROM traces WHERE trace_id = {a})"
        ));
    }
    if let Some(session) = &filter.session {
        let (a, b) = (c.arg(session.clone()), c.arg(session.clone()));
        c.push(format!(
            "(l.session_id = {a} OR l.trace IN (SELECT trace FROM trace_sessions WHERE session_id = {b}))"
        ));
    }
    if let Some((key, value)) = &filter.attribute {
        let matches = c.attribute_equals("l.attributes", key, value)?;
        c.push(matches);
    }
    match &filter.incident {
        Some(IncidentFilter::Any) => c.push("l.incident_id IS NOT NULL".to_owned()),
        Some(IncidentFilter::Id(id)) => {
            let a = c.arg(id.clone());
            c.push(format!("l.incident_id = {a}"));
        }
        None => {}
    }
    c.ns_range("l.time_unix_nano", filter.from_ms, filter.to_ms);
    Ok(c)
}

fn log_page(conn: &Connection, c: Clauses, limit: usize) -> Result<(Vec<Json>, Option<LogCursor>)> {
    let rows = log_rows(conn, c, limit)?;
    let (rows, next) = split_page(rows, limit, |(_, time, id)| (*time, *id));
    Ok((rows.into_iter().map(|(v, _, _)| v).collect(), next))
}

/// Logs meeting `c`, newest first, one past `limit`: each row's view, time and id.
fn log_rows(conn: &Connection, mut c: Clauses, limit: usize) -> Result<Vec<(Json, i64, i64)>> {
    let limit_arg = c.limit_one_past(limit);
    let sql = format!(
        "SELECT {LOG_COLUMNS}, l.id FROM logs l LEFT JOIN traces t ON t.id = l.trace
          WHERE {}
          ORDER BY l.time_unix_nano DESC, l.id DESC LIMIT {limit_arg}",
        c.sql()
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(c.params(), |r| {
            let view = log_view(r)?;
            Ok((view, r.get::<_, i64>(0)?, r.get::<_, i64>(14)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
