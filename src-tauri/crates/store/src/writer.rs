//! The single writer: one thread, one connection, group commit.
//!
//! Requests queue their [`Batch`] with an acknowledgement channel. The thread takes everything
//! queued (up to [`MAX_ROWS_PER_TRANSACTION`]), writes it in one transaction, and only after
//! COMMIT returns does it acknowledge each request, so an acknowledged batch is on disk.
//! Under load, many requests share one commit; idle, a lone request commits at once.
//!
//! The queue is bounded ([`WRITER_QUEUE_DEPTH`]); admission control in front of it (the server's)
//! decides what a client is told when it is full.

use std::collections::HashMap;
use std::path::PathBuf;
use std::thread::JoinHandle;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, StoreError};
use crate::frustration::{self, FrustrationConfig};
use crate::model::{metric_stream_hash, Batch, ContentHash};

/// Requests waiting for the writer. Each holds at most one decoded request body, so this bounds
/// the memory held in the queue together with the server's admission limit.
pub const WRITER_QUEUE_DEPTH: usize = 64;

/// Pages returned to the filesystem after each retention deletion: 32 MiB of 8 KiB pages, a
/// few milliseconds of work, so a deletion never holds the writer for long.
const VACUUM_PAGES_PER_DELETION: u32 = 4096;

/// Rows in one transaction. Large enough that commit overhead is amortized (about 100 requests
/// of 512 spans), small enough that a commit takes well under a second and readers see fresh
/// data quickly.
pub const MAX_ROWS_PER_TRANSACTION: usize = 50_000;

/// How often, at most, the checkpointer copies the WAL back into the database file. Each
/// checkpoint costs an fsync; batching them keeps that off the hot path.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Under sustained writes the background checkpoints never catch up completely, and SQLite
/// only restarts the WAL once every frame is copied back, so the WAL would grow without bound.
/// Past this size the writer checkpoints itself between two transactions: by then the
/// background thread has copied most frames, so this is short, and it lets the next
/// transaction restart the WAL from the beginning. Large, because pages rewritten often (trace
/// rows, index tails) are copied back once per reset: 512 MiB measured ~25% faster sustained
/// ingest than 128 MiB (BENCHMARKS.md), at the cost of that much disk under load.
const WAL_INLINE_CHECKPOINT_BYTES: u64 = 512 * 1024 * 1024;

/// Ids of rows the writer has seen, so a repeated resource costs a hash lookup, not a query.
/// Capped because a misbehaving client could send a new resource with every request.
const ID_CACHE_CAPACITY: usize = 100_000;

type Ack = oneshot::Sender<Result<(), StoreError>>;

/// What one group commit changed, announced to live subscribers (the API's event stream).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub new_sessions: Vec<String>,
    pub updated_sessions: Vec<String>,
    pub spans: usize,
    pub traces: usize,
    pub logs: usize,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.new_sessions.is_empty()
            && self.updated_sessions.is_empty()
            && self.spans == 0
            && self.logs == 0
    }

    /// Folds a later change into this one.
    pub fn merge(&mut self, other: Change) {
        for id in other.new_sessions {
            if !self.new_sessions.contains(&id) {
                self.new_sessions.push(id);
            }
        }
        for id in other.updated_sessions {
            if !self.new_sessions.contains(&id) && !self.updated_sessions.contains(&id) {
                self.updated_sessions.push(id);
            }
        }
        self.spans += other.spans;
        self.traces += other.traces;
        self.logs += other.logs;
    }
}

/// Changes buffered for a slow subscriber before it is told to resynchronize instead.
pub const CHANGE_BUFFER: usize = 256;

struct Job {
    batch: Batch,
    ack: Ack,
}

/// A handle for queueing writes; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Queues a batch and waits until it is committed.
    pub async fn write(&self, batch: Batch) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Job { batch, ack })
            .await
            .map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Blocking variant for threads outside the async runtime (importers, tests).
    pub fn write_blocking(&self, batch: Batch) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .blocking_send(Job { batch, ack })
            .map_err(|_| StoreError::Closed)?;
        done.blocking_recv().map_err(|_| StoreError::Closed)?
    }
}

/// The writer thread; joining it waits for the last commit and a WAL checkpoint.
pub(crate) struct WriterThread {
    handle: JoinHandle<()>,
}

