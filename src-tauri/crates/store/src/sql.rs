//! Read-only SQL for people and tools: one statement over documented views (`sql_views.sql`),
//! on a connection that cannot write, attach or load anything.
//!
//! Layers of defence, each sufficient on its own for writes: the file is opened read-only;
//! `query_only` is on; an authorizer allows only reading (SELECT, reads, functions, read-only
//! PRAGMAs) while a statement is prepared; a statement SQLite does not report as read-only is
//! refused before it runs; ATTACH is limited to zero databases. Time is bounded by the caller
//! (interrupt the connection); rows by [`run`]'s cap; memory by [`MAX_VALUE_BYTES`] (SQLite
//! refuses to build a larger string or blob) and [`MAX_RESULT_BYTES`] (an answer stops there).

use std::path::Path;

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value as Json;

use crate::error::{Result, StoreError};

const VIEWS: &str = include_str!("sql_views.sql");

/// Integers beyond this are sent as strings: JSON readers (JavaScript) lose precision past
/// 2^53, and nanosecond times are past it.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The largest string or blob a user's statement may make or read: far above any stored
/// attribute set or log body a person reads, far below what takes the engine's memory
/// (`SELECT zeroblob(200000000)` is refused instead of taking 1.5 GB as hex and JSON).
pub const MAX_VALUE_BYTES: i32 = 8 * 1024 * 1024;

/// The largest answer, counted as its text: rows past it are not sent (`truncated`), so a few
/// queries at once cannot exhaust memory whatever their row count.
pub const MAX_RESULT_BYTES: usize = 32 * 1024 * 1024;

/// What an agent (or a person) needs to write a statement: the views and their columns, in
/// the form `- view(column, …)` (a test checks it against the views themselves).
pub const VIEW_GUIDE: &str = "One read-only SQLite statement over these views. Times are Unix \
nanoseconds (strings beyond 2^53), ids lower-case hex, attribute sets JSON objects: \
json_extract(attributes, '$.\"http.route\"'). Statements stop after 5 s and return at most \
10,000 rows; ask for what you need with WHERE, GROUP BY and LIMIT.
- spans(trace_id, span_id, parent_span_id, name, kind, start_time_unix_nano, end_time_unix_nano, duration_ns, status_code (0 unset, 1 ok, 2 error), status_message, service_name, session_id, attributes, events, links, resource_attributes, incident_id)
- logs(time_unix_nano, observed_time_unix_nano, severity_number (17+ error), severity_text, body, attributes, trace_id, span_id, service_name, session_id, event_name, incident_id)
- sessions(session_id, user_id, user_email, start_url, user_agent, first_seen_unix_nano, last_seen_unix_nano, duration_ns, event_count, error_count, frustration_score, page_count, trace_count, attributes)
- session_events(session_id, time_unix_nano, kind (page_view, click, input, network, console, error, custom, rage_click, dead_click, error_click, thrashing), target, level (a request's HTTP status), trace_id, span_id, data, page_url, incident_id)
- session_traces(session_id, trace_id, start_time_unix_nano, end_time_unix_nano, span_count, error_count)
- metrics(name, description, unit, type, service_name, time_unix_nano, start_time_unix_nano, value, count, sum, attributes)";

/// Opens a connection for user SQL over the views.
pub fn open(path: &Path) -> Result<Connection> {
    let open_err = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_millis(crate::db::BUSY_TIMEOUT_MS))
        .map_err(open_err)?;
    conn.execute_batch(VIEWS).map_err(open_err)?;
    conn.execute_batch("PRAGMA query_only = ON;")
        .map_err(open_err)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)
        .map_err(open_err)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        .map_err(open_err)?;
    conn.authorizer(Some(authorize)).map_err(open_err)?;
    Ok(conn)
}

/// PRAGMAs that take an argument yet only read (a table or index name).
const READING_PRAGMAS_WITH_ARGUMENT: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];

/// What a user's statement may do while it is prepared: read, and nothing else.
fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Select
        | AuthAction::Read { .. }
        | AuthAction::Function { .. }
        | AuthAction::Recursive => Authorization::Allow,
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } if pragma_value.is_none()
            || READING_PRAGMAS_WITH_ARGUMENT
                .contains(&pragma_name.to_ascii_lowercase().as_str()) =>
        {
            Authorization::Allow
        }
        _ => Authorization::Deny,
    }
}

