//! One batch's rows: resources and scopes (each once, by content), spans, logs, metrics and
//! their points, pins, imports, incident windows, and the replay chunks it carries.

use super::*;

pub(super) fn write_batch(
    tx: &Transaction<'_>,
    cache: &IdCache,
    fresh: &mut IdCache,
    traces: &mut TraceRows,
    frustration: &FrustrationConfig,
    batch: &Batch,
    change: &mut Change,
) -> rusqlite::Result<()> {
    let trace_row = |trace_id: &[u8; 16]| -> rusqlite::Result<i64> {
        traces
            .ids
            .get(trace_id)
            .copied()
            .ok_or_else(|| bad_ref("trace", 0))
    };
    let mut resource_ids = Vec::with_capacity(batch.resources.len());
    for r in &batch.resources {
        let id = match lookup(&cache.resources, &fresh.resources, &r.hash) {
            Some(id) => id,
            None => {
                tx.prepare_cached(
                    "INSERT INTO resources (hash, service_name, attributes, dropped_attributes_count,
                                            entity_refs, schema_url)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
                )?
                .execute(params![
                    &r.hash[..],
                    r.service_name,
                    r.attributes,
                    r.dropped_attributes_count,
                    r.entity_refs,
                    r.schema_url
                ])?;
                let id = tx
                    .prepare_cached("SELECT id FROM resources WHERE hash = ?1")?
                    .query_row([&r.hash[..]], |row| row.get(0))?;
                fresh.resources.insert(r.hash, id);
                id
            }
        };
        resource_ids.push((id, r.service_name.as_deref()));
    }

    let mut scope_ids = Vec::with_capacity(batch.scopes.len());
    for s in &batch.scopes {
        let id = match lookup(&cache.scopes, &fresh.scopes, &s.hash) {
            Some(id) => id,
            None => {
                tx.prepare_cached(
                    "INSERT INTO scopes (hash, name, version, attributes, dropped_attributes_count,
                                         schema_url)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
                )?
                .execute(params![
                    &s.hash[..],
                    s.name,
                    s.version,
                    s.attributes,
                    s.dropped_attributes_count,
                    s.schema_url
                ])?;
                let id = tx
                    .prepare_cached("SELECT id FROM scopes WHERE hash = ?1")?
                    .query_row([&s.hash[..]], |row| row.get(0))?;
                fresh.scopes.insert(s.hash, id);
                id
            }
        };
        scope_ids.push(id);
    }

    let resolve = |resource: usize, scope: usize| -> rusqlite::Result<(i64, Option<&str>, i64)> {
        let (rid, service) = resource_ids
            .get(resource)
            .copied()
            .ok_or_else(|| bad_ref("resource", resource))?;
        let sid = scope_ids
            .get(scope)
            .copied()
            .ok_or_else(|| bad_ref("scope", scope))?;
        Ok((rid, service, sid))
    };

    // Spans stored before this batch have ids up to this.
    let before: i64 = if batch.spans.is_empty() {
        0
    } else {
        tx.prepare_cached("SELECT coalesce(max(id), 0) FROM spans")?
            .query_row([], |r| r.get(0))?
    };
    if !batch.spans.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO spans (trace_id, span_id, parent_span_id, trace_state, flags, name, kind,
                                start_time_unix_nano, end_time_unix_nano, attributes,
                                dropped_attributes_count, events, dropped_events_count, links,
                                dropped_links_count, status_code, status_message, resource_id,
                                scope_id, service_name, session_id, trace, incident_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20, ?21, ?22, ?23)",
        )?;
        for s in &batch.spans {
            let (rid, service, sid) = resolve(s.resource, s.scope)?;
            insert.execute(params![
                &s.trace_id[..],
                &s.span_id[..],
                s.parent_span_id.as_ref().map(|p| &p[..]),
                s.trace_state,
                s.flags,
                s.name,
                s.kind,
                s.start_time_unix_nano as i64,
                s.end_time_unix_nano as i64,
                s.attributes,
                s.dropped_attributes_count,
                s.events,
                s.dropped_events_count,
                s.links,
                s.dropped_links_count,
                s.status_code,
                s.status_message,
                rid,
                sid,
                service,
                s.session_id,
                trace_row(&s.trace_id)?,
                s.incident_id,
            ])?;
        }
    }

    if !batch.logs.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO logs (time_unix_nano, observed_time_unix_nano, severity_number,
                               severity_text, body, attributes, dropped_attributes_count, flags,
                               trace_id, span_id, event_name, resource_id, scope_id, service_name,
                               session_id, trace, incident_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        for l in &batch.logs {
            let (rid, service, sid) = resolve(l.resource, l.scope)?;
            insert.execute(params![
                l.time_unix_nano as i64,
                l.observed_time_unix_nano as i64,
                l.severity_number,
                l.severity_text,
                l.body,
                l.attributes,
                l.dropped_attributes_count,
                l.flags,
                l.trace_id.as_ref().map(|t| &t[..]),
                l.span_id.as_ref().map(|s| &s[..]),
                l.event_name,
                rid,
                sid,
                service,
                l.session_id,
                l.trace_id.as_ref().map(trace_row).transpose()?,
                l.incident_id,
            ])?;
        }
    }

    let mut metric_ids = Vec::with_capacity(batch.metrics.len());
    for m in &batch.metrics {
        let (rid, service, sid) = resolve(m.resource, m.scope)?;
        let hash = metric_stream_hash(m, rid, sid);
        let id = match lookup(&cache.metrics, &fresh.metrics, &hash) {
            Some(id) => id,
            None => {
                tx.prepare_cached(
                    "INSERT INTO metrics (hash, resource_id, scope_id, name, description, unit, type,
                                          aggregation_temporality, is_monotonic, metadata,
                                          service_name)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (hash) DO NOTHING",
                )?
                .execute(params![
                    &hash[..],
                    rid,
                    sid,
                    m.name,
                    m.description,
                    m.unit,
                    m.kind,
                    m.aggregation_temporality,
                    m.is_monotonic,
                    m.metadata,
                    service
                ])?;
                let id = tx
                    .prepare_cached("SELECT id FROM metrics WHERE hash = ?1")?
                    .query_row([&hash[..]], |row| row.get(0))?;
                fresh.metrics.insert(hash, id);
                id
            }
        };
        metric_ids.push(id);
    }

    if !batch.spans.is_empty() {
        write_service_stats(tx, batch)?;
        write_service_edges(tx, batch, traces, before)?;
    }

    if let Some(d) = &batch.delete {
        crate::retention::delete(tx, d)?;
        // The freed pages go back to the filesystem (databases created with incremental
        // auto-vacuum; a no-op for older ones), a bounded number per deletion.
        tx.execute_batch(&format!(
            "PRAGMA incremental_vacuum({VACUUM_PAGES_PER_DELETION})"
        ))?;
    }
    for p in &batch.pins {
        match &p.pin {
            Some(note) => crate::retention::pin(
                tx,
                &p.session_id,
                Some(note.as_str()).filter(|n| !n.is_empty()),
                p.at_ms,
            )?,
            None => {
                tx.execute(
                    "DELETE FROM pinned_sessions WHERE session_id = ?1",
                    [&p.session_id],
                )?;
            }
        }
    }

    if let Some(import) = &batch.import {
        // A plain INSERT: a bundle already imported fails the whole transaction.
        tx.prepare_cached(
            "INSERT INTO imports (checksum, file_name, imported_ms, exported_ms, source, manifest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            import.checksum,
            import.file_name,
            import.imported_ms,
            import.exported_ms,
            import.source,
            import.manifest,
        ])?;
        let mut session = tx.prepare_cached(
            "INSERT INTO session_imports (session_id, checksum) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
        )?;
        for id in &import.sessions {
            session.execute(params![id, import.checksum])?;
        }
    }

    for incident in &batch.incidents {
        tx.prepare_cached(
            "INSERT INTO incidents (id, started_ms, until_ms, ended_early, scope_kind, scope_value,
                                    label, ticket_url, started_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET until_ms = excluded.until_ms,
                 ended_early = excluded.ended_early, label = excluded.label,
                 ticket_url = excluded.ticket_url",
        )?
        .execute(params![
            incident.id,
            incident.started_ms,
            incident.until_ms,
            incident.ended_early,
            incident.scope.kind(),
            incident.scope.value(),
            incident.label,
            incident.ticket_url,
            incident.started_by.as_str(),
        ])?;
    }

    for chunk in &batch.replay {
        if let Some(new) = write_replay_chunk(tx, chunk, frustration)? {
            let list = if new {
                &mut change.new_sessions
            } else {
                &mut change.updated_sessions
            };
            if !list.contains(&chunk.session_id) {
                list.push(chunk.session_id.clone());
            }
        }
    }

    if !batch.points.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO metric_points (metric_id, time_unix_nano, start_time_unix_nano, attributes,
                                        value, count, sum, point)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for p in &batch.points {
            let mid = metric_ids
                .get(p.metric)
                .copied()
                .ok_or_else(|| bad_ref("metric", p.metric))?;
            insert.execute(params![
                mid,
                p.time_unix_nano as i64,
                p.start_time_unix_nano as i64,
                p.attributes,
                p.value,
                p.count.map(|c| c as i64),
                p.sum,
                p.point,
            ])?;
        }
    }
    Ok(())
}
