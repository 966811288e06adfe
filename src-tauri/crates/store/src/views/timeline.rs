//! A session's timeline: its events, requests with their traces, and what an incident window captured.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::error::Result;

use super::*;

/// Items one timeline answer carries at most; a session longer than that says `truncated`.
pub const TIMELINE_CAP: usize = 5_000;

/// A trace in a list or on a timeline: its root, size, errors and duration.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    pub trace_id: String,
    /// Unix nanoseconds, as a string.
    pub start_time_unix_nano: Option<String>,
    pub duration_ms: Option<f64>,
    pub span_count: i64,
    pub error_count: i64,
    /// The root span's name (or the earliest span's, when the root has not arrived); a server
    /// span named only by its method takes its route (`GET /api/cart`), as the HTTP semantic
    /// conventions name it when the route is known.
    pub root_name: Option<String>,
    pub service_name: Option<String>,
}

/// Span names that are only an HTTP method: such a span is named by its route.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A span as people name it: one named only by its method takes the first of `routes` (the
/// route, the path, the target, or the path of a full URL) that says something: `POST
/// /api/checkout`, as the HTTP semantic conventions name it (the UI's `spanLabel` does the same).
pub(crate) fn span_label<'a>(name: &str, routes: impl IntoIterator<Item = &'a str>) -> String {
    if !METHODS.contains(&name) {
        return name.to_owned();
    }
    let path = routes.into_iter().find_map(|r| {
        let p = match r.find("://") {
            // A full URL: its path, without the query or fragment.
            Some(i) => {
                let rest = &r[i + 3..];
                rest.find('/').map_or("/", |j| &rest[j..])
            }
            None => r,
        };
        let p = p.split(['?', '#']).next().unwrap_or("");
        (!p.is_empty()).then_some(p)
    });
    match path {
        Some(p) => format!("{name} {p}"),
        None => name.to_owned(),
    }
}

pub(super) fn trace_summary(conn: &Connection, trace_row: i64) -> Result<Option<TraceSummary>> {
    conn.prepare_cached(
        r#"SELECT lower(hex(t.trace_id)), t.start_time_unix_nano, t.end_time_unix_nano,
                t.span_count, t.error_count,
                (SELECT json_array(s.name, json_extract(s.attributes, '$."http.route"'),
                                   json_extract(s.attributes, '$."url.path"'),
                                   json_extract(s.attributes, '$."http.target"'),
                                   json_extract(s.attributes, '$."url.full"'),
                                   json_extract(s.attributes, '$."http.url"'))
                   FROM spans s WHERE s.trace = t.id
                  ORDER BY s.parent_span_id IS NOT NULL, s.start_time_unix_nano LIMIT 1),
                (SELECT s.service_name FROM spans s WHERE s.trace = t.id
                  ORDER BY s.parent_span_id IS NOT NULL, s.start_time_unix_nano LIMIT 1)
           FROM traces t WHERE t.id = ?1"#,
    )?
    .query_row([trace_row], |r| {
        let start: Option<i64> = r.get(1)?;
        let end: Option<i64> = r.get(2)?;
        Ok(TraceSummary {
            trace_id: r.get(0)?,
            start_time_unix_nano: start.map(|v| v.to_string()),
            duration_ms: start
                .zip(end)
                .map(|(s, e)| e.saturating_sub(s) as f64 / 1e6),
            span_count: r.get(3)?,
            error_count: r.get(4)?,
            root_name: r
                .get::<_, Option<String>>(5)?
                .and_then(|j| serde_json::from_str::<Vec<Option<String>>>(&j).ok())
                .and_then(|parts| {
                    let name = parts.first().cloned().flatten()?;
                    let route = parts[1..].iter().flatten().map(String::as_str);
                    Some(span_label(&name, route))
                }),
            service_name: r.get(6)?,
        })
    })
    .optional()
    .map_err(Into::into)
}