/// What a statement returned.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// More rows were available than the row cap or [`MAX_RESULT_BYTES`] allowed.
    pub truncated: bool,
}

fn refuse(message: impl Into<String>) -> StoreError {
    StoreError::Sql(message.into())
}

fn value(v: ValueRef<'_>) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) => i.into(),
        ValueRef::Integer(i) => Json::String(i.to_string()),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        ValueRef::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Json::String(hex::encode(b)),
    }
}

/// The length of text as a JSON string: quotes, escapes (a control character is written as
/// six bytes, `\u0001`), and what lossy decoding makes of bytes that are not UTF-8.
fn json_text_len(t: &[u8]) -> usize {
    let text = String::from_utf8_lossy(t);
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Runs one read-only statement, returning at most `row_cap` rows.
pub fn run(conn: &Connection, sql: &str, row_cap: usize) -> Result<SqlRows> {
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => refuse("send one statement at a time"),
        other => refuse(other.to_string()),
    })?;
    if !stmt.readonly() {
        return Err(refuse(
            "only read-only statements run here (SELECT, WITH, EXPLAIN, read-only PRAGMAs)",
        ));
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut rows = stmt.query([]).map_err(|e| refuse(e.to_string()))?;
    let mut out = Vec::new();
    let mut truncated = false;
    let mut bytes = 0usize;
    while let Some(row) = rows.next().map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            StoreError::Interrupted
        }
        other => refuse(other.to_string()),
    })? {
        if out.len() == row_cap {
            truncated = true;
            break;
        }
        // What the row will weigh as JSON (a blob is sent as hex): counted before it is built.
        let weight: usize = (0..columns.len())
            .map(|i| match row.get_ref(i) {
                Ok(ValueRef::Text(t)) => json_text_len(t),
                Ok(ValueRef::Blob(b)) => b.len() * 2 + 2,
                _ => 24,
            })
            .sum();
        if bytes.saturating_add(weight) > MAX_RESULT_BYTES {
            truncated = true;
            break;
        }
        bytes += weight;
        out.push(
            (0..columns.len())
                .map(|i| row.get_ref(i).map(value).unwrap_or(Json::Null))
                .collect(),
        );
    }
    Ok(SqlRows {
        columns,
        rows: out,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer is bounded by what it weighs as JSON, escapes included: a column of control
    /// characters is six times its length as text.
    #[test]
    fn text_is_weighed_as_json_writes_it() {
        for text in [
            "plain",
            "quote \" and \\",
            "line\nbreak",
            "\u{1}\u{2}",
            "ünïcode",
        ] {
            let written = serde_json::to_string(&Json::String(text.to_owned())).unwrap();
            assert_eq!(json_text_len(text.as_bytes()), written.len(), "{text:?}");
        }
        assert_eq!(json_text_len(&[0xff]), "\"\u{fffd}\"".len());
    }

    /// The guide an agent reads names every view and every column as they are.
    #[test]
    fn the_guide_lists_each_view_with_its_columns() {
        let (dir, _store) = crate::views::fixture::shop();
        let conn = open(&dir.path().join("sightline.db")).unwrap();
        let listed: Vec<(String, Vec<String>)> = VIEW_GUIDE
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .map(|l| {
                let (view, cols) = l.split_once('(').expect("view(columns)");
                // Notes in parentheses after a column are not columns.
                let mut plain = String::new();
                let mut depth = 0;
                for c in cols.chars() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ if depth == 0 => plain.push(c),
                        _ => {}
                    }
                }
                let cols = plain;
                (
                    view.to_owned(),
                    cols.split(',').map(|c| c.trim().to_owned()).collect(),
                )
            })
            .collect();
        let mut views: Vec<String> = conn
            .prepare("SELECT name FROM temp.sqlite_schema WHERE type = 'view' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut named: Vec<String> = listed.iter().map(|(v, _)| v.clone()).collect();
        views.sort();
        named.sort();
        assert_eq!(named, views);
        for (view, cols) in listed {
            let actual: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{view}')"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(cols, actual, "{view}");
        }
    }
}
