//! Retention in the background: every [`RETENTION_EVERY`], what the policy says is old enough
//! goes, a [`STEP`] at a time (each step one short transaction of the writer's, so ingest
//! waits at most one step), then the oldest unpinned sessions while the database is past its
//! size cap. See `sightline_store::retention` for the policy.

use std::time::Duration;

use sightline_store::retention::{self, Deletion, RetentionConfig};
use sightline_store::{Batch, Readers, Writer};
use tokio::sync::watch;

use crate::error::{Result, ServerError};

/// How often retention looks: records expire by days, so minutes are precise enough.
pub const RETENTION_EVERY: Duration = Duration::from_secs(5 * 60);
/// Sessions (and orphan traces, and orphan logs) deleted per transaction. Measured
/// (BENCHMARKS.md): 20 sessions of ~700 spans each held the writer up to 400 ms and raised
/// ingest's p99 tenfold; 5 keeps each step near 100 ms.
pub const STEP: usize = 5;
/// Steps per pass at most: one pass never runs for long; the next picks up the rest.
const MAX_STEPS: usize = 2000;

/// What a pass deleted.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pruned {
    pub sessions: usize,
    pub traces: usize,
    pub logs: usize,
    /// Of the sessions, those deleted for the size cap rather than their age.
    pub for_size: usize,
    /// Transactions it took, and the longest one (how long ingest could wait behind one).
    pub steps: usize,
    pub slowest_step_ms: f64,
}

impl Pruned {
    fn deleted(&self) -> bool {
        self.sessions + self.traces + self.logs > 0
    }
}

async fn read<T: Send + 'static>(
    readers: &Readers,
    f: impl FnOnce(&sightline_store::Connection) -> sightline_store::Result<T> + Send + 'static,
) -> Result<T> {
    readers.read(f).await.map_err(ServerError::from)
}

async fn delete(writer: &Writer, d: Deletion, pruned: &mut Pruned) -> Result<()> {
    let started = std::time::Instant::now();
    writer
        .write(Batch {
            delete: Some(d),
            ..Default::default()
        })
        .await?;
    pruned.steps += 1;
    pruned.slowest_step_ms = pruned
        .slowest_step_ms
        .max(started.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}

/// One pass at `now_ms`: what expired, then the oldest while past the size cap.
pub async fn prune(
    readers: &Readers,
    writer: &Writer,
    config: &RetentionConfig,
    now_ms: i64,
) -> Result<Pruned> {
    let mut pruned = Pruned::default();
    for _ in 0..MAX_STEPS {
        let c = config.clone();
        let d = read(readers, move |conn| {
            retention::expired(conn, &c, now_ms, STEP)
        })
        .await?;
        if d.is_empty() {
            break;
        }
        pruned.sessions += d.sessions.len();
        pruned.traces += d.traces.len();
        pruned.logs += d.logs.len();
        delete(writer, d, &mut pruned).await?;
    }
    if let Some(cap) = config.max_db_bytes {
        for _ in 0..MAX_STEPS {
            if read(readers, retention::used_bytes).await? <= cap {
                break;
            }
            let d = read(readers, |conn| retention::oldest(conn, STEP)).await?;
            if d.is_empty() {
                break;
            }
            pruned.for_size += d.sessions.len();
            pruned.sessions += d.sessions.len();
            pruned.traces += d.traces.len();
            pruned.logs += d.logs.len();
            delete(writer, d, &mut pruned).await?;
        }
    }
    if pruned.deleted() {
        tracing::info!(
            sessions = pruned.sessions,
            traces = pruned.traces,
            logs = pruned.logs,
            for_size = pruned.for_size,
            "retention pruned"
        );
    }
    Ok(pruned)
}

/// Runs passes until `stop` is set, the first one [`RETENTION_EVERY`] after startup.
pub async fn run(
    readers: Readers,
    writer: Writer,
    config: RetentionConfig,
    mut stop: watch::Receiver<bool>,
) {
    let wait = RETENTION_EVERY;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if *stop.borrow() {
            return;
        }
        if let Err(err) = prune(&readers, &writer, &config, crate::now_ms()).await {
            tracing::warn!(%err, "retention pass failed; the next one retries");
        }
    }
}