/// A browser request recorded in an incident window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentRequest {
    pub session_id: String,
    /// Its event, for `/sessions/{id}/events/{eventId}` (what was captured of it).
    pub event_id: i64,
    /// Unix ms.
    pub time_ms: i64,
    /// As the recorder sent it.
    #[schema(value_type = Option<String>)]
    pub method: Json,
    pub url: Option<String>,
    /// The HTTP status as recorded (`0`: no answer).
    pub status: Option<String>,
    /// As the recorder sent it.
    #[schema(value_type = Option<f64>)]
    pub duration_ms: Json,
    pub trace_id: Option<String>,
    /// Whether its headers and bodies were captured.
    pub captured: bool,
    pub user_id: Option<String>,
}

/// The browser requests recorded in incident window `id`, in time order (at most `limit`),
/// and whether there were more.
pub fn incident_requests(
    conn: &Connection,
    id: &str,
    limit: usize,
) -> Result<(Vec<IncidentRequest>, bool)> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.session_id, e.id, e.timestamp_ms, e.target, e.level, e.trace_id, e.data, s.user_id
           FROM session_events e LEFT JOIN sessions s ON s.session_id = e.session_id
          WHERE e.incident_id = ?1 AND e.kind = 'network'
          ORDER BY e.timestamp_ms, e.id LIMIT ?2",
    )?;
    let mut rows: Vec<IncidentRequest> = stmt
        .query_map(params![id, limit as i64 + 1], |r| {
            let data = parse_json(&r.get::<_, String>(6)?);
            Ok(IncidentRequest {
                session_id: r.get(0)?,
                event_id: r.get(1)?,
                time_ms: r.get(2)?,
                url: r.get(3)?,
                status: r.get(4)?,
                trace_id: r.get(5)?,
                method: data.get("method").cloned().unwrap_or(Json::Null),
                duration_ms: data.get("durationMs").cloned().unwrap_or(Json::Null),
                captured: CAPTURED_FIELDS.iter().any(|f| data.get(*f).is_some()),
                user_id: r.get(7)?,
            })
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

/// One recorded event with everything captured for it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionEvent {
    pub event_id: i64,
    /// Unix ms.
    pub time_ms: i64,
    pub kind: String,
    pub target: Option<String>,
    pub level: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// What the recorder reported of it; for a request in an incident window, its headers
    /// and bodies (redacted in the page).
    #[schema(value_type = HashMap<String, Value>)]
    pub data: Json,
    /// The incident window it was recorded in.
    pub incident_id: Option<String>,
}

/// One recorded event of a session with everything captured for it (headers and bodies of a
/// request recorded in an incident window).
pub fn session_event(
    conn: &Connection,
    session_id: &str,
    event_id: i64,
) -> Result<Option<SessionEvent>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, kind, target, level, trace_id, span_id, data, incident_id
           FROM session_events WHERE session_id = ?1 AND id = ?2",
    )?
    .query_row(params![session_id, event_id], |r| {
        Ok(SessionEvent {
            event_id,
            time_ms: r.get(0)?,
            kind: r.get(1)?,
            target: r.get(2)?,
            level: r.get(3)?,
            trace_id: r.get(4)?,
            span_id: r.get(5)?,
            data: parse_json(&r.get::<_, String>(6)?),
            incident_id: r.get(7)?,
        })
    })
    .optional()
    .map_err(Into::into)
}

/// Everything that happened in a session, in order.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub session_id: String,
    /// The session's start (Unix ms): every item's `offsetMs` counts from it.
    pub start_ms: Option<i64>,
    pub items: Vec<TimelineItem>,
    /// More than [`TIMELINE_CAP`] items: the rest were left out.
    pub truncated: bool,
}

/// One thing on a session's timeline; `kind` says which.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TimelineItem {
    Browser(BrowserItem),
    Frustration(FrustrationItem),
    Trace(TraceItem),
    Log(LogItem),
}

impl TimelineItem {
    fn offset_mut(&mut self) -> &mut f64 {
        match self {
            TimelineItem::Browser(i) => &mut i.offset_ms,
            TimelineItem::Frustration(i) => &mut i.offset_ms,
            TimelineItem::Trace(i) => &mut i.offset_ms,
            TimelineItem::Log(i) => &mut i.offset_ms,
        }
    }
}