impl WriterThread {
    pub(crate) fn spawn(
        conn: Connection,
        path: PathBuf,
        frustration: FrustrationConfig,
        changes: tokio::sync::broadcast::Sender<Change>,
    ) -> Result<(Writer, WriterThread)> {
        let (tx, rx) = mpsc::channel(WRITER_QUEUE_DEPTH);
        let checkpointer = Checkpointer::spawn(&path)?;
        let handle = std::thread::Builder::new()
            .name("sightline-writer".into())
            .spawn(move || run(conn, rx, path, checkpointer, frustration, changes))
            .map_err(|e| StoreError::Write(format!("cannot start the writer thread: {e}")))?;
        Ok((Writer { tx }, WriterThread { handle }))
    }

    pub(crate) fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("the writer thread panicked");
        }
    }
}

/// Checkpoints on a thread and connection of its own, so the writer never waits for the copy
/// back into the database file or its fsync. SQLite lets a PASSIVE checkpoint run beside a
/// writer in WAL mode; the writer's own automatic checkpoints are turned off (see `db.rs`).
struct Checkpointer {
    nudge: std::sync::mpsc::SyncSender<()>,
    handle: JoinHandle<()>,
}

impl Checkpointer {
    fn spawn(path: &std::path::Path) -> Result<Checkpointer> {
        let conn = crate::db::open_checkpointer(path)?;
        // One slot: nudges while a checkpoint runs coalesce into one more.
        let (nudge, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let handle = std::thread::Builder::new()
            .name("sightline-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!(%err, "checkpoint failed; the next one will retry");
                    }
                    std::thread::sleep(CHECKPOINT_INTERVAL);
                }
            })
            .map_err(|e| StoreError::Write(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer { nudge, handle })
    }

    fn nudge(&self) {
        let _ = self.nudge.try_send(());
    }

    fn stop(self) {
        drop(self.nudge);
        let _ = self.handle.join();
    }
}

#[derive(Default)]
struct IdCache {
    resources: HashMap<ContentHash, i64>,
    scopes: HashMap<ContentHash, i64>,
    metrics: HashMap<ContentHash, i64>,
}

impl IdCache {
    fn merge(&mut self, other: IdCache) {
        for (mine, theirs) in [
            (&mut self.resources, other.resources),
            (&mut self.scopes, other.scopes),
            (&mut self.metrics, other.metrics),
        ] {
            if mine.len() + theirs.len() > ID_CACHE_CAPACITY {
                mine.clear();
            }
            mine.extend(theirs);
        }
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    path: PathBuf,
    checkpointer: Checkpointer,
    frustration: FrustrationConfig,
    changes: tokio::sync::broadcast::Sender<Change>,
) {
    let mut cache = IdCache::default();
    while let Some(first) = rx.blocking_recv() {
        let mut rows = first.batch.row_count();
        let mut jobs = vec![first];
        while rows < MAX_ROWS_PER_TRANSACTION {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.batch.row_count();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        // A panic inside one commit (a bug, or a dependency's) fails that commit's jobs, not
        // the writer: its transaction rolls back as it unwinds, and the next batch is written.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit(&mut conn, &cache, &jobs, &frustration)
        }));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                for job in jobs {
                    let _ = job.ack.send(Err(StoreError::Write(format!(
                        "the write failed inside Sightline ({what}); the writer goes on"
                    ))));
                }
                continue;
            }
        };
        match outcome {
            Ok((new_ids, change)) => {
                cache.merge(new_ids);
                if !change.is_empty() {
                    // No subscriber is not an error: nobody is watching.
                    let _ = changes.send(change);
                }
                for job in jobs {
                    let _ = job.ack.send(Ok(()));
                }
                checkpointer.nudge();
                if wal_bytes(&path) > WAL_INLINE_CHECKPOINT_BYTES {
                    if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!(%err, "inline checkpoint failed");
                    }
                }
            }
            Err(err) => {
                let retryable = matches!(
                    err.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull)
                );
                tracing::warn!(%err, jobs = jobs.len(), "group commit failed");
                for job in jobs {
                    let message = err.to_string();
                    let _ = job.ack.send(Err(if retryable {
                        StoreError::Unavailable(message)
                    } else {
                        StoreError::Write(message)
                    }));
                }
            }
        }
    }
    // Every sender is gone: the last commit has been acknowledged. Fold the WAL back into the
    // main file so the database is one self-contained file at rest. `optimize` first: it may
    // write statistics, and a reader connection still open (the engine keeps a pool) means
    // ours is not the last close, which would otherwise have folded those writes in.
    checkpointer.stop();
    if let Err(err) = conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);") {
        tracing::warn!(%err, path = %path.display(), "final checkpoint failed");
    }
}

