//! Retention: what is old enough to go, by policy — ordinary sessions after
//! [`RetentionConfig::session_days`], sessions with errors after
//! [`RetentionConfig::error_session_days`], pinned sessions never (until unpinned), traces and
//! logs that belong to no session after [`RetentionConfig::orphan_days`] — and, past the size
//! cap, the oldest unpinned sessions first. This module finds the candidates (readers) and
//! deletes a chosen few in one of the writer's transactions; the server runs it in small steps
//! in the background, so ingest never waits long behind a deletion.

use rusqlite::{params, Connection, Transaction};
use serde_json::json;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    pub session_days: u32,
    pub error_session_days: u32,
    /// Traces and logs that belong to no session.
    pub orphan_days: u32,
    /// The database may not grow past this (bytes in use, after deletions are reclaimed);
    /// `None`: no cap.
    pub max_db_bytes: Option<u64>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            session_days: 14,
            error_session_days: 60,
            orphan_days: 14,
            max_db_bytes: Some(10 * 1024 * 1024 * 1024),
        }
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What to delete in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deletion {
    pub sessions: Vec<String>,
    /// Trace row ids (orphan traces).
    pub traces: Vec<i64>,
    /// Log row ids (orphan logs).
    pub logs: Vec<i64>,
}

impl Deletion {
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.traces.is_empty() && self.logs.is_empty()
    }
}