/// Something the recorder saw: a page view, click, input (a run of typing into one field),
/// request, console line or error.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrowserItem {
    pub kind: BrowserKind,
    /// Unix ms.
    pub time_ms: i64,
    /// From the session's start.
    pub offset_ms: f64,
    pub target: Option<String>,
    pub level: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// What the recorder reported, less captured headers and bodies; for typing,
    /// `{inputs, untilMs}`.
    #[schema(value_type = Option<HashMap<String, Value>>)]
    pub data: Json,
    /// A request's backend trace, when it is stored.
    pub trace: Option<TraceSummary>,
    /// Its row, for `/sessions/{id}/events/{eventId}`.
    pub event_id: i64,
    /// The incident window it was recorded in.
    pub incident_id: Option<String>,
    /// A request whose headers and bodies were captured.
    pub captured: bool,
}

/// What the recorder saw. Ingest writes only these kinds on the timeline (DOM changes,
/// scrolls, focus and selection stay off it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BrowserKind {
    PageView,
    Click,
    Input,
    Network,
    Console,
    Error,
    /// A recorder's own event (rrweb custom events, semantic events of no known kind).
    Custom,
}

impl BrowserKind {
    fn of(kind: &str) -> BrowserKind {
        match kind {
            "page_view" => BrowserKind::PageView,
            "click" => BrowserKind::Click,
            "input" => BrowserKind::Input,
            "network" => BrowserKind::Network,
            "console" => BrowserKind::Console,
            "error" => BrowserKind::Error,
            _ => BrowserKind::Custom,
        }
    }
}

/// A frustration signal on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrustrationItem {
    pub kind: FrustrationKind,
    pub time_ms: i64,
    pub offset_ms: f64,
    /// `rage_click`, `dead_click`, …
    pub signal: String,
    pub target: Option<String>,
    pub score: f64,
    pub reason: String,
    #[schema(value_type = Vec<i64>)]
    pub evidence: Json,
    /// `engine` or `client`.
    pub source: String,
}

/// A backend trace of the session that no recorded request points at.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceItem {
    pub kind: TraceKind,
    pub time_ms: i64,
    pub offset_ms: f64,
    pub trace: Option<TraceSummary>,
}

/// A log record of the session or of one of its traces.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogItem {
    pub kind: LogKind,
    pub time_ms: i64,
    pub offset_ms: f64,
    pub log: LogView,
}

/// The `kind` of a [`FrustrationItem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FrustrationKind {
    Frustration,
}

/// The `kind` of a [`TraceItem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TraceKind {
    Trace,
}

/// The `kind` of a [`LogItem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogKind {
    Log,
}

