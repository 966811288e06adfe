//! A trace in brief, for an agent or a reader who cannot take 20,000 spans at once: its root,
//! services, error spans with their messages, the critical path, the spans that took the most
//! time of their own, the sessions it belongs to, the traces of the same services that ran at
//! the same time, and its spans a page at a time in tree order. One span in full, with its
//! resource and logs, is [`span_detail`].

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::Result;

use super::*;

/// Spans an outline reads at most, the first by start: ten times the largest trace a real
/// system sends here, and about 30 MB in memory while the outline is made (the receivers are
/// open to anyone, so a forged trace of millions must not be read whole).
pub const OUTLINE_READ_LIMIT: usize = 200_000;
/// Children of a span listed at most.
pub const SPAN_CHILDREN: i64 = 200;
/// Services listed at most, by own time.
pub const OUTLINE_SERVICES: usize = 20;
/// Error spans listed at most, deepest first: the cause is among the first few.
pub const OUTLINE_ERRORS: usize = 10;
/// Spans listed by their own time at most.
pub const OUTLINE_SLOWEST: usize = 10;
/// Spans of the critical path listed at most (those that contributed most, in time order): a
/// loop of 5,000 sequential calls is all critical, and a list of them helps nobody.
pub const OUTLINE_PATH: usize = 20;
/// A page of spans at most, and by default.
pub const MAX_OUTLINE_SPANS: usize = 500;
pub const DEFAULT_OUTLINE_SPANS: usize = 20;
/// Overlapping traces listed at most, and how far back their starts are looked for (a trace
/// that started longer ago than this and still overlaps is rare, and the bound keeps the
/// search to an index range on a database of millions of traces).
pub const OUTLINE_OVERLAPPING: usize = 5;
const OVERLAP_LOOKBACK_NS: i64 = 10 * 60 * 1_000_000_000;
/// Candidate traces read when looking for overlapping ones: a busy local stack starts a few
/// hundred traces in a trace's time; more would make every outline slower for a rare gain.
const OVERLAP_CANDIDATES: i64 = 500;

/// A trace in brief.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceOutline {
    pub trace_id: String,
    /// Unix nanoseconds, as a string.
    pub start_time_unix_nano: String,
    pub duration_ms: f64,
    pub span_count: usize,
    pub error_count: usize,
    /// More spans are stored than an outline reads (200,000): it covers the first by start.
    pub truncated: bool,
    /// The span with no parent that started first (or the first span, when the root has not
    /// arrived).
    pub root: Option<OutlineSpan>,
    /// By own time, at most 20 (a trace of a real system has a handful; one
    /// that names a service per span is forged or broken).
    pub services: Vec<OutlineService>,
    /// How many services the trace has.
    pub service_count: usize,
    /// Error spans, deepest in the tree first (the cause before the callers that passed it
    /// up), at most 10.
    pub errors: Vec<OutlineSpan>,
    /// The spans whose own time made the trace as long as it is, in time order: from the root,
    /// the child that finished last, then the one that finished before it started, and so on
    /// down (as Jaeger's critical path); at most 20, those with the most time.
    pub critical_path: Vec<CriticalStep>,
    /// How many spans the whole critical path has.
    pub critical_path_length: usize,
    /// Spans by their own time (their duration less their children's), longest first.
    pub slowest: Vec<OutlineSpan>,
    pub sessions: Vec<TraceSession>,
    /// Other traces that share a service and ran at the same time, most overlap first: what
    /// held a lock, filled a pool or ate the CPU is often one of them.
    pub overlapping: Vec<OverlappingTrace>,
    /// A page of spans in tree order (depth first, children by start).
    pub spans: Vec<OutlineSpan>,
    /// Where the next page of `spans` starts; `null` on the last.
    pub next_span_cursor: Option<String>,
}

