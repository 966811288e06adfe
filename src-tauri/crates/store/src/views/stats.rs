//! Counts: what the store holds per signal, its size, and what arrived since a moment (the status bar and the tray).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::Result;

/// Counts per signal and the database's size on disk.
#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
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
#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy, Default, utoipa::ToSchema)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::read;

    #[test]
    fn counts_what_the_store_holds() {
        let s = read(|c| stats(c, Path::new("/nonexistent")));
        assert_eq!((s.spans, s.traces, s.logs, s.sessions), (3, 2, 1, 1));
        assert_eq!(s.recorded_sessions, 1);
        assert_eq!(s.metrics, 0);
    }

    #[test]
    fn activity_counts_failed_traces() {
        let a = read(|c| activity_since(c, 0));
        assert_eq!((a.sessions, a.traces, a.failed_traces), (1, 2, 1));
        let later = read(|c| activity_since(c, i64::MAX));
        assert_eq!(
            later,
            Activity::default(),
            "nothing arrived after the end of time"
        );
    }
}
