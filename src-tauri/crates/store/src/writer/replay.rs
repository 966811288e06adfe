//! A recorder batch: its chunk, indexed events, pages and nodes, and the frustration signals
//! recomputed around it.

use super::*;

/// Stores one recorder batch. A batch already stored (a retry) changes nothing: its chunk is
/// not inserted again and it adds nothing to the session's counts. Returns whether the batch
/// started a new session (`None`: it was a retry).
pub(super) fn write_replay_chunk(
    tx: &Transaction<'_>,
    c: &crate::model::ReplayChunkRow,
    frustration: &FrustrationConfig,
) -> rusqlite::Result<Option<bool>> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO replay_chunks (session_id, batch, first_ms, last_ms, event_count, raw_bytes,
                                        encoding, data, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'zstd', ?7, ?8)
             ON CONFLICT (session_id, batch) DO NOTHING",
        )?
        .execute(params![
            c.session_id,
            c.batch,
            c.first_ms,
            c.last_ms,
            c.event_count,
            c.raw_bytes as i64,
            c.data,
            c.received_ms
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let mut checkpoint = tx.prepare_cached(
        "INSERT INTO replay_checkpoints (session_id, timestamp_ms, batch, event_index)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    )?;
    for (ts, index) in &c.checkpoints {
        checkpoint.execute(params![c.session_id, ts, c.batch, index])?;
    }
    let mut page = tx.prepare_cached(
        "INSERT INTO session_pages (session_id, url, first_seen_ms, page) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (session_id, url) DO UPDATE SET
             first_seen_ms = min(first_seen_ms, excluded.first_seen_ms)",
    )?;
    for (url, ts) in &c.pages {
        // The page without query string or fragment, as the facets group it.
        let path = url.split(['?', '#']).next().unwrap_or(url);
        page.execute(params![c.session_id, url, ts, path])?;
    }
    let mut event = tx.prepare_cached(
        "INSERT INTO session_events (session_id, timestamp_ms, batch, kind, target, node_id, x, y,
                                     level, trace_id, span_id, data, incident_id, control)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    // A page view inferred from a semantic event's `page.url` is kept only when it changes the
    // session's page: every export starts with no page known.
    let mut current_page = tx.prepare_cached(
        "SELECT target FROM session_events
          WHERE session_id = ?1 AND kind = 'page_view' AND timestamp_ms <= ?2
          ORDER BY timestamp_ms DESC, id DESC LIMIT 1",
    )?;
    for e in &c.index {
        if e.kind == "page_view" && e.data == crate::model::DERIVED_PAGE_VIEW {
            let on: Option<Option<String>> = current_page
                .query_row(params![c.session_id, e.timestamp_ms], |r| r.get(0))
                .optional()?;
            if on.flatten() == e.target {
                continue;
            }
        }
        event.execute(params![
            c.session_id,
            e.timestamp_ms,
            c.batch,
            e.kind,
            e.target,
            e.node_id,
            e.x,
            e.y,
            e.level,
            e.trace_id,
            e.span_id,
            e.data,
            e.incident_id,
            e.control
        ])?;
    }
    let mut node = tx.prepare_cached(
        "INSERT INTO session_nodes (session_id, node_id, since_ms, tag, control, name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET tag = excluded.tag, control = excluded.control,
                                   name = excluded.name",
    )?;
    for n in &c.nodes {
        node.execute(params![
            c.session_id,
            n.node_id,
            n.since_ms,
            n.tag,
            n.control,
            n.name
        ])?;
    }
    // Clicks and inputs take their name and control from the node they hit, as the page was
    // then (the newest row at or before the event, with no page load between); whichever of
    // the two arrived first, the second batch completes them. Only this batch's events, and
    // earlier ones on nodes this batch describes, are looked at: never the whole session.
    let node_ids = serde_json::to_string(
        &c.nodes
            .iter()
            .map(|n| n.node_id)
            .collect::<std::collections::BTreeSet<_>>(),
    )
    .unwrap_or_else(|_| "[]".into());
    let named: Vec<i64> = tx
        .prepare_cached(
            "UPDATE session_events AS e SET
                 target = coalesce(e.target, n.name),
                 control = n.control
               FROM (SELECT e2.id AS id, n.name AS name, n.control AS control
                       FROM session_events e2
                       JOIN session_nodes n
                         ON n.session_id = e2.session_id AND n.node_id = e2.node_id
                        AND n.since_ms = (SELECT max(n2.since_ms) FROM session_nodes n2
                                           WHERE n2.session_id = e2.session_id
                                             AND n2.node_id = e2.node_id
                                             AND n2.since_ms <= e2.timestamp_ms)
                      WHERE e2.session_id = ?1 AND e2.control IS NULL
                        AND e2.node_id IS NOT NULL AND e2.kind IN ('click', 'input')
                        AND (e2.batch = ?2 OR e2.node_id IN (SELECT value FROM json_each(?3)))
                        AND NOT EXISTS (SELECT 1 FROM replay_checkpoints cp
                                         WHERE cp.session_id = e2.session_id
                                           AND cp.timestamp_ms > n.since_ms
                                           AND cp.timestamp_ms <= e2.timestamp_ms)) AS n
              WHERE e.id = n.id
              RETURNING timestamp_ms",
        )?
        .query_map(params![c.session_id, c.batch, node_ids], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // A request recorded in an incident window puts its backend trace in the window too: the
    // spans and logs of that trace already stored are tagged here, those still to come when
    // they arrive (the incident registry's tagging looks the trace up).
    let mut tag_spans = tx.prepare_cached(
        "UPDATE spans SET incident_id = ?1
          WHERE incident_id IS NULL AND trace = (SELECT id FROM traces WHERE trace_id = ?2)",
    )?;
    let mut tag_logs = tx.prepare_cached(
        "UPDATE logs SET incident_id = ?1
          WHERE incident_id IS NULL AND trace = (SELECT id FROM traces WHERE trace_id = ?2)",
    )?;
    for e in &c.index {
        if let (Some(incident), Some(trace_id)) = (&e.incident_id, &e.trace_id) {
            if let Ok(bytes) = hex::decode(trace_id) {
                tag_spans.execute(params![incident, bytes])?;
                tag_logs.execute(params![incident, bytes])?;
            }
        }
    }
    // A request the recorder saw names its trace: that trace (and every span of it, whenever
    // they arrive) belongs to this session. The trace row is created if its spans are not
    // here yet; a session the spans themselves named is kept.
    let mut link = tx.prepare_cached(
        "INSERT INTO traces (trace_id, span_count, error_count, session_id) VALUES (?1, 0, 0, ?2)
         ON CONFLICT (trace_id) DO UPDATE SET session_id = coalesce(session_id, excluded.session_id)
         RETURNING id",
    )?;
    let mut member = tx.prepare_cached(
        "INSERT INTO trace_sessions (session_id, trace) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for trace_id in c.index.iter().filter_map(|e| e.trace_id.as_deref()) {
        if let Ok(bytes) = hex::decode(trace_id) {
            let id: i64 = link.query_row(params![bytes, c.session_id], |r| r.get(0))?;
            member.execute(params![c.session_id, id])?;
        }
    }
    // Every expression on the right of SET sees the row as it was, so start_url and
    // start_batch move together to whichever batch is lowest.
    let batches = tx.prepare_cached(
        "INSERT INTO sessions (session_id, first_seen_ms, last_seen_ms, user_id, user_email,
                               start_url, start_batch, user_agent, viewport, attributes,
                               event_count, batch_count, raw_bytes, stored_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?13)
         ON CONFLICT (session_id) DO UPDATE SET
             first_seen_ms = min(coalesce(first_seen_ms, excluded.first_seen_ms), excluded.first_seen_ms),
             last_seen_ms = max(coalesce(last_seen_ms, excluded.last_seen_ms), excluded.last_seen_ms),
             user_id = coalesce(excluded.user_id, user_id),
             user_email = coalesce(excluded.user_email, user_email),
             start_url = CASE WHEN start_batch IS NULL OR excluded.start_batch < start_batch
                              THEN coalesce(excluded.start_url, start_url) ELSE start_url END,
             start_batch = CASE WHEN start_batch IS NULL OR excluded.start_batch < start_batch
                                THEN excluded.start_batch ELSE start_batch END,
             user_agent = coalesce(user_agent, excluded.user_agent),
             viewport = coalesce(excluded.viewport, viewport),
             attributes = json_patch(attributes, excluded.attributes),
             event_count = event_count + excluded.event_count,
             batch_count = batch_count + 1,
             raw_bytes = raw_bytes + excluded.raw_bytes,
             stored_bytes = stored_bytes + excluded.stored_bytes
         RETURNING batch_count",
    )?
    .query_row(
        params![
            c.session_id,
            c.first_ms,
            c.last_ms,
            c.meta.user_id,
            c.meta.user_email,
            c.meta.url,
            c.batch,
            c.meta.user_agent,
            c.meta.viewport,
            c.meta.attributes,
            c.event_count,
            c.raw_bytes as i64,
            c.data.len() as i64
        ],
        |r| r.get::<_, i64>(0),
    )?;
    // A request reported in this batch may have started before it, next to a click in an
    // earlier batch.
    let earliest = c
        .index
        .iter()
        .filter(|e| e.kind == "network")
        .map(|e| {
            let duration = serde_json::from_str::<serde_json::Value>(&e.data)
                .ok()
                .and_then(|d| d.get("durationMs").and_then(serde_json::Value::as_f64));
            frustration::request_start(e.timestamp_ms, duration)
        })
        .fold(c.first_ms, i64::min);
    // Clicks named just now may be older than this batch: their signals are redone too.
    let earliest = named.iter().copied().fold(earliest, i64::min);
    let has_dom = !c.checkpoints.is_empty() || c.index.iter().any(|e| e.kind == "dom");
    recompute_frustration(tx, &c.session_id, earliest, c.last_ms, has_dom, frustration)?;
    Ok(Some(batches == 1))
}

/// Recomputes the session's signals wherever this batch's events could change them: anchors
/// within one rule horizon of the batch, from events within two. A batch that arrives late or
/// out of order therefore corrects signals computed before it came (a click that looked dead
/// until the next batch brought the DOM change).
pub(super) fn recompute_frustration(
    tx: &Transaction<'_>,
    session_id: &str,
    first_ms: i64,
    last_ms: i64,
    batch_has_dom: bool,
    cfg: &FrustrationConfig,
) -> rusqlite::Result<()> {
    let w = cfg.horizon_ms();
    let (from, to) = (first_ms.saturating_sub(w), last_ms.saturating_add(w));
    tx.prepare_cached(
        "DELETE FROM frustration_signals
          WHERE session_id = ?1 AND timestamp_ms BETWEEN ?2 AND ?3",
    )?
    .execute(params![session_id, from, to])?;
    let events: Vec<frustration::Event> = tx
        .prepare_cached(
            // A request is activity when it starts (see frustration::request_start) and when
            // its answer arrives; reports up to MAX_REQUEST_MS past the window can start
            // inside it.
            // A console error is an error to the rules: rrweb's console plugin is how a plain
            // rrweb stream records an uncaught one.
            "SELECT timestamp_ms AS at, CASE WHEN kind = 'console' THEN 'error' ELSE kind END,
                    target, node_id, x, y, id, control, level,
                    CASE WHEN kind = 'frustration' THEN data END
               FROM session_events
              WHERE session_id = ?1 AND timestamp_ms BETWEEN ?2 AND ?3
                AND (kind IN ('click', 'dom', 'page_view', 'network', 'error', 'scroll', 'input',
                              'focus', 'selection', 'frustration')
                     OR (kind = 'console' AND level = 'error'))
             UNION ALL
             SELECT timestamp_ms - min(max(coalesce(
                        CAST(json_extract(data, '$.durationMs') AS INTEGER), 0), 0), ?4),
                    kind, target, node_id, x, y, id, NULL, NULL, NULL FROM session_events
              WHERE session_id = ?1 AND timestamp_ms BETWEEN ?2 AND ?3 AND kind = 'network'
              ORDER BY 1, 7",
        )?
        .query_map(
            params![
                session_id,
                from.saturating_sub(w),
                to.saturating_add(w)
                    .saturating_add(frustration::MAX_REQUEST_MS),
                frustration::MAX_REQUEST_MS
            ],
            |r| {
                let level: Option<String> = r.get(8)?;
                let data: Option<String> = r.get(9)?;
                Ok(frustration::Event {
                    timestamp_ms: r.get(0)?,
                    kind: r.get(1)?,
                    target: r.get(2)?,
                    node_id: r.get(3)?,
                    x: r.get(4)?,
                    y: r.get(5)?,
                    control: r.get(7)?,
                    reported: data.map(|d| reported_signal(level, &d)),
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    // The dead-click rule needs a DOM stream (a full snapshot, or the mutations of one whose
    // snapshot is not here): a session told only in semantic events cannot show that nothing
    // changed.
    // (This batch's own mutations count, so a stream whose snapshot batch is missing still
    // is one.)
    let has_dom: bool = batch_has_dom
        || tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM replay_checkpoints WHERE session_id = ?1)",
            )?
            .query_row([session_id], |r| r.get(0))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO frustration_signals (session_id, timestamp_ms, kind, score, target, reason,
                                          evidence, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for s in frustration::signals(&events, cfg, has_dom) {
        if (from..=to).contains(&s.timestamp_ms) {
            insert.execute(params![
                session_id,
                s.timestamp_ms,
                s.kind,
                s.score,
                s.target,
                s.reason,
                s.evidence.to_string(),
                s.source
            ])?;
        }
    }
    tx.prepare_cached(
        "UPDATE sessions SET
             frustration_score = (SELECT coalesce(sum(score), 0) FROM frustration_signals
                                   WHERE session_id = ?1),
             error_count = (SELECT count(*) FROM session_events
                             WHERE session_id = ?1
                               AND (kind = 'error' OR (kind = 'console' AND level = 'error'))),
             -- The first condition is the partial index's, so only failed and refused requests
             -- are read; a request the page aborted itself is no failure.
             failed_request_count = (SELECT count(*) FROM session_events
                                      WHERE session_id = ?1 AND kind = 'network'
                                        AND (CAST(level AS INTEGER) >= 400 OR level = '0')
                                        AND (CAST(level AS INTEGER) >= 500
                                             OR (level = '0'
                                                 AND json_extract(data, '$.aborted') IS NOT 1))),
             client_error_count = (SELECT count(*) FROM session_events
                                    WHERE session_id = ?1 AND kind = 'network'
                                      AND (CAST(level AS INTEGER) >= 400 OR level = '0')
                                      AND CAST(level AS INTEGER) BETWEEN 400 AND 499)
         WHERE session_id = ?1",
    )?
    .execute([session_id])?;
    Ok(())
}

/// A client-reported signal from its indexed event (`level`: its type; `data`: the record's
/// attributes as JSON).
pub(super) fn reported_signal(level: Option<String>, data: &str) -> frustration::Reported {
    // Ingest wrote these, bounded (ingest::replay::reported_signal).
    let d: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let num = |k: &str| d.get(k).and_then(serde_json::Value::as_f64);
    let kind = level.unwrap_or_default();
    frustration::Reported {
        kind: match d.get("type").and_then(serde_json::Value::as_str) {
            Some(own) if kind == "reported" => own.to_owned(),
            _ => kind,
        },
        score: num("score"),
        click_count: num("clickCount").map(|n| n as i64),
        duration_ms: num("durationMs"),
    }
}
