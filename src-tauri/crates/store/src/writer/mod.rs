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

mod replay;
mod rows;
mod traces;

use replay::*;
use rows::*;
use traces::*;

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

fn lookup(
    committed: &HashMap<ContentHash, i64>,
    fresh: &HashMap<ContentHash, i64>,
    hash: &ContentHash,
) -> Option<i64> {
    committed.get(hash).or_else(|| fresh.get(hash)).copied()
}

/// A row pointing outside its batch is a bug in the normalizer, never client input; it fails
/// the commit rather than storing a dangling reference.
fn bad_ref(what: &str, index: usize) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!("row refers to {what} #{index}, which is not in its batch").into(),
    )
}
