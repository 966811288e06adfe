//! Log search: filters, free text (whole words, word prefixes or substrings) and cursors over
//! the logs table; and one record with its resource and scope.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::Result;
use crate::filter_sql::{split_page, Clauses};

use super::*;

/// Filters for log search; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Free text: every word must occur in the body or the attributes (as `match` says).
    pub text: Option<String>,
    pub text_match: TextMatch,
    /// At least this severity number (9 info, 13 warn, 17 error).
    pub min_severity: Option<i32>,
    pub service: Option<String>,
    pub trace_id: Option<[u8; 16]>,
    pub session: Option<String>,
    /// `key=value` log attributes, all required.
    pub attributes: Vec<(String, String)>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only logs captured in an incident window: that one, or any.
    pub incident: Option<IncidentFilter>,
}

/// How free text matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TextMatch {
    /// Whole words (FTS5 tokens): `lock` finds "lock", not "locked".
    #[default]
    Words,
    /// Words starting with each term: `lock` finds "locked" and "lockfile".
    Prefix,
    /// The text anywhere, ASCII case folded: `ocked` finds "locked", `/api/ch` finds a path.
    /// Read from the newest [`SUBSTRING_SCAN`] records only.
    Substring,
}

/// Records a substring search reads (newest first): it cannot use the full-text index, so it
/// reads every body, and a question has to end in well under a second on a big database.
pub const SUBSTRING_SCAN: i64 = 500_000;

