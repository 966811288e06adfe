//! Sessions: one session's summary, the list with its filters and facets, its signals and indexed events.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::Result;
use crate::filter_sql::{split_page, Clauses};

use super::*;

/// One session as its page shows it: the summary, the pages it visited, its frustration
/// signals, and whether it is pinned or came in a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetail {
    pub session_id: String,
    /// Unix ms.
    pub first_seen_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub start_url: Option<String>,
    pub user_agent: Option<String>,
    /// `{width, height}` as the recorder reported it.
    #[schema(value_type = Option<HashMap<String, Value>>)]
    pub viewport: Option<Json>,
    /// The session's own attributes (the recorder's metadata).
    #[schema(value_type = HashMap<String, Value>)]
    pub attributes: Json,
    pub event_count: i64,
    pub batch_count: i64,
    /// Recording bytes as received, and as stored (compressed).
    pub raw_bytes: i64,
    pub stored_bytes: i64,
    /// Page (JavaScript) errors.
    pub error_count: i64,
    pub frustration_score: f64,
    /// Requests that failed on the server's side (5xx) or got no answer.
    pub failed_request_count: i64,
    /// Requests answered 4xx.
    pub client_error_count: i64,
    pub failing_trace_count: i64,
    pub pages: Vec<SessionPage>,
    pub frustration_signals: Vec<FrustrationSignal>,
    /// Kept whatever the retention policy, until unpinned.
    pub pinned: Option<Pin>,
    /// Where an imported session came from (the first bundle that brought it).
    pub imported_from: Option<ImportedFrom>,
}

/// A page a session visited, first seen at (Unix ms).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionPage {
    pub url: String,
    pub first_seen_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pin {
    pub pinned_ms: i64,
    pub note: Option<String>,
}

/// The bundle a session was imported from.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportedFrom {
    pub file_name: String,
    pub imported_ms: i64,
    pub exported_ms: Option<i64>,
    pub source: Option<String>,
    /// `sha256:<hex>` of the bundle's content.
    pub checksum: String,
}