fn strings(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(sql)?
        .query_map(p, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

fn ints(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<i64>> {
    Ok(conn
        .prepare_cached(sql)?
        .query_map(p, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Up to `limit` of each kind of record expired at `now_ms` by the policy.
pub fn expired(
    conn: &Connection,
    config: &RetentionConfig,
    now_ms: i64,
    limit: usize,
) -> Result<Deletion> {
    let ordinary = now_ms - config.session_days as i64 * DAY_MS;
    let errors = now_ms - config.error_session_days as i64 * DAY_MS;
    let orphans_ns = (now_ms - config.orphan_days as i64 * DAY_MS).saturating_mul(1_000_000);
    let sessions = strings(
        conn,
        "SELECT s.session_id FROM sessions s
          WHERE s.last_seen_ms < CASE WHEN s.error_count > 0 THEN ?2 ELSE ?1 END
            AND s.last_seen_ms < max(?1, ?2)
            AND s.session_id NOT IN (SELECT session_id FROM pinned_sessions)
          ORDER BY s.last_seen_ms LIMIT ?3",
        params![ordinary, errors, limit as i64],
    )?;
    let traces = ints(
        conn,
        "SELECT t.id FROM traces t
          WHERE t.session_id IS NULL AND t.start_time_unix_nano < ?1
            AND NOT EXISTS (SELECT 1 FROM trace_sessions m WHERE m.trace = t.id)
          ORDER BY t.start_time_unix_nano LIMIT ?2",
        params![orphans_ns, limit as i64],
    )?;
    let logs = ints(
        conn,
        "SELECT id FROM logs
          WHERE time_unix_nano < ?1 AND trace IS NULL AND session_id IS NULL
          ORDER BY time_unix_nano LIMIT ?2",
        params![orphans_ns, limit as i64],
    )?;
    Ok(Deletion {
        sessions,
        traces,
        logs,
    })
}

/// Bytes the database holds in pages in use (its file less the free pages a deletion left).
pub fn used_bytes(conn: &Connection) -> Result<u64> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(((pages - free).max(0) * size) as u64)
}

/// For the size cap: the oldest unpinned sessions, those without errors first, then the
/// oldest traces and logs that belong to no session.
pub fn oldest(conn: &Connection, limit: usize) -> Result<Deletion> {
    let sessions = strings(
        conn,
        "SELECT session_id FROM sessions
          WHERE session_id NOT IN (SELECT session_id FROM pinned_sessions)
          ORDER BY error_count > 0, last_seen_ms LIMIT ?1",
        [limit as i64],
    )?;
    if !sessions.is_empty() {
        return Ok(Deletion {
            sessions,
            ..Default::default()
        });
    }
    Ok(Deletion {
        sessions: Vec::new(),
        traces: ints(
            conn,
            "SELECT id FROM traces WHERE session_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM trace_sessions m WHERE m.trace = traces.id)
             ORDER BY start_time_unix_nano LIMIT ?1",
            [limit as i64],
        )?,
        logs: ints(
            conn,
            "SELECT id FROM logs WHERE trace IS NULL AND session_id IS NULL
             ORDER BY time_unix_nano LIMIT ?1",
            [limit as i64],
        )?,
    })
}

/// Deletes what `d` names, with everything that hangs off it: a session's replay, events,
/// signals, pages, and the traces (spans, logs) of no other session; a trace's spans and logs.
/// Returns the spans and logs deleted (for the counters).
pub(crate) fn delete(tx: &Transaction<'_>, d: &Deletion) -> rusqlite::Result<(i64, i64)> {
    let session_list = json!(d.sessions).to_string();
    // Traces that only these sessions have: they go with them.
    let mut traces: Vec<i64> = tx
        .prepare_cached(
            "SELECT DISTINCT m.trace FROM trace_sessions m
              WHERE m.session_id IN (SELECT value FROM json_each(?1))
                AND NOT EXISTS (SELECT 1 FROM trace_sessions o
                                 WHERE o.trace = m.trace
                                   AND o.session_id NOT IN (SELECT value FROM json_each(?1)))",
        )?
        .query_map([&session_list], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    traces.extend(&d.traces);
    let trace_list = json!(traces).to_string();
    let mut logs = 0;
    let spans = tx.execute(
        "DELETE FROM spans WHERE trace IN (SELECT value FROM json_each(?1))",
        [&trace_list],
    )? as i64;
    logs += tx.execute(
        "DELETE FROM logs WHERE trace IN (SELECT value FROM json_each(?1))",
        [&trace_list],
    )? as i64;
    for table in ["trace_services", "trace_sessions"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE trace IN (SELECT value FROM json_each(?1))"),
            [&trace_list],
        )?;
    }
    tx.execute(
        "DELETE FROM traces WHERE id IN (SELECT value FROM json_each(?1))",
        [&trace_list],
    )?;
    logs += tx.execute(
        "DELETE FROM logs WHERE id IN (SELECT value FROM json_each(?1))",
        [json!(d.logs).to_string()],
    )? as i64;
    // The sessions' own logs that no trace holds, and everything recorded of them.
    logs += tx.execute(
        "DELETE FROM logs WHERE session_id IN (SELECT value FROM json_each(?1)) AND trace IS NULL",
        [&session_list],
    )? as i64;
    for table in [
        "session_events",
        "frustration_signals",
        "session_nodes",
        "replay_chunks",
        "replay_checkpoints",
        "session_pages",
        "trace_sessions",
        "session_imports",
        "known_sessions",
        "sessions",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE session_id IN (SELECT value FROM json_each(?1))"),
            [&session_list],
        )?;
    }
    // Traces kept (shared with a session still here) stop naming a deleted home session.
    tx.execute(
        "UPDATE traces SET session_id = (SELECT min(m.session_id) FROM trace_sessions m WHERE m.trace = traces.id)
          WHERE session_id IN (SELECT value FROM json_each(?1))",
        [&session_list],
    )?;
    let mut counter =
        tx.prepare_cached("UPDATE counters SET value = max(0, value - ?2) WHERE name = ?1")?;
    counter.execute(params!["spans", spans])?;
    counter.execute(params!["logs", logs])?;
    Ok((spans, logs))
}

/// Pins a session (kept until unpinned), with a note (a ticket URL, a few words).
pub fn pin(
    tx: &Transaction<'_>,
    session_id: &str,
    note: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO pinned_sessions (session_id, pinned_ms, note) VALUES (?1, ?2, ?3)
         ON CONFLICT (session_id) DO UPDATE SET note = excluded.note",
        params![session_id, now_ms, note],
    )?;
    Ok(())
}
