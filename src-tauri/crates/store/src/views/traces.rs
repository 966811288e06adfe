//! Traces: one trace with its spans and logs, trace search, and the sessions a trace belongs to.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value as Json;

use crate::error::Result;
use crate::filter_sql::{split_page, Clauses};

use super::*;

pub(super) const SPAN_COLUMNS: &str =
    "s.trace_id, s.span_id, s.parent_span_id, s.trace_state, s.flags, s.name,
     s.kind, s.start_time_unix_nano, s.end_time_unix_nano, s.attributes,
     s.dropped_attributes_count, s.events, s.dropped_events_count, s.links, s.dropped_links_count,
     s.status_code, s.status_message, s.service_name, coalesce(s.session_id, t.session_id),
     s.resource_id, c.name, c.version, s.incident_id";

/// A span as the API gives it. Attribute sets, events and links are stored as JSON and go out
/// as they are (checked, not rebuilt): a 20,000-span trace is mostly these.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = HashMap<String, Value>)]
    attributes: Box<RawValue>,
    dropped_attributes_count: u32,
    #[schema(value_type = Vec<crate::span_json::EventDoc>)]
    events: Box<RawValue>,
    dropped_events_count: u32,
    #[schema(value_type = Vec<crate::span_json::LinkDoc>)]
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
    pub(super) resource_row: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SpanStatus {
    code: i32,
    message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

pub(super) fn span_view(row: &Row<'_>) -> rusqlite::Result<SpanView> {
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceView {
    pub trace_id: String,
    pub session_id: Option<String>,
    pub spans: Vec<SpanView>,
    /// Each resource once, by the `resourceId` its spans name.
    pub resources: std::collections::BTreeMap<String, ResourceView>,
    pub logs: Vec<LogView>,
    pub sessions: Vec<TraceSession>,
}

/// One stored resource, by its row.
pub(super) fn resource_view(conn: &Connection, row: i64) -> Result<ResourceView> {
    Ok(conn
        .prepare_cached(
            "SELECT attributes, dropped_attributes_count, schema_url, service_name
               FROM resources WHERE id = ?1",
        )?
        .query_row([row], |r| {
            Ok(ResourceView {
                attributes: parse_json(&r.get::<_, String>(0)?),
                dropped_attributes_count: r.get(1)?,
                schema_url: r.get(2)?,
                service_name: r.get(3)?,
            })
        })?)
}

/// A resource (the service, host and process that sent spans), once per trace.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceView {
    #[schema(value_type = HashMap<String, Value>)]
    pub attributes: Json,
    pub dropped_attributes_count: u32,
    pub schema_url: String,
    pub service_name: Option<String>,
}

pub(super) const LOG_COLUMNS: &str =
    "l.time_unix_nano, l.observed_time_unix_nano, l.severity_number,
     l.severity_text, l.body, l.attributes, l.dropped_attributes_count, l.flags, l.trace_id,
     l.span_id, l.event_name, l.service_name, coalesce(l.session_id, t.session_id), l.incident_id,
     l.id";

/// One log record as the API shows it: times as strings of nanoseconds, ids as hex (empty
/// when the record has none), the body and attributes as JSON values.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    /// The record's id in this database (for `GET /api/v1/logs/{id}`).
    pub id: String,
    pub time_unix_nano: String,
    pub observed_time_unix_nano: String,
    pub severity_number: i32,
    pub severity_text: String,
    /// `null` when the record has no body.
    #[schema(value_type = Value)]
    pub body: Json,
    #[schema(value_type = HashMap<String, Value>)]
    pub attributes: Json,
    pub dropped_attributes_count: u32,
    pub flags: u32,
    pub trace_id: String,
    pub span_id: String,
    pub event_name: String,
    pub service_name: Option<String>,
    pub session_id: Option<String>,
    pub incident_id: Option<String>,
}

pub(super) fn log_view(row: &Row<'_>) -> rusqlite::Result<LogView> {
    Ok(LogView {
        id: row.get::<_, i64>(14)?.to_string(),
        time_unix_nano: (row.get::<_, i64>(0)? as u64).to_string(),
        observed_time_unix_nano: (row.get::<_, i64>(1)? as u64).to_string(),
        severity_number: row.get(2)?,
        severity_text: row.get(3)?,
        body: row
            .get::<_, Option<String>>(4)?
            .map(|b| parse_json(&b))
            .unwrap_or(Json::Null),
        attributes: parse_json(&row.get::<_, String>(5)?),
        dropped_attributes_count: row.get(6)?,
        flags: row.get(7)?,
        trace_id: hex_opt(row.get(8)?),
        span_id: hex_opt(row.get(9)?),
        event_name: row.get(10)?,
        service_name: row.get(11)?,
        session_id: row.get(12)?,
        incident_id: row.get(13)?,
    })
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
    let mut resources = std::collections::BTreeMap::new();
    for span in &spans {
        if resources.contains_key(&span.resource_id) {
            continue;
        }
        resources.insert(
            span.resource_id.clone(),
            resource_view(conn, span.resource_row)?,
        );
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
    /// `key=value` span attributes, all required (each on some span of the trace).
    pub attributes: Vec<(String, String)>,
    pub session: Option<String>,
    /// Traces starting in this range (Unix ms).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only traces with a span captured in an incident window: that one, or any.
    pub incident: Option<IncidentFilter>,
}

/// Where a page of traces ends: (start ns, row id) of its last trace.
pub type TraceCursor = (i64, i64);

/// A trace in the Traces list: its summary, every service it touched and its session.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceListItem {
    #[serde(flatten)]
    pub summary: TraceSummary,
    pub services: Vec<String>,
    pub session_id: Option<String>,
}

