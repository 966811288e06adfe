//! The writer's trace bookkeeping: one summary row per trace per commit, the calls between
//! services a batch completes, the signal counters and per-service span statistics.

use super::*;

/// What one group commit adds to a trace's summary row.
#[derive(Default)]
pub(super) struct TraceDelta {
    start: Option<u64>,
    end: Option<u64>,
    spans: i64,
    errors: i64,
    /// Sessions named on the trace's spans and logs, first seen first.
    sessions: Vec<String>,
    services: Vec<String>,
}

impl TraceDelta {
    fn add_session(&mut self, session: &Option<String>) {
        if let Some(id) = session {
            if !self.sessions.contains(id) {
                self.sessions.push(id.clone());
            }
        }
    }
}

/// Upserts one summary row per trace named in `jobs` (in order of first appearance, so ids
/// follow arrival) and returns trace id → row id. One random-key write per trace instead of
/// one per span is what keeps ingest fast on a large database.
pub(super) fn upsert_traces(
    tx: &Transaction<'_>,
    jobs: &[Job],
) -> rusqlite::Result<HashMap<[u8; 16], i64>> {
    let mut order: Vec<[u8; 16]> = Vec::new();
    let mut deltas: HashMap<[u8; 16], TraceDelta> = HashMap::new();
    for job in jobs {
        let b = &job.batch;
        for s in &b.spans {
            let d = deltas.entry(s.trace_id).or_insert_with(|| {
                order.push(s.trace_id);
                TraceDelta::default()
            });
            d.start = Some(
                d.start
                    .map_or(s.start_time_unix_nano, |v| v.min(s.start_time_unix_nano)),
            );
            d.end = Some(
                d.end
                    .map_or(s.end_time_unix_nano, |v| v.max(s.end_time_unix_nano)),
            );
            d.spans += 1;
            d.errors += i64::from(s.status_code == STATUS_CODE_ERROR);
            d.add_session(&s.session_id);
            if let Some(service) = b
                .resources
                .get(s.resource)
                .and_then(|r| r.service_name.as_ref())
            {
                if !d.services.contains(service) {
                    d.services.push(service.clone());
                }
            }
        }
        for l in &b.logs {
            let Some(trace_id) = l.trace_id else { continue };
            let d = deltas.entry(trace_id).or_insert_with(|| {
                order.push(trace_id);
                TraceDelta::default()
            });
            d.add_session(&l.session_id);
        }
    }
    let mut ids = HashMap::with_capacity(order.len());
    let mut upsert = tx.prepare_cached(
        "INSERT INTO traces (trace_id, start_time_unix_nano, end_time_unix_nano, span_count,
                             error_count, session_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (trace_id) DO UPDATE SET
             start_time_unix_nano = min(coalesce(start_time_unix_nano, excluded.start_time_unix_nano),
                                        coalesce(excluded.start_time_unix_nano, start_time_unix_nano)),
             end_time_unix_nano = max(coalesce(end_time_unix_nano, excluded.end_time_unix_nano),
                                      coalesce(excluded.end_time_unix_nano, end_time_unix_nano)),
             span_count = span_count + excluded.span_count,
             error_count = error_count + excluded.error_count,
             session_id = coalesce(session_id, excluded.session_id)
         RETURNING id",
    )?;
    let mut link = tx.prepare_cached(
        "INSERT INTO trace_services (service_name, trace) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    let mut member = tx.prepare_cached(
        "INSERT INTO trace_sessions (session_id, trace) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for trace_id in order {
        let Some(d) = deltas.remove(&trace_id) else {
            continue;
        };
        let id: i64 = upsert.query_row(
            params![
                &trace_id[..],
                d.start.map(|v| v as i64),
                d.end.map(|v| v as i64),
                d.spans,
                d.errors,
                d.sessions.first()
            ],
            |r| r.get(0),
        )?;
        for service in &d.services {
            link.execute(params![service, id])?;
        }
        for session in &d.sessions {
            member.execute(params![session, id])?;
        }
        ids.insert(trace_id, id);
    }
    Ok(ids)
}

/// OTLP's `STATUS_CODE_ERROR`.
pub(super) const STATUS_CODE_ERROR: i32 = 2;

/// The transaction's traces: their row ids, and which could already hold spans when a batch
/// is written (those stored before the transaction, and those an earlier batch of it wrote
/// to). A span of any other trace can have no stored children, so looking for them is skipped:
/// most traces arrive whole.
pub(super) struct TraceRows {
    pub(super) ids: HashMap<[u8; 16], i64>,
    pub(super) stored_before: i64,
    pub(super) written: std::collections::HashSet<i64>,
}

impl TraceRows {
    fn may_have_spans(&self, trace: i64) -> bool {
        trace <= self.stored_before || self.written.contains(&trace)
    }
}

/// OTLP's `SPAN_KIND_SERVER` and `SPAN_KIND_CONSUMER`: the receiving side of a call.
pub(super) fn receives_calls(kind: i32) -> bool {
    kind == 2 || kind == 5
}

