//! Read-only connections for queries, pooled.
//!
//! Each caller gets a connection of its own for the duration of a closure, so a slow query never
//! serializes the others behind it (the pool's mutex is held only to take or return one).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::db::open_reader;
use crate::error::{Result, StoreError};

/// Idle connections kept for reuse; more may be open at once under load, and are closed when
/// returned to a full pool.
const MAX_IDLE_READERS: usize = 8;

#[derive(Clone)]
pub struct Readers {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Runs `f` with a pooled read-only connection on a blocking thread: how async code reads
    /// (SQLite calls block, and must not hold up the runtime's workers).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.with_conn(f))
            .await
            .map_err(|e| StoreError::ReadTask(e.to_string()))?
    }

    pub(crate) fn new(path: &Path) -> Self {
        Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The database file these readers open.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a read-only connection. Blocking: call it from a blocking thread.
    pub fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => open_reader(&self.inner.path)?,
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.inner.idle.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }
}