fn wal_bytes(db: &std::path::Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(std::path::Path::new(&wal))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Writes all jobs in one IMMEDIATE transaction. Returns the ids it created, which join the
/// cache only once the commit has succeeded (a rolled-back id must never be reused).
fn commit(
    conn: &mut Connection,
    cache: &IdCache,
    jobs: &[Job],
    frustration: &FrustrationConfig,
) -> rusqlite::Result<(IdCache, Change)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut fresh = IdCache::default();
    let stored_traces: i64 = tx
        .prepare_cached("SELECT coalesce(max(id), 0) FROM traces")?
        .query_row([], |r| r.get(0))?;
    let mut traces = TraceRows {
        ids: upsert_traces(&tx, jobs)?,
        stored_before: stored_traces,
        written: std::collections::HashSet::new(),
    };
    let mut change = Change {
        traces: traces.ids.len(),
        ..Change::default()
    };
    for job in jobs {
        write_batch(
            &tx,
            cache,
            &mut fresh,
            &mut traces,
            frustration,
            &job.batch,
            &mut change,
        )?;
        change.spans += job.batch.spans.len();
        change.logs += job.batch.logs.len();
    }
    write_counters(&tx, jobs)?;
    tx.commit()?;
    Ok((fresh, change))
}

/// What one group commit adds to a trace's summary row.
#[derive(Default)]
struct TraceDelta {
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
fn upsert_traces(tx: &Transaction<'_>, jobs: &[Job]) -> rusqlite::Result<HashMap<[u8; 16], i64>> {
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
const STATUS_CODE_ERROR: i32 = 2;

fn lookup(
    committed: &HashMap<ContentHash, i64>,
    fresh: &HashMap<ContentHash, i64>,
    hash: &ContentHash,
) -> Option<i64> {
    committed.get(hash).or_else(|| fresh.get(hash)).copied()
}

fn write_batch(
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

/// The transaction's traces: their row ids, and which could already hold spans when a batch
/// is written (those stored before the transaction, and those an earlier batch of it wrote
/// to). A span of any other trace can have no stored children, so looking for them is skipped:
/// most traces arrive whole.
struct TraceRows {
    ids: HashMap<[u8; 16], i64>,
    stored_before: i64,
    written: std::collections::HashSet<i64>,
}

impl TraceRows {
    fn may_have_spans(&self, trace: i64) -> bool {
        trace <= self.stored_before || self.written.contains(&trace)
    }
}

/// OTLP's `SPAN_KIND_SERVER` and `SPAN_KIND_CONSUMER`: the receiving side of a call.
fn receives_calls(kind: i32) -> bool {
    kind == 2 || kind == 5
}

/// Counts the calls between services this batch completes: each of its server/consumer spans
/// whose parent (stored before, or in this batch) is in another service, and each stored
/// server/consumer span (before this batch) whose parent is one of this batch's spans. A call
/// is thus counted exactly once, by whichever of its two spans arrived second.
fn write_service_edges(
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
fn write_counters(tx: &Transaction<'_>, jobs: &[Job]) -> rusqlite::Result<()> {
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
fn write_service_stats(tx: &Transaction<'_>, batch: &Batch) -> rusqlite::Result<()> {
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

/// Stores one recorder batch. A batch already stored (a retry) changes nothing: its chunk is
/// not inserted again and it adds nothing to the session's counts. Returns whether the batch
/// started a new session (`None`: it was a retry).
fn write_replay_chunk(
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
fn recompute_frustration(
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
fn reported_signal(level: Option<String>, data: &str) -> frustration::Reported {
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

/// A row pointing outside its batch is a bug in the normalizer, never client input; it fails
/// the commit rather than storing a dangling reference.
fn bad_ref(what: &str, index: usize) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!("row refers to {what} #{index}, which is not in its batch").into(),
    )
}