/// One span in brief.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutlineSpan {
    pub span_id: String,
    /// Empty for a root.
    pub parent_span_id: String,
    /// 0 for a root.
    pub depth: usize,
    pub service: Option<String>,
    pub name: String,
    /// From the trace's start.
    pub start_offset_ms: f64,
    pub duration_ms: f64,
    /// Its duration less the time its children covered.
    pub self_ms: f64,
    pub error: bool,
    /// The status message, or the exception event's message.
    pub message: Option<String>,
    /// The `error.type` attribute, or the exception event's `exception.type`.
    pub error_type: Option<String>,
}

/// A span on the critical path and the time it holds of it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CriticalStep {
    pub span_id: String,
    pub service: Option<String>,
    pub name: String,
    pub start_offset_ms: f64,
    /// The part of the trace's duration spent in this span itself, on the path.
    pub critical_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutlineService {
    pub name: String,
    pub spans: usize,
    pub errors: usize,
    /// The own time of its spans.
    pub self_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverlappingTrace {
    pub trace_id: String,
    pub root_name: Option<String>,
    pub service_name: Option<String>,
    /// Its start from this trace's start (negative: it started before).
    pub start_offset_ms: f64,
    pub duration_ms: f64,
    pub overlap_ms: f64,
    pub error_count: i64,
    pub shared_services: Vec<String>,
    pub session_id: Option<String>,
}

struct Node {
    id: Vec<u8>,
    parent: Option<Vec<u8>>,
    name: String,
    service: Option<String>,
    start: i64,
    end: i64,
    error: bool,
    message: String,
    /// Only read for error spans.
    row: i64,
}

/// The outline of a trace, its spans from `span_from` (an index in tree order) on, at most
/// `max_spans` of them; `None` when no span of it is stored.
pub fn trace_outline(
    conn: &Connection,
    trace_id: &[u8; 16],
    max_spans: usize,
    span_from: usize,
) -> Result<Option<TraceOutline>> {
    let Some(trace_row) = conn
        .prepare_cached("SELECT id FROM traces WHERE trace_id = ?1")?
        .query_row([&trace_id[..]], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let nodes: Vec<Node> = conn
        .prepare_cached(
            "SELECT span_id, parent_span_id, name, service_name, start_time_unix_nano,
                    end_time_unix_nano, status_code, status_message, id
               FROM spans WHERE trace = ?1 ORDER BY start_time_unix_nano, id LIMIT ?2",
        )?
        .query_map(params![trace_row, OUTLINE_READ_LIMIT as i64], |r| {
            Ok(Node {
                id: r.get(0)?,
                parent: r.get(1)?,
                name: r.get(2)?,
                service: r.get(3)?,
                start: r.get(4)?,
                end: r.get(5)?,
                error: r.get::<_, i64>(6)? == 2,
                message: r.get(7)?,
                row: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if nodes.is_empty() {
        return Ok(None);
    }
    let n = nodes.len();
    let t0 = nodes.iter().map(|s| s.start).min().unwrap_or(0);
    let t1 = nodes.iter().map(|s| s.end.max(s.start)).max().unwrap_or(t0);
    let ms = |ns: i64| ns as f64 / 1e6;

    // The tree: each span under its parent when the parent is stored (the first span of a
    // repeated id), else a root; children by start (the nodes are in start order).
    let index: HashMap<&[u8], usize> = nodes
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.id.as_slice(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, s) in nodes.iter().enumerate() {
        match s.parent.as_deref().and_then(|p| index.get(p)) {
            Some(&p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    // Depth first, iteratively (a forged trace may be deep), each span once (repeated ids
    // and parent loops cannot make it go round); spans in a loop no root reaches come last.
    let mut order = Vec::with_capacity(n);
    let mut depth = vec![0usize; n];
    let mut seen = vec![false; n];
    let starts = roots.iter().copied().chain(0..n);
    for start in starts {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, d)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            depth[i] = d;
            order.push(i);
            stack.extend(children[i].iter().rev().map(|&c| (c, d + 1)));
        }
    }

    // Own time: the span's time not covered by any child's (children clipped to it).
    let self_ns: Vec<i64> = (0..n)
        .map(|i| {
            let (s, e) = (nodes[i].start, nodes[i].end.max(nodes[i].start));
            let mut covered: i64 = 0;
            let mut reach = s;
            for &c in &children[i] {
                let (cs, ce) = (nodes[c].start.max(reach), nodes[c].end.min(e));
                if ce > cs {
                    covered = covered.saturating_add(ce.saturating_sub(cs));
                    reach = ce;
                }
            }
            e.saturating_sub(s).saturating_sub(covered)
        })
        .collect();

    let root = roots.first().copied().or(order.first().copied());
    let mut by_service: HashMap<&str, OutlineService> = HashMap::new();
    for (i, s) in nodes.iter().enumerate() {
        let name = s.service.as_deref().unwrap_or("unknown");
        let entry = by_service.entry(name).or_insert_with(|| OutlineService {
            name: name.to_owned(),
            spans: 0,
            errors: 0,
            self_ms: 0.0,
        });
        entry.spans += 1;
        entry.errors += usize::from(s.error);
        entry.self_ms += ms(self_ns[i]);
    }
    let service_count = by_service.len();
    let mut services: Vec<OutlineService> = by_service.into_values().collect();
    services.sort_by(|a, b| b.self_ms.total_cmp(&a.self_ms).then(a.name.cmp(&b.name)));
    services.truncate(OUTLINE_SERVICES);

    let mut errors: Vec<usize> = (0..n).filter(|&i| nodes[i].error).collect();
    errors.sort_by_key(|&i| (std::cmp::Reverse(depth[i]), nodes[i].start));
    let error_count = errors.len();
    errors.truncate(OUTLINE_ERRORS);

    let mut slowest: Vec<usize> = (0..n).collect();
    slowest.sort_by_key(|&i| (std::cmp::Reverse(self_ns[i]), nodes[i].start));
    slowest.truncate(OUTLINE_SLOWEST);

    let path = if roots.len() == 1 {
        let r = roots[0];
        critical_path(
            &nodes,
            &children,
            &roots,
            (nodes[r].start, nodes[r].end.max(nodes[r].start)),
        )
    } else {
        critical_path(&nodes, &children, &roots, (t0, t1))
    };
    let critical_path_length = path.len();
    let mut top: Vec<(usize, i64)> = path;
    top.sort_by_key(|&(i, ns)| (std::cmp::Reverse(ns), nodes[i].start));
    top.truncate(OUTLINE_PATH);
    top.sort_by_key(|&(i, _)| (nodes[i].start, depth[i]));
    let critical_path = top
        .into_iter()
        .map(|(i, ns)| CriticalStep {
            span_id: hex::encode(&nodes[i].id),
            service: nodes[i].service.clone(),
            name: nodes[i].name.clone(),
            start_offset_ms: ms(nodes[i].start.saturating_sub(t0)),
            critical_ms: ms(ns),
        })
        .collect();

    let max_spans = max_spans.clamp(1, MAX_OUTLINE_SPANS);
    let page_of: Vec<usize> = order
        .iter()
        .skip(span_from)
        .take(max_spans)
        .copied()
        .collect();
    // Error details of the error spans shown only (the root, the errors, the slowest, the
    // page): their attributes and events are read one by one, and a trace may have thousands.
    let mut details: HashMap<usize, (Option<String>, Option<String>)> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached("SELECT attributes, events FROM spans WHERE id = ?1")?;
        let shown = root
            .iter()
            .chain(&errors)
            .chain(&slowest)
            .chain(&page_of)
            .copied();
        for i in shown {
            let s = &nodes[i];
            if !s.error || details.contains_key(&i) {
                continue;
            }
            let (attributes, events): (String, String) =
                stmt.query_row([s.row], |r| Ok((r.get(0)?, r.get(1)?)))?;
            details.insert(i, error_details(&s.message, &attributes, &events));
        }
    }
    let brief = |i: usize| {
        let s = &nodes[i];
        let (message, error_type) = details.get(&i).cloned().unwrap_or_default();
        OutlineSpan {
            span_id: hex::encode(&s.id),
            parent_span_id: s.parent.as_deref().map(hex::encode).unwrap_or_default(),
            depth: depth[i],
            service: s.service.clone(),
            name: s.name.clone(),
            start_offset_ms: ms(s.start.saturating_sub(t0)),
            duration_ms: ms(s.end.max(s.start).saturating_sub(s.start)),
            self_ms: ms(self_ns[i]),
            error: s.error,
            message,
            error_type,
        }
    };

    let page: Vec<OutlineSpan> = page_of.into_iter().map(brief).collect();
    let next = span_from.saturating_add(max_spans);
    Ok(Some(TraceOutline {
        trace_id: hex::encode(trace_id),
        start_time_unix_nano: (t0 as u64).to_string(),
        duration_ms: ms(t1.saturating_sub(t0)),
        span_count: n,
        error_count,
        truncated: n >= OUTLINE_READ_LIMIT,
        root: root.map(brief),
        services,
        service_count,
        errors: errors.into_iter().map(brief).collect(),
        critical_path,
        critical_path_length,
        slowest: slowest.into_iter().map(brief).collect(),
        sessions: trace_sessions(conn, trace_id)?,
        overlapping: overlapping(conn, trace_row, t0, t1)?,
        spans: page,
        next_span_cursor: (next < n).then(|| next.to_string()),
    }))
}

/// The critical path: (span, its own time on the path). From a span, the child that finished
/// last is on the path; then the child that finished before that one started; and so on, each
/// followed down the same way, every child clipped to the part of its parent it explains (as
/// Jaeger's: a child whose clock runs ahead or behind its parent's counts only inside it).
/// Several roots (the caller's span never arrived) hang under one virtual root over the
/// trace's whole time, so the path covers all of it. Iterative, each span once.
fn critical_path(
    nodes: &[Node],
    children: &[Vec<usize>],
    roots: &[usize],
    (t0, t1): (i64, i64),
) -> Vec<(usize, i64)> {
    let mut out = Vec::new();
    let mut seen = vec![false; nodes.len()];
    // (span, or None for the virtual root; the part of it still to explain: from, until)
    let mut stack: Vec<(Option<usize>, i64, i64)> = vec![(None, t0, t1)];
    while let Some((at, from, until)) = stack.pop() {
        let (kids, start) = match at {
            Some(i) => {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                (&children[i][..], nodes[i].start.max(from))
            }
            None => (roots, from),
        };
        let mut by_end: Vec<usize> = kids.to_vec();
        by_end.sort_by_key(|&c| std::cmp::Reverse(nodes[c].end));
        let mut cursor = until;
        let mut own: i64 = 0;
        for c in by_end {
            // A child that ends after the cursor overlaps a part already explained, unless it
            // is the first (a child that outlived its parent is clipped to it).
            if nodes[c].end > cursor && cursor != until {
                continue;
            }
            let (cs, ce) = (nodes[c].start.max(start), nodes[c].end.min(cursor));
            // A child with nothing inside the part explained is not on the path; a root always
            // is (an instant one included), the path starts there.
            if ce < cs || (ce == cs && at.is_some()) {
                continue;
            }
            own = own.saturating_add(cursor.saturating_sub(ce));
            stack.push((Some(c), cs, ce));
            cursor = cs;
        }
        own = own.saturating_add(cursor.saturating_sub(start).max(0));
        if let Some(i) = at {
            out.push((i, own));
        }
    }
    out
}

/// The message and type of an error span: its status message or the exception event's
/// message; its `error.type` attribute or the exception event's type.
pub(crate) fn error_details(
    status_message: &str,
    attributes: &str,
    events: &str,
) -> (Option<String>, Option<String>) {
    let attributes = parse_json(attributes);
    let events = parse_json(events);
    let exception = events.as_array().and_then(|evs| {
        evs.iter()
            .find(|e| e.get("name").and_then(Json::as_str) == Some("exception"))
            .and_then(|e| e.get("attributes"))
            .cloned()
    });
    let from_exception = |key: &str| {
        exception
            .as_ref()
            .and_then(|a| a.get(key))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let message = Some(status_message.to_owned())
        .filter(|m| !m.is_empty())
        .or_else(|| from_exception("exception.message"));
    let error_type = attributes
        .get("error.type")
        .and_then(|v| match v {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            other => Some(other.to_string()),
        })
        .or_else(|| from_exception("exception.type"));
    (message, error_type)
}

/// Traces that share a service with this one and ran while it did, most overlap first.
pub(crate) fn overlapping(
    conn: &Connection,
    trace_row: i64,
    t0: i64,
    t1: i64,
) -> Result<Vec<OverlappingTrace>> {
    let mine: Vec<String> = conn
        .prepare_cached(&format!(
            "SELECT service_name FROM trace_services WHERE trace = ?1 LIMIT {OUTLINE_SERVICES}"
        ))?
        .query_map([trace_row], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    // The traces that started last before this one ended first: those running beside it;
    // under heavy load a trace that started long before may be past the candidates read.
    let candidates: Vec<(i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT id, start_time_unix_nano, end_time_unix_nano FROM traces
              WHERE start_time_unix_nano BETWEEN ?1 AND ?2 AND end_time_unix_nano > ?3
                AND id != ?4 AND span_count > 0
              ORDER BY start_time_unix_nano DESC LIMIT ?5",
        )?
        .query_map(
            params![
                t0.saturating_sub(OVERLAP_LOOKBACK_NS),
                t1,
                t0,
                trace_row,
                OVERLAP_CANDIDATES
            ],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                ))
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // Which candidates share a service: one statement over the primary key.
    let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
    let mut shared: HashMap<i64, Vec<String>> = HashMap::new();
    conn.prepare_cached(
        "SELECT trace, service_name FROM trace_services
          WHERE service_name IN (SELECT value FROM json_each(?1))
            AND trace IN (SELECT value FROM json_each(?2))
          ORDER BY trace, service_name",
    )?
    .query_map(
        params![
            serde_json::to_string(&mine).unwrap_or_default(),
            serde_json::to_string(&ids).unwrap_or_default()
        ],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?
    .try_for_each(|row| -> rusqlite::Result<()> {
        let (trace, service) = row?;
        shared.entry(trace).or_default().push(service);
        Ok(())
    })?;
    let mut found = Vec::new();
    for (row, start, end) in candidates {
        let Some(shared) = shared.remove(&row) else {
            continue;
        };
        found.push((
            end.min(t1).saturating_sub(start.max(t0)),
            row,
            start,
            end,
            shared,
        ));
    }
    found.sort_by_key(|f| (std::cmp::Reverse(f.0), f.2));
    found.truncate(OUTLINE_OVERLAPPING);
    let mut out = Vec::with_capacity(found.len());
    for (overlap, row, start, end, shared_services) in found {
        let Some(summary) = trace_summary(conn, row)? else {
            continue;
        };
        let session_id = conn
            .prepare_cached("SELECT session_id FROM traces WHERE id = ?1")?
            .query_row([row], |r| r.get::<_, Option<String>>(0))?;
        out.push(OverlappingTrace {
            trace_id: summary.trace_id,
            root_name: summary.root_name,
            service_name: summary.service_name,
            start_offset_ms: start.saturating_sub(t0) as f64 / 1e6,
            duration_ms: end.saturating_sub(start) as f64 / 1e6,
            overlap_ms: overlap as f64 / 1e6,
            error_count: summary.error_count,
            shared_services,
            session_id,
        });
    }
    Ok(out)
}

/// One span in full, with its resource and the logs written in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpanDetail {
    pub span: SpanView,
    pub resource: ResourceView,
    pub logs: Vec<LogView>,
    /// Its children's ids, in start order (the first 200).
    pub children: Vec<String>,
}

/// Logs of one span listed at most: a span that logs more is a loop, and its first hundred
/// say what it did; search_logs with its trace id pages through all of them.
pub const SPAN_LOGS: i64 = 100;

/// A span of a trace; `None` when it is not stored.
pub fn span_detail(
    conn: &Connection,
    trace_id: &[u8; 16],
    span_id: &[u8; 8],
) -> Result<Option<SpanDetail>> {
    let Some(trace_row) = conn
        .prepare_cached("SELECT id FROM traces WHERE trace_id = ?1")?
        .query_row([&trace_id[..]], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let Some(span) = conn
        .prepare_cached(&format!(
            "SELECT {} FROM spans s
               JOIN scopes c ON c.id = s.scope_id
               JOIN traces t ON t.id = s.trace
              WHERE s.trace = ?1 AND s.span_id = ?2
              ORDER BY s.start_time_unix_nano, s.id LIMIT 1",
            traces::SPAN_COLUMNS
        ))?
        .query_row(params![trace_row, &span_id[..]], traces::span_view)
        .optional()?
    else {
        return Ok(None);
    };
    let resource = traces::resource_view(conn, span.resource_row)?;
    let logs = conn
        .prepare_cached(&format!(
            "SELECT {} FROM logs l LEFT JOIN traces t ON t.id = l.trace
              WHERE l.trace = ?1 AND l.span_id = ?2 ORDER BY l.time_unix_nano, l.id LIMIT ?3",
            traces::LOG_COLUMNS
        ))?
        .query_map(
            params![trace_row, &span_id[..], SPAN_LOGS],
            traces::log_view,
        )?
        .collect::<rusqlite::Result<_>>()?;
    let children = conn
        .prepare_cached(
            "SELECT lower(hex(span_id)) FROM spans WHERE trace = ?1 AND parent_span_id = ?2
              ORDER BY start_time_unix_nano, id LIMIT ?3",
        )?
        .query_map(params![trace_row, &span_id[..], SPAN_CHILDREN], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(SpanDetail {
        span,
        resource,
        logs,
        children,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixture::{read, MISSING, SESSION, TRACE};

    #[test]
    fn a_trace_in_brief() {
        let o = read(|c| trace_outline(c, &TRACE, 1, 0)).expect("the trace");
        assert_eq!((o.span_count, o.error_count), (2, 2));
        assert_eq!(o.duration_ms, 90.0);
        let root = o.root.as_ref().expect("a root");
        assert_eq!((root.name.as_str(), root.depth), ("POST /api/checkout", 0));
        // The deepest error first: the cause, then the caller that passed it up.
        assert_eq!(o.errors[0].name, "authorize card");
        assert_eq!(o.errors[0].message.as_deref(), Some("card_declined"));
        assert_eq!(o.errors[1].depth, 0);
        // The child outlived its parent: it is clipped to it on the path, the parent holds the
        // 10 ms before the child began.
        let path: Vec<(&str, f64)> = o
            .critical_path
            .iter()
            .map(|s| (s.name.as_str(), s.critical_ms))
            .collect();
        assert_eq!(
            path,
            [("POST /api/checkout", 10.0), ("authorize card", 70.0)]
        );
        assert_eq!(o.slowest[0].name, "authorize card");
        assert_eq!(o.slowest[0].self_ms, 80.0);
        assert_eq!(o.slowest[1].self_ms, 10.0);
        assert_eq!(o.sessions[0].session_id, SESSION);
        // A page of one span, and where the next starts.
        assert_eq!(o.spans.len(), 1);
        assert_eq!(o.next_span_cursor.as_deref(), Some("1"));
        let rest = read(|c| trace_outline(c, &TRACE, 10, 1)).unwrap();
        assert_eq!(rest.spans[0].name, "authorize card");
        assert_eq!(rest.spans[0].depth, 1);
        assert_eq!(rest.next_span_cursor, None);
        assert!(read(|c| trace_outline(c, &MISSING, 10, 0)).is_none());
    }

    #[test]
    fn one_span_in_full() {
        let d = read(|c| span_detail(c, &TRACE, &[2; 8])).expect("the span");
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["span"]["name"], "authorize card");
        assert_eq!(v["span"]["attributes"]["http.route"], "/api/checkout");
        assert_eq!(v["resource"]["serviceName"], "shop-api");
        assert!(read(|c| span_detail(c, &TRACE, &[7; 8])).is_none());
        let root = read(|c| span_detail(c, &TRACE, &[1; 8])).unwrap();
        assert_eq!(root.children, [hex::encode([2u8; 8])]);
    }

    fn node(id: u8, parent: Option<u8>, start: i64, end: i64) -> Node {
        Node {
            id: vec![id],
            parent: parent.map(|p| vec![p]),
            name: format!("s{id}"),
            service: None,
            start,
            end,
            error: false,
            message: String::new(),
            row: 0,
        }
    }

    #[test]
    fn the_critical_path_follows_the_last_child_to_finish() {
        // 1: 0..100 with children 2: 10..40, 3: 20..90 (overlapping 2), 4: 0..5.
        // 3 finished last; 2 overlaps it, so it is not on the path; 4 ended before 3 began.
        let nodes = vec![
            node(1, None, 0, 100),
            node(4, Some(1), 0, 5),
            node(2, Some(1), 10, 40),
            node(3, Some(1), 20, 90),
        ];
        let children = vec![vec![1, 2, 3], vec![], vec![], vec![]];
        let mut path = critical_path(&nodes, &children, &[0], (0, 100));
        path.sort();
        // Root: 90..100 and 5..20 (25); 3: all 70; 4: all 5.
        assert_eq!(path, [(0, 25), (1, 5), (3, 70)]);
    }

    #[test]
    fn a_child_is_clipped_to_its_parent_at_both_ends() {
        // The child's clock runs behind: it "starts" before its parent. Only 10..50 of it is
        // inside the parent, as Jaeger counts it; the parent holds 50..100.
        let nodes = vec![node(1, None, 10, 100), node(2, Some(1), 0, 50)];
        let children = vec![vec![1], vec![]];
        let mut path = critical_path(&nodes, &children, &[0], (10, 100));
        path.sort();
        assert_eq!(path, [(0, 50), (1, 40)]);
    }

    #[test]
    fn several_roots_share_one_path() {
        // The caller's span never arrived: two server roots, one after the other.
        let nodes = vec![node(1, None, 0, 50), node(2, None, 60, 100)];
        let children = vec![vec![], vec![]];
        let mut path = critical_path(&nodes, &children, &[0, 1], (0, 100));
        path.sort();
        assert_eq!(path, [(0, 50), (1, 40)]);
    }

    #[test]
    fn repeated_ids_and_loops_are_walked_once() {
        // 1 and 2 name each other as parents (a loop no root reaches); 3 repeats 1's id.
        let nodes = vec![
            node(1, Some(2), 0, 10),
            node(2, Some(1), 0, 10),
            node(1, None, 0, 10),
        ];
        let children = vec![vec![1], vec![0], vec![]];
        let path = critical_path(&nodes, &children, &[2], (0, 10));
        assert_eq!(path, [(2, 10)]);
        let path = critical_path(&nodes, &children, &[0, 1], (0, 10));
        assert_eq!(path.len(), 2, "each once: {path:?}");
    }
}