/// A page of logs, with whether a substring search stopped at [`SUBSTRING_SCAN`].
#[derive(Debug, Clone, Default)]
pub struct LogPage {
    pub logs: Vec<LogView>,
    pub next: Option<LogCursor>,
    /// The search read only the newest [`SUBSTRING_SCAN`] records.
    pub scan_limited: bool,
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
fn fts_query(text: &str, prefix: bool) -> Option<String> {
    let star = if prefix { "*" } else { "" };
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"{star}", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// Logs matching `filter`, newest first, with the cursor for the next page.
pub fn search_logs(
    conn: &Connection,
    filter: &LogFilter,
    cursor: Option<LogCursor>,
    limit: usize,
) -> Result<LogPage> {
    if filter.text_match == TextMatch::Substring {
        return substring_page(conn, filter, cursor, limit);
    }
    let text = filter
        .text
        .as_deref()
        .and_then(|t| fts_query(t, filter.text_match == TextMatch::Prefix));
    if let (Some(q), None) = (&text, &cursor) {
        if let Some((logs, next)) = newest_text_matches(conn, filter, q, limit)? {
            return Ok(LogPage {
                logs,
                next,
                scan_limited: false,
            });
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
    let (logs, next) = log_page(conn, c, limit)?;
    Ok(LogPage {
        logs,
        next,
        scan_limited: false,
    })
}

/// A substring search: each term anywhere in the body or the attributes' text (ASCII case
/// folded), over the newest [`SUBSTRING_SCAN`] records.
fn substring_page(
    conn: &Connection,
    filter: &LogFilter,
    cursor: Option<LogCursor>,
    limit: usize,
) -> Result<LogPage> {
    let mut c = log_clauses(filter)?;
    // The newest record the question can see: at or before its end, when it has one (an older
    // window still gets its own 500,000).
    let newest: Option<i64> = match filter.to_ms {
        Some(to) => conn
            .prepare_cached(
                "SELECT id FROM logs WHERE time_unix_nano <= ?1 ORDER BY time_unix_nano DESC LIMIT 1",
            )?
            .query_row([to.saturating_mul(1_000_000)], |r| r.get(0))
            .optional()?,
        None => conn
            .prepare_cached("SELECT max(id) FROM logs")?
            .query_row([], |r| r.get(0))?,
    };
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT min(id) FROM logs")?
        .query_row([], |r| r.get(0))?;
    let floor = newest.unwrap_or(0).saturating_sub(SUBSTRING_SCAN);
    let scan_limited = oldest.is_some_and(|o| o <= floor);
    if scan_limited {
        let a = c.arg(floor);
        c.push(format!("l.id > {a}"));
    }
    for term in filter.text.as_deref().unwrap_or("").split_whitespace() {
        let a = c.arg(term.to_ascii_lowercase());
        c.push(format!(
            "instr(lower(coalesce(l.body, '') || ' ' || l.attributes), {a}) > 0"
        ));
    }
    c.before("(l.time_unix_nano, l.id)", cursor);
    let (logs, next) = log_page(conn, c, limit)?;
    Ok(LogPage {
        logs,
        next,
        scan_limited,
    })
}

/// One log record with where it came from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogDetail {
    pub log: LogView,
    pub resource: ResourceView,
    pub scope: ScopeView,
}

/// The instrumentation scope (library) that emitted a record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeView {
    pub name: String,
    pub version: String,
    #[schema(value_type = HashMap<String, Value>)]
    pub attributes: Json,
    pub schema_url: String,
}

/// The record `id` with its resource and scope; `None` when no such record is stored.
pub fn log_detail(conn: &Connection, id: i64) -> Result<Option<LogDetail>> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {LOG_COLUMNS}, l.resource_id, l.scope_id
               FROM logs l LEFT JOIN traces t ON t.id = l.trace WHERE l.id = ?1"
        ))?
        .query_row([id], |r| {
            Ok((log_view(r)?, r.get::<_, i64>(15)?, r.get::<_, i64>(16)?))
        })
        .optional()?;
    let Some((log, resource, scope)) = found else {
        return Ok(None);
    };
    let scope = conn
        .prepare_cached("SELECT name, version, attributes, schema_url FROM scopes WHERE id = ?1")?
        .query_row([scope], |r| {
            Ok(ScopeView {
                name: r.get(0)?,
                version: r.get(1)?,
                attributes: parse_json(&r.get::<_, String>(2)?),
                schema_url: r.get(3)?,
            })
        })?;
    Ok(Some(LogDetail {
        log,
        resource: resource_view(conn, resource)?,
        scope,
    }))
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
) -> Result<Option<(Vec<LogView>, Option<LogCursor>)>> {
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
    for (key, value) in &filter.attributes {
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

fn log_page(
    conn: &Connection,
    c: Clauses,
    limit: usize,
) -> Result<(Vec<LogView>, Option<LogCursor>)> {
    let rows = log_rows(conn, c, limit)?;
    let (rows, next) = split_page(rows, limit, |(_, time, id)| (*time, *id));
    Ok((rows.into_iter().map(|(v, _, _)| v).collect(), next))
}

/// Logs meeting `c`, newest first, one past `limit`: each row's view, time and id.
fn log_rows(conn: &Connection, mut c: Clauses, limit: usize) -> Result<Vec<(LogView, i64, i64)>> {
    let limit_arg = c.limit_one_past(limit);
    let sql = format!(
        "SELECT {LOG_COLUMNS} FROM logs l LEFT JOIN traces t ON t.id = l.trace
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, SESSION, TRACE};

    fn bodies(f: LogFilter) -> Vec<String> {
        read(|c| search_logs(c, &f, None, 10))
            .logs
            .iter()
            .map(|l| l.body.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn search_by_text_severity_trace_session_and_attribute() {
        let one = ["payment declined for order 42".to_owned()];
        assert_eq!(
            bodies(LogFilter {
                text: Some("declined".into()),
                ..Default::default()
            }),
            one
        );
        assert!(bodies(LogFilter {
            text: Some("approved".into()),
            ..Default::default()
        })
        .is_empty());
        assert_eq!(
            bodies(LogFilter {
                min_severity: Some(17),
                ..Default::default()
            }),
            one
        );
        assert!(bodies(LogFilter {
            min_severity: Some(21),
            ..Default::default()
        })
        .is_empty());
        assert_eq!(
            bodies(LogFilter {
                trace_id: Some(TRACE),
                ..Default::default()
            }),
            one
        );
        assert_eq!(
            bodies(LogFilter {
                session: Some(SESSION.into()),
                ..Default::default()
            }),
            one
        );
        assert_eq!(
            bodies(LogFilter {
                attributes: vec![("order.id".into(), "42".into())],
                ..Default::default()
            }),
            one
        );
        assert_eq!(
            bodies(LogFilter {
                service: Some("shop-api".into()),
                ..Default::default()
            }),
            one
        );
        // Typed text is never an FTS syntax error.
        assert!(bodies(LogFilter {
            text: Some("\"AND OR(".into()),
            ..Default::default()
        })
        .is_empty());
    }
}