/// Traces matching `filter`, newest first, with the cursor for the next page.
pub fn search_traces(
    conn: &Connection,
    filter: &TraceFilter,
    cursor: Option<TraceCursor>,
    limit: usize,
) -> Result<(Vec<TraceListItem>, Option<TraceCursor>)> {
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
    for (key, value) in &filter.attributes {
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
        if let Some(summary) = trace_summary(conn, id)? {
            let services: Vec<String> = conn
                .prepare_cached(
                    "SELECT service_name FROM trace_services WHERE trace = ?1 ORDER BY 1",
                )?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let session_id = conn
                .prepare_cached("SELECT session_id FROM traces WHERE id = ?1")?
                .query_row([id], |r| r.get::<_, Option<String>>(0))?;
            traces.push(TraceListItem {
                summary,
                services,
                session_id,
            });
        }
    }
    Ok((traces, next))
}

/// A session a trace belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceSession {
    pub session_id: String,
    pub user_id: Option<String>,
    /// Where in the session's replay the trace starts (ms from the session's start).
    pub offset_ms: Option<f64>,
}

/// The sessions a trace belongs to, with where in each session's replay it starts.
pub fn trace_sessions(conn: &Connection, trace_id: &[u8; 16]) -> Result<Vec<TraceSession>> {
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
        Ok(TraceSession {
            session_id: r.get(0)?,
            user_id: r.get(3)?,
            offset_ms: first.zip(start).map(|(f, s)| s as f64 / 1e6 - f as f64),
        })
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, MISSING, ORPHAN, SESSION, TRACE};

    #[test]
    fn a_trace_with_its_spans_logs_and_session() {
        let t = read(|c| trace_view(c, &TRACE)).expect("the trace");
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["traceId"], hex::encode(TRACE));
        assert_eq!(v["sessionId"], SESSION);
        let names: Vec<&str> = v["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["POST /api/checkout", "authorize card"]);
        assert_eq!(v["spans"][1]["status"]["message"], "card_declined");
        assert_eq!(
            v["spans"][1]["startTimeUnixNano"], "1763000001010000000",
            "times are strings"
        );
        assert_eq!(v["spans"][0]["attributes"]["http.route"], "/api/checkout");
        assert!(read(|c| trace_view(c, &MISSING)).is_none());
        assert!(read(|c| has_trace(c, &TRACE)));
        assert!(!read(|c| has_trace(c, &MISSING)));
    }

    #[test]
    fn search_filters_by_error_service_name_and_session() {
        let ids = |f: TraceFilter| -> Vec<String> {
            read(|c| search_traces(c, &f, None, 10))
                .0
                .iter()
                .map(|t| t.summary.trace_id.clone())
                .collect()
        };
        assert_eq!(ids(TraceFilter::default()).len(), 2);
        assert_eq!(
            ids(TraceFilter {
                error: Some(true),
                ..Default::default()
            }),
            [hex::encode(TRACE)]
        );
        assert_eq!(
            ids(TraceFilter {
                error: Some(false),
                ..Default::default()
            }),
            [hex::encode(ORPHAN)]
        );
        assert_eq!(
            ids(TraceFilter {
                span_name: Some("authorize".into()),
                ..Default::default()
            }),
            [hex::encode(TRACE)]
        );
        assert_eq!(
            ids(TraceFilter {
                session: Some(SESSION.into()),
                ..Default::default()
            }),
            [hex::encode(TRACE)]
        );
        assert!(ids(TraceFilter {
            service: Some("nope".into()),
            ..Default::default()
        })
        .is_empty());
        let (page, next) = read(|c| search_traces(c, &TraceFilter::default(), None, 1));
        assert_eq!(page.len(), 1);
        assert!(next.is_some(), "a second page");
    }

    #[test]
    fn the_sessions_of_a_trace_with_the_replay_offset() {
        let s = read(|c| trace_sessions(c, &TRACE));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].session_id, SESSION);
        assert_eq!(s[0].offset_ms, Some(1000.0));
    }
}