/// Counts the calls between services this batch completes: each of its server/consumer spans
/// whose parent (stored before, or in this batch) is in another service, and each stored
/// server/consumer span (before this batch) whose parent is one of this batch's spans. A call
/// is thus counted exactly once, by whichever of its two spans arrived second.
pub(super) fn write_service_edges(
    tx: &Transaction<'_>,
    batch: &Batch,
    traces: &mut TraceRows,
    before: i64,
) -> rusqlite::Result<()> {
    let service = |s: &crate::model::SpanRow| {
        batch
            .resources
            .get(s.resource)
            .and_then(|r| r.service_name.clone())
    };
    let minute = |ns: u64| (ns / 60_000_000_000) as i64;
    let mut edges: HashMap<(i64, String, String), (i64, i64)> = HashMap::new();
    let mut parent =
        tx.prepare_cached("SELECT service_name FROM spans WHERE trace = ?1 AND span_id = ?2")?;
    let mut children = tx.prepare_cached(
        "SELECT service_name, start_time_unix_nano, status_code FROM spans
          WHERE trace = ?1 AND parent_span_id = ?2 AND kind IN (2, 5)
            AND parent_span_id IS NOT NULL AND id <= ?3",
    )?;
    for s in &batch.spans {
        let (Some(name), Some(&trace)) = (service(s), traces.ids.get(&s.trace_id)) else {
            continue;
        };
        if let (true, Some(p)) = (receives_calls(s.kind), s.parent_span_id) {
            let from: Option<Option<String>> = parent
                .query_row(params![trace, &p[..]], |r| r.get(0))
                .optional()?;
            if let Some(from) = from.flatten().filter(|f| *f != name) {
                let e = edges
                    .entry((minute(s.start_time_unix_nano), from, name.clone()))
                    .or_default();
                e.0 += 1;
                e.1 += i64::from(s.status_code == STATUS_CODE_ERROR);
            }
        }
        if traces.may_have_spans(trace) {
            let mut rows = children.query(params![trace, &s.span_id[..], before])?;
            while let Some(r) = rows.next()? {
                let Some(to) = r.get::<_, Option<String>>(0)?.filter(|t| *t != name) else {
                    continue;
                };
                let start: i64 = r.get(1)?;
                let e = edges
                    .entry((minute(start.max(0) as u64), name.clone(), to))
                    .or_default();
                e.0 += 1;
                e.1 += i64::from(r.get::<_, i32>(2)? == STATUS_CODE_ERROR);
            }
        }
    }
    for s in &batch.spans {
        if let Some(&trace) = traces.ids.get(&s.trace_id) {
            traces.written.insert(trace);
        }
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO service_edges (minute, parent_service, child_service, call_count, error_count)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET call_count = call_count + excluded.call_count,
                                   error_count = error_count + excluded.error_count",
    )?;
    for ((minute, from, to), (calls, errors)) in edges {
        upsert.execute(params![minute, from, to, calls, errors])?;
    }
    Ok(())
}

/// Adds the transaction's rows to the status totals, and notes the sessions they name.
pub(super) fn write_counters(tx: &Transaction<'_>, jobs: &[Job]) -> rusqlite::Result<()> {
    let mut add = tx.prepare_cached(
        "INSERT INTO counters (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
    )?;
    let sum = |f: fn(&Batch) -> usize| jobs.iter().map(|j| f(&j.batch)).sum::<usize>() as i64;
    for (name, n) in [
        ("spans", sum(|b| b.spans.len())),
        ("logs", sum(|b| b.logs.len())),
        ("metric_points", sum(|b| b.points.len())),
    ] {
        if n > 0 {
            add.execute(params![name, n])?;
        }
    }
    let mut sessions: Vec<&str> = Vec::new();
    for b in jobs.iter().map(|j| &j.batch) {
        let named = b
            .spans
            .iter()
            .filter_map(|s| s.session_id.as_deref())
            .chain(b.logs.iter().filter_map(|l| l.session_id.as_deref()))
            .chain(b.replay.iter().map(|c| c.session_id.as_str()));
        for id in named {
            if !sessions.contains(&id) {
                sessions.push(id);
            }
        }
    }
    let mut known =
        tx.prepare_cached("INSERT OR IGNORE INTO known_sessions (session_id) VALUES (?1)")?;
    for id in sessions {
        known.execute([id])?;
    }
    Ok(())
}

/// Adds a batch's spans to its services' counters: one upsert per service, not per span.
pub(super) fn write_service_stats(tx: &Transaction<'_>, batch: &Batch) -> rusqlite::Result<()> {
    let mut per_service: HashMap<&str, (i64, i64, u64, u64)> = HashMap::new();
    for s in &batch.spans {
        let Some(service) = batch
            .resources
            .get(s.resource)
            .and_then(|r| r.service_name.as_deref())
        else {
            continue;
        };
        let e = per_service.entry(service).or_insert((0, 0, u64::MAX, 0));
        e.0 += 1;
        e.1 += i64::from(s.status_code == STATUS_CODE_ERROR);
        e.2 = e.2.min(s.start_time_unix_nano);
        e.3 = e.3.max(s.start_time_unix_nano);
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO service_stats (service_name, span_count, error_count, first_seen_unix_nano,
                                    last_seen_unix_nano)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (service_name) DO UPDATE SET
             span_count = span_count + excluded.span_count,
             error_count = error_count + excluded.error_count,
             first_seen_unix_nano = min(first_seen_unix_nano, excluded.first_seen_unix_nano),
             last_seen_unix_nano = max(last_seen_unix_nano, excluded.last_seen_unix_nano)",
    )?;
    for (service, (spans, errors, first, last)) in per_service {
        upsert.execute(params![service, spans, errors, first as i64, last as i64])?;
    }
    Ok(())
}
