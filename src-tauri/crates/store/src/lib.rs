//! Sightline's store: one SQLite file, written by one thread, read by many read-only connections.
//!
//! Owns the schema (`migrations/`), the writer ([`Writer`], group commit, acknowledgement after
//! COMMIT), the readers ([`Readers`]) and the queries over them. Knows nothing of protocols:
//! callers hand it validated rows ([`model::Batch`]) and get back rows or JSON views.

pub mod attrs;
pub mod bundle;
mod db;
mod error;
mod filter_sql;
pub mod frustration;
pub mod incident;
pub mod model;
mod reader;
pub mod redact;
pub mod report;
pub mod retention;
pub mod scrub;
pub mod span_json;
pub mod sql;
pub mod views;
mod writer;

use std::path::{Path, PathBuf};

pub use db::SCHEMA_VERSION;
pub use error::{Result, StoreError};
pub use model::Batch;
pub use reader::Readers;
pub use rusqlite::{Connection, OpenFlags};
pub use writer::{Change, Writer, CHANGE_BUFFER, MAX_ROWS_PER_TRANSACTION, WRITER_QUEUE_DEPTH};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "sightline.db";

/// What can be tuned when opening a store.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    pub frustration: frustration::FrustrationConfig,
}

/// An open store. Closing it waits for the writer to commit what it was given.
pub struct Store {
    path: PathBuf,
    writer: Writer,
    readers: Readers,
    thread: writer::WriterThread,
    changes: tokio::sync::broadcast::Sender<Change>,
}

impl Store {
    /// Opens (creating and migrating if needed) the database in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> Result<Store> {
        Self::open_dir_with(data_dir, StoreConfig::default())
    }

    /// [`Store::open_dir`] with explicit settings.
    pub fn open_dir_with(data_dir: &Path, config: StoreConfig) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        Self::open_with(&data_dir.join(DATABASE_FILE), config)
    }

    /// Opens (creating and migrating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, StoreConfig::default())
    }

    /// [`Store::open`] with explicit settings.
    pub fn open_with(path: &Path, config: StoreConfig) -> Result<Store> {
        let conn = db::open_writer(path)?;
        let (changes, _) = tokio::sync::broadcast::channel(CHANGE_BUFFER);
        let (writer, thread) = writer::WriterThread::spawn(
            conn,
            path.to_owned(),
            config.frustration,
            changes.clone(),
        )?;
        Ok(Store {
            path: path.to_owned(),
            writer,
            readers: Readers::new(path),
            thread,
            changes,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    pub fn readers(&self) -> Readers {
        self.readers.clone()
    }

    /// What each commit changed, from now on. A receiver that falls more than
    /// [`CHANGE_BUFFER`] changes behind is told it lagged (and should refetch).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// A handle that can subscribe later (the API keeps one).
    pub fn changes(&self) -> tokio::sync::broadcast::Sender<Change> {
        self.changes.clone()
    }

    /// Waits for every queued write to commit, checkpoints, and closes. The writer thread ends
    /// when the last [`Writer`] clone is dropped, so callers drop theirs first.
    pub fn close(self) {
        drop(self.writer);
        self.thread.join();
    }
}
