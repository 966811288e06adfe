//! The store's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the database {path} was written by a newer Sightline (schema version {found}; this build \
         knows up to {supported}). Upgrade Sightline, or point --data-dir at another directory."
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        source: rusqlite::Error,
    },
    /// A bundle that cannot be written or read, and why, in words a person can act on.
    #[error("{0}")]
    Bundle(String),
    /// The database is locked by another process, or the disk is full: retrying later can work.
    #[error("the store is temporarily unable to write: {0}")]
    Unavailable(String),
    #[error("the store failed to write: {0}")]
    Write(String),
    /// The writer thread has stopped (the server is shutting down).
    #[error("the store is closed")]
    Closed,
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("bad stored data: {0}")]
    Corrupt(String),
    /// A user's SQL statement was refused or failed.
    #[error("{0}")]
    Sql(String),
    /// A read's blocking task failed (it panicked, or the runtime is shutting down).
    #[error("a read failed inside Sightline: {0}")]
    ReadTask(String),
    /// A statement was stopped at its time limit.
    #[error("the statement ran past its time limit and was stopped")]
    Interrupted,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether a client that retries later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Closed)
    }
}
