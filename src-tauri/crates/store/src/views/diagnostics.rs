//! Diagnostics: what did not link (requests without traces, sessions without replay, orphan spans).

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;

/// Entries per diagnostics list; the newest come first.
pub const DIAGNOSTICS_CAP: i64 = 100;

/// Diagnostics look at this many of the newest rows of each kind (spans, recorded requests,
/// session-linked traces): what did not link is a matter of current instrumentation, and
/// this keeps the check under 100 ms on a database of millions of spans.
pub const DIAGNOSTICS_SCAN: i64 = 25_000;

/// What did not link (see [`diagnostics`]).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostics {
    pub missing_traces: Vec<MissingTrace>,
    pub sessions_without_replay: Vec<SessionWithoutReplay>,
    pub orphan_spans: Vec<OrphanSpan>,
}

/// A request the recorder saw whose trace never arrived.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MissingTrace {
    pub session_id: String,
    pub time_ms: i64,
    /// The request as the recorder named it (`POST /api/checkout`).
    pub url: Option<String>,
    pub status: Option<String>,
    pub trace_id: String,
}

/// A trace naming a session that has no recording.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionWithoutReplay {
    pub trace_id: String,
    pub session_id: String,
    pub start_time_unix_nano: Option<String>,
    pub root_name: Option<String>,
    pub service_name: Option<String>,
}

/// A span whose parent never arrived.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    pub service_name: Option<String>,
    pub start_time_unix_nano: String,
}

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
pub fn diagnostics(conn: &Connection) -> Result<Diagnostics> {
    let missing: Vec<MissingTrace> = conn
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
            Ok(MissingTrace {
                session_id: r.get(0)?,
                time_ms: r.get(1)?,
                url: r.get(2)?,
                status: r.get(3)?,
                trace_id: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let without_replay: Vec<SessionWithoutReplay> = conn
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
            Ok(SessionWithoutReplay {
                trace_id: r.get(0)?,
                session_id: r.get(1)?,
                start_time_unix_nano: r.get::<_, Option<i64>>(2)?.map(|v| v.to_string()),
                root_name: r.get(3)?,
                service_name: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let orphans: Vec<OrphanSpan> = conn
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
            Ok(OrphanSpan {
                trace_id: r.get(0)?,
                span_id: r.get(1)?,
                parent_span_id: r.get(2)?,
                name: r.get(3)?,
                service_name: r.get(4)?,
                start_time_unix_nano: r.get::<_, i64>(5)?.to_string(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Diagnostics {
        missing_traces: missing,
        sessions_without_replay: without_replay,
        orphan_spans: orphans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, MISSING, ORPHAN};

    #[test]
    fn what_did_not_link() {
        let d = read(diagnostics);
        assert_eq!(d.missing_traces.len(), 1, "{d:?}");
        assert_eq!(d.missing_traces[0].trace_id, hex::encode(MISSING));
        assert_eq!(d.missing_traces[0].url.as_deref(), Some("GET /api/stock"));
        assert_eq!(d.orphan_spans.len(), 1, "{d:?}");
        assert_eq!(d.orphan_spans[0].trace_id, hex::encode(ORPHAN));
        assert_eq!(d.orphan_spans[0].parent_span_id, "0707070707070707");
        assert!(d.sessions_without_replay.is_empty());
    }
}