/// One chronological list of what happened in a session, in the browser and behind it: page
/// views, clicks, inputs, network requests (each with its linked trace), console output and
/// errors, frustration signals, the session's backend traces and its logs. Every item has its
/// time (`timeMs`, Unix ms) and its offset from the session's start (`offsetMs`).
/// `None` if the session is unknown.
pub fn session_timeline(conn: &Connection, session_id: &str) -> Result<Option<Timeline>> {
    let start: Option<Option<i64>> = conn
        .prepare_cached("SELECT first_seen_ms FROM sessions WHERE session_id = ?1")?
        .query_row([session_id], |r| r.get(0))
        .optional()?;
    let Some(start) = start else { return Ok(None) };
    let mut items: Vec<(f64, TimelineItem)> = Vec::new();
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
                if let TimelineItem::Browser(item) = &mut items[at].1 {
                    let same = match (field, node_id) {
                        (Some(a), Some(b)) => a == b,
                        _ => target.is_some() && item.target == target,
                    };
                    if same {
                        item.data["inputs"] = json!(item.data["inputs"].as_i64().unwrap_or(1) + 1);
                        item.data["untilMs"] = json!(ms);
                        continue;
                    }
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
            TimelineItem::Browser(BrowserItem {
                kind: BrowserKind::of(&kind),
                time_ms: ms,
                offset_ms: 0.0,
                target,
                level,
                trace_id,
                span_id,
                data,
                trace,
                event_id,
                incident_id,
                captured,
            }),
        ));
    }

    for signal in frustration_signals(conn, session_id)? {
        let ms = signal.timestamp_ms;
        items.push((
            ms as f64,
            TimelineItem::Frustration(FrustrationItem {
                kind: FrustrationKind::Frustration,
                time_ms: ms,
                offset_ms: 0.0,
                signal: signal.kind,
                target: signal.target,
                score: signal.score,
                reason: signal.reason,
                evidence: signal.evidence,
                source: signal.source,
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
            TimelineItem::Trace(TraceItem {
                kind: TraceKind::Trace,
                time_ms: ms.floor() as i64,
                offset_ms: 0.0,
                trace: trace_summary(conn, row)?,
            }),
        ));
    }

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LOG_COLUMNS} FROM logs l LEFT JOIN traces t ON t.id = l.trace
          WHERE l.session_id = ?1
             OR l.trace IN (SELECT trace FROM trace_sessions WHERE session_id = ?1)
          ORDER BY l.time_unix_nano LIMIT {TIMELINE_CAP}"
    ))?;
    let logs: Vec<LogView> = stmt
        .query_map([session_id], log_view)?
        .collect::<rusqlite::Result<_>>()?;
    for log in logs {
        let ns: f64 = log.time_unix_nano.parse().unwrap_or(0.0);
        let ms = ns / 1e6;
        items.push((
            ms,
            TimelineItem::Log(LogItem {
                kind: LogKind::Log,
                time_ms: ms.floor() as i64,
                offset_ms: 0.0,
                log,
            }),
        ));
    }

    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let truncated = items.len() > TIMELINE_CAP;
    items.truncate(TIMELINE_CAP);
    let origin = start
        .map(|s| s as f64)
        .or_else(|| items.first().map(|i| i.0))
        .unwrap_or(0.0);
    let items: Vec<TimelineItem> = items
        .into_iter()
        .map(|(ms, mut item)| {
            *item.offset_mut() = ((ms - origin) * 1000.0).round() / 1000.0;
            item
        })
        .collect();
    Ok(Some(Timeline {
        session_id: session_id.to_owned(),
        start_ms: start,
        items,
        truncated,
    }))
}

#[cfg(test)]
mod label_tests {
    use super::span_label;

    #[test]
    fn a_method_takes_its_route_or_the_path_of_its_url() {
        assert_eq!(span_label("GET", ["/api/cart/{id}"]), "GET /api/cart/{id}");
        assert_eq!(
            span_label("POST", ["http://shop:3000/api/checkout?x=1#top"]),
            "POST /api/checkout"
        );
        assert_eq!(span_label("POST", ["https://shop"]), "POST /");
        assert_eq!(span_label("GET", ["", "/health"]), "GET /health");
        assert_eq!(span_label("GET", std::iter::empty()), "GET");
        assert_eq!(span_label("authorize card", ["/x"]), "authorize card");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, SESSION, TRACE};

    #[test]
    fn the_story_in_order_with_the_request_s_trace_and_logs() {
        let t = read(|c| session_timeline(c, SESSION)).expect("the session");
        let json = serde_json::to_value(&t).unwrap();
        let items = json["items"].as_array().unwrap();
        let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
        assert_eq!(&kinds[..3], ["page_view", "click", "network"]);
        assert!(kinds.contains(&"log"), "{kinds:?}");
        let request = &items[2];
        assert_eq!(request["offsetMs"], 1000.0);
        assert_eq!(request["trace"]["traceId"], hex::encode(TRACE));
        assert_eq!(request["trace"]["errorCount"], 2);
        assert!(!t.truncated);
        assert!(read(|c| session_timeline(c, "nobody")).is_none());
        let TimelineItem::Browser(request) = &t.items[2] else {
            panic!("a request is a browser item")
        };
        let one = read(|c| session_event(c, SESSION, request.event_id)).expect("the event");
        assert_eq!(one.kind, "network");
        assert!(read(|c| session_event(c, SESSION, i64::MAX)).is_none());
    }
}