/// Whether a session is stored (a recorded session, not only an id named on a span).
pub fn session_exists(conn: &Connection, session_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sessions WHERE session_id = ?1")?
        .query_row([session_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A session as its page shows it; `None` if the session is unknown.
pub fn session_view(conn: &Connection, session_id: &str) -> Result<Option<SessionDetail>> {
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
            Ok(SessionDetail {
                session_id: r.get(0)?,
                first_seen_ms: r.get(1)?,
                last_seen_ms: r.get(2)?,
                user_id: r.get(3)?,
                user_email: r.get(4)?,
                start_url: r.get(5)?,
                user_agent: r.get(6)?,
                viewport: r.get::<_, Option<String>>(7)?.map(|v| parse_json(&v)),
                attributes: parse_json(&r.get::<_, String>(8)?),
                event_count: r.get(9)?,
                batch_count: r.get(10)?,
                raw_bytes: r.get(11)?,
                stored_bytes: r.get(12)?,
                error_count: r.get(13)?,
                frustration_score: r.get(14)?,
                failed_request_count: r.get(15)?,
                client_error_count: r.get(16)?,
                failing_trace_count: r.get(17)?,
                pages: Vec::new(),
                frustration_signals: Vec::new(),
                pinned: None,
                imported_from: None,
            })
        })
        .optional()?;
    let Some(mut session) = row else {
        return Ok(None);
    };
    session.pages = conn
        .prepare_cached(
            "SELECT url, first_seen_ms FROM session_pages WHERE session_id = ?1
              ORDER BY first_seen_ms, url",
        )?
        .query_map([session_id], |r| {
            Ok(SessionPage {
                url: r.get(0)?,
                first_seen_ms: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    session.frustration_signals = frustration_signals(conn, session_id)?;
    session.pinned = conn
        .prepare_cached("SELECT pinned_ms, note FROM pinned_sessions WHERE session_id = ?1")?
        .query_row([session_id], |r| {
            Ok(Pin {
                pinned_ms: r.get(0)?,
                note: r.get(1)?,
            })
        })
        .optional()?;
    session.imported_from = conn
        .prepare_cached(
            "SELECT i.file_name, i.imported_ms, i.exported_ms, i.source, i.checksum
               FROM session_imports si JOIN imports i ON i.checksum = si.checksum
              WHERE si.session_id = ?1 ORDER BY i.imported_ms LIMIT 1",
        )?
        .query_row([session_id], |r| {
            Ok(ImportedFrom {
                file_name: r.get(0)?,
                imported_ms: r.get(1)?,
                exported_ms: r.get(2)?,
                source: r.get(3)?,
                checksum: r.get(4)?,
            })
        })
        .optional()?;
    Ok(Some(session))
}

/// A frustration signal: what the user met, how sure, and the events that show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrustrationSignal {
    /// Unix ms.
    pub timestamp_ms: i64,
    /// `rage_click`, `dead_click`, `error_click`, `thrashing`, …
    pub kind: String,
    pub score: f64,
    pub target: Option<String>,
    /// Why it was flagged, in words.
    pub reason: String,
    /// The times (Unix ms) of the events that show it: the clicks of a rage click, a click
    /// and the error after it.
    #[schema(value_type = Vec<i64>)]
    pub evidence: Json,
    /// `engine`: Sightline found it; `client`: the recorder reported it itself.
    pub source: String,
}

/// A session's frustration signals, in time order.
pub fn frustration_signals(conn: &Connection, session_id: &str) -> Result<Vec<FrustrationSignal>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, kind, score, target, reason, evidence, source FROM frustration_signals
          WHERE session_id = ?1 ORDER BY timestamp_ms, id",
    )?
    .query_map([session_id], |r| {
        Ok(FrustrationSignal {
            timestamp_ms: r.get(0)?,
            kind: r.get(1)?,
            score: r.get(2)?,
            target: r.get(3)?,
            reason: r.get(4)?,
            evidence: parse_json(&r.get::<_, String>(5)?),
            source: r.get(6)?,
        })
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// An indexed event of a session, as ingest stored it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndexedEvent {
    /// Unix ms.
    pub timestamp_ms: i64,
    pub kind: String,
    pub target: Option<String>,
    pub level: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    #[schema(value_type = HashMap<String, Value>)]
    pub data: Json,
}

/// A session's indexed events (page views, clicks, requests, …), in time order.
pub fn session_events(conn: &Connection, session_id: &str) -> Result<Vec<IndexedEvent>> {
    conn.prepare_cached(
        "SELECT timestamp_ms, kind, target, level, trace_id, span_id, data FROM session_events
          WHERE session_id = ?1 AND kind NOT IN ('dom', 'scroll', 'focus', 'selection', 'frustration')
          ORDER BY timestamp_ms, id",
    )?
    .query_map([session_id], |r| {
        Ok(IndexedEvent {
            timestamp_ms: r.get(0)?,
            kind: r.get(1)?,
            target: r.get(2)?,
            level: r.get(3)?,
            trace_id: r.get(4)?,
            span_id: r.get(5)?,
            data: parse_json(&r.get::<_, String>(6)?),
        })
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
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
/// The filter's clauses. `whole_set`: the clauses find every match (the facets), rather than
/// the first page of them in list order, which changes the best way to ask for sessions with a
/// failing trace.
fn session_clauses(filter: &SessionFilter, whole_set: bool) -> Clauses {
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
    // Sessions with a failing trace: for every match, from the few failing traces
    // (`traces_failing`), not by looking up every session's traces (facets 126 → 60 ms on
    // 10,000 sessions); for a page, session by session in list order, which stops at the page
    // (1 ms, where building the whole set first took 13).
    let has_error = if whole_set {
        "(s.error_count > 0 OR s.failed_request_count > 0
          OR s.session_id IN (SELECT m.session_id FROM traces t
                               JOIN trace_sessions m ON m.trace = t.id WHERE t.error_count > 0))"
    } else {
        "(s.error_count > 0 OR s.failed_request_count > 0
          OR EXISTS (SELECT 1 FROM trace_sessions m JOIN traces t ON t.id = m.trace
                      WHERE m.session_id = s.session_id AND t.error_count > 0))"
    };
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

/// A row of the Sessions list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionListItem {
    pub session_id: String,
    /// Unix ms.
    pub first_seen_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub start_url: Option<String>,
    pub event_count: i64,
    /// Page (JavaScript) errors.
    pub error_count: i64,
    pub frustration_score: f64,
    pub page_count: i64,
    /// Backend traces linked to the session.
    pub trace_count: i64,
    pub imported: bool,
    pub pinned: bool,
    pub failing_trace_count: i64,
    /// Requests that failed on the server's side (5xx) or got no answer.
    pub failed_request_count: i64,
    /// Requests answered 4xx.
    pub client_error_count: i64,
    /// A page error, a failed request or a failing backend trace.
    pub has_errors: bool,
}

/// A page of sessions, newest first, and the cursor for the next page.
pub fn list_sessions(
    conn: &Connection,
    filter: &SessionFilter,
    cursor: Option<SessionCursor>,
    limit: usize,
) -> Result<(Vec<SessionListItem>, Option<SessionCursor>)> {
    let mut c = session_clauses(filter, false);
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
    let rows: Vec<(i64, String, SessionListItem)> = stmt
        .query_map(c.params(), |r| {
            let first: Option<i64> = r.get(1)?;
            let last: Option<i64> = r.get(2)?;
            let id: String = r.get(0)?;
            Ok((
                first.unwrap_or(0),
                id.clone(),
                SessionListItem {
                    session_id: id,
                    first_seen_ms: first,
                    last_seen_ms: last,
                    duration_ms: first.zip(last).map(|(f, l)| l.saturating_sub(f)),
                    user_id: r.get(3)?,
                    user_email: r.get(4)?,
                    start_url: r.get(5)?,
                    event_count: r.get(6)?,
                    error_count: r.get(7)?,
                    frustration_score: r.get(8)?,
                    page_count: r.get(9)?,
                    trace_count: r.get(10)?,
                    imported: r.get(11)?,
                    pinned: r.get(12)?,
                    failing_trace_count: r.get(13)?,
                    failed_request_count: r.get(14)?,
                    client_error_count: r.get(15)?,
                    has_errors: r.get::<_, i64>(7)? > 0
                        || r.get::<_, i64>(13)? > 0
                        || r.get::<_, i64>(14)? > 0,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (rows, next) = split_page(rows, limit, |(f, id, _)| (*f, id.clone()));
    Ok((rows.into_iter().map(|(_, _, j)| j).collect(), next))
}

fn facet_row(r: &Row<'_>) -> rusqlite::Result<FacetValue> {
    Ok(FacetValue {
        value: r.get(0)?,
        count: r.get(1)?,
        r#type: None,
    })
}

/// What the sessions matching a filter have in common: how many match, and the most frequent
/// users, pages and errors, each with the number of matching sessions that have it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionFacets {
    pub total: i64,
    pub users: Vec<FacetValue>,
    pub pages: Vec<FacetValue>,
    /// Page errors, failed requests (5xx, no answer) and failing backend traces.
    pub errors: Vec<FacetValue>,
    /// Requests answered 4xx.
    pub client_errors: Vec<FacetValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FacetValue {
    /// `null`: sessions with no user identified.
    pub value: Option<String>,
    pub count: i64,
    /// On error facets only: what kind of error the value names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ErrorKind>,
}

/// What an error facet counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// A page (JavaScript) error.
    Page,
    /// A request that failed (5xx or no answer), or a 4xx on the client-error facet.
    Request,
    /// Sessions with a failing backend trace.
    Trace,
}

/// Values each facet lists at most (the most frequent first).
pub const FACET_TOP: usize = 10;

/// Request groups (status, method, path) the error facets read at most: enough for both
/// facets' top values, however many requests failed.
const FACET_REQUEST_GROUPS: usize = 100;

/// What the sessions matching `filter` have in common, for narrowing the list: how many match,
/// and the most frequent users, pages (without query string or fragment) and error messages,
/// each with the number of matching sessions that have it.
pub fn session_facets(conn: &Connection, filter: &SessionFilter) -> Result<SessionFacets> {
    let c = session_clauses(filter, true);
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
    let counts = |sql: String| -> Result<Vec<FacetValue>> {
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
                FacetValue {
                    value: Some(value),
                    count,
                    r#type: Some(ErrorKind::Request),
                }
            })
            .collect::<Vec<_>>()
    };
    for e in &mut errors {
        e.r#type = Some(ErrorKind::Page);
    }
    errors.extend(ranked(failed));
    let failing_traces: i64 = {
        let sql = format!(
            "SELECT count(*) FROM sessions WHERE {scope} AND session_id IN (
                 SELECT m.session_id FROM traces t JOIN trace_sessions m ON m.trace = t.id
                  WHERE t.error_count > 0)"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        if scope == "1 = 1" {
            stmt.query_row([], |r| r.get(0))?
        } else {
            stmt.query_row([&ids], |r| r.get(0))?
        }
    };
    if failing_traces > 0 {
        errors.push(FacetValue {
            value: Some("a failing backend trace".into()),
            count: failing_traces,
            r#type: Some(ErrorKind::Trace),
        });
    }
    errors.sort_by_key(|e| std::cmp::Reverse(e.count));
    errors.truncate(FACET_TOP);
    let client_errors = ranked(refused);
    Ok(SessionFacets {
        total,
        users,
        pages,
        errors,
        client_errors,
    })
}

/// A session with errors, as the Sessions list counts them (page errors and failed requests:
/// 5xx or no answer; a 4xx is the client's): what a desktop notification tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErringSession {
    pub session_id: String,
    /// The user's email, else their id.
    pub user: Option<String>,
    /// Where the session started.
    pub url: Option<String>,
    pub errors: i64,
}

/// Which of `ids` are sessions with errors, in the order asked; unknown ids are left out.
pub fn erring_sessions(conn: &Connection, ids: &[String]) -> Result<Vec<ErringSession>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, coalesce(user_email, user_id), start_url,
                error_count + failed_request_count
         FROM sessions WHERE session_id = ?1 AND (error_count > 0 OR failed_request_count > 0)",
    )?;
    let mut out = Vec::new();
    for id in ids {
        let row = stmt
            .query_row([id], |r| {
                Ok(ErringSession {
                    session_id: r.get(0)?,
                    user: r.get(1)?,
                    url: r.get(2)?,
                    errors: r.get(3)?,
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with the real schema, as the engine's migrations leave it, and a writable
    /// connection to fill it.
    fn store() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open_dir(dir.path()).unwrap();
        let path = store.path().to_owned();
        store.close();
        let conn = Connection::open(path).unwrap();
        (dir, conn)
    }

    #[test]
    fn a_session_its_list_row_and_facets() {
        use crate::views::fixture::{read, SESSION};
        let v = read(|c| session_view(c, SESSION)).expect("the session");
        assert_eq!(v.user_email.as_deref(), Some("ada@example.com"));
        assert_eq!(v.start_url.as_deref(), Some("https://shop.test/cart"));
        assert_eq!(v.failing_trace_count, 1);
        assert_eq!(v.pages[0].url, "https://shop.test/cart");
        assert!(v.pinned.is_none() && v.imported_from.is_none());
        assert!(read(|c| session_view(c, "nobody")).is_none());
        assert!(read(|c| session_exists(c, SESSION)));
        let kinds: Vec<String> = read(|c| session_events(c, SESSION))
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["page_view", "click", "network", "network"]);
        assert!(!read(|c| session_exists(c, "nobody")));
        let ids = |f: SessionFilter| -> Vec<String> {
            read(|c| list_sessions(c, &f, None, 10))
                .0
                .iter()
                .map(|s| s.session_id.clone())
                .collect()
        };
        assert_eq!(ids(SessionFilter::default()), [SESSION]);
        assert_eq!(
            ids(SessionFilter {
                has_error: Some(true),
                ..Default::default()
            }),
            [SESSION],
            "a failing trace is an error"
        );
        assert!(ids(SessionFilter {
            has_error: Some(false),
            ..Default::default()
        })
        .is_empty());
        assert_eq!(
            ids(SessionFilter {
                url: Some("/cart".into()),
                ..Default::default()
            }),
            [SESSION]
        );
        assert!(ids(SessionFilter {
            user: Some("bob".into()),
            ..Default::default()
        })
        .is_empty());
        let facets = read(|c| session_facets(c, &SessionFilter::default()));
        assert_eq!(facets.total, 1);
        assert_eq!(facets.errors[0].r#type, Some(ErrorKind::Trace));
        assert!(
            read(|c| frustration_signals(c, SESSION)).is_empty()
                && v.frustration_signals.is_empty(),
            "one click on Pay is no frustration"
        );
    }

    #[test]
    fn only_sessions_with_errors_are_erring() {
        let (_dir, conn) = store();
        conn.execute_batch(
            "INSERT INTO sessions (session_id, user_id, start_url, error_count,
                                   failed_request_count, client_error_count)
             VALUES ('ok', 'u1', '/', 0, 0, 2), ('bad', 'u2', '/pay', 3, 0, 0),
                    ('500', 'u3', '/pay', 0, 1, 0);",
        )
        .unwrap();
        let ids = ["ok".into(), "bad".into(), "500".into(), "missing".into()];
        let found = erring_sessions(&conn, &ids).unwrap();
        let which: Vec<(&str, i64)> = found
            .iter()
            .map(|f| (f.session_id.as_str(), f.errors))
            .collect();
        assert_eq!(which, [("bad", 3), ("500", 1)], "a 4xx alone is no error");
        assert_eq!(found[0].user.as_deref(), Some("u2"));
    }

    #[test]
    fn a_broken_store_is_an_error_not_an_empty_answer() {
        let (_dir, conn) = store();
        conn.execute_batch("DROP TABLE sessions").unwrap();
        assert!(erring_sessions(&conn, &["a".into()]).is_err());
    }
}
