//! Opening the database file: pragmas, migrations, and the schema-version check.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// Migrations, in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_replay.sql"),
    include_str!("../migrations/0003_session_events.sql"),
    include_str!("../migrations/0004_service_stats.sql"),
    include_str!("../migrations/0005_logs_fts.sql"),
    include_str!("../migrations/0006_trace_sessions.sql"),
    include_str!("../migrations/0007_session_facets.sql"),
    include_str!("../migrations/0008_spans_by_trace_span.sql"),
    include_str!("../migrations/0009_sessions_by_start.sql"),
    include_str!("../migrations/0010_service_edges.sql"),
    include_str!("../migrations/0011_session_page_paths.sql"),
    include_str!("../migrations/0012_counters.sql"),
    include_str!("../migrations/0013_incidents.sql"),
    include_str!("../migrations/0014_incident_tags.sql"),
    include_str!("../migrations/0015_session_event_incidents.sql"),
    include_str!("../migrations/0016_imports.sql"),
    include_str!("../migrations/0017_retention.sql"),
    include_str!("../migrations/0018_trustworthy_signals.sql"),
    include_str!("../migrations/0019_failing_traces_and_services.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a connection waits for another's lock before giving up. The writer holds locks only
/// for one group commit, so a wait this long means another process holds the file.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;

/// Page cache for the writer. Small on purpose: the OS page cache holds the file anyway, and
/// 128 MiB here measured no faster while doubling the engine's RSS (BENCHMARKS.md).
const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// Page size for new databases (an existing file keeps its own). Spans are ~1 KiB rows appended
/// in bulk: larger pages mean fewer page splits and WAL frame headers per row.
const PAGE_SIZE: u32 = 8192;

/// What the WAL file is truncated to after a checkpoint resets it.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Opens a connection with the shared busy timeout and then `pragmas`.
fn connect(path: &Path, flags: OpenFlags, pragmas: &str) -> Result<Connection> {
    let open_err = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(open_err)?;
    conn.execute_batch(pragmas).map_err(open_err)?;
    Ok(conn)
}

/// Opens the writer's connection, creating and migrating the database as needed.
///
/// - WAL: readers never block the writer and vice versa.
/// - `synchronous = NORMAL`: a commit is in the WAL (the OS's page cache) before it returns, so
///   it survives the process being killed at any instant; only a power loss can take back the
///   last commits. FULL would add an fsync per commit for that case.
/// - `wal_autocheckpoint = 0`: checkpoints run on their own thread (writer.rs), not inline
///   after the commit that crosses the threshold.
/// - `journal_size_limit`: after a checkpoint resets the WAL, its file is cut back to this size
///   instead of staying at its high-water mark.
pub fn open_writer(path: &Path) -> Result<Connection> {
    // A new database reclaims the space retention frees (incremental vacuum): the setting
    // takes only before the file has a journal mode or a table.
    let new = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let auto_vacuum = if new {
        "PRAGMA auto_vacuum = INCREMENTAL;"
    } else {
        ""
    };
    let conn = connect(
        path,
        OpenFlags::default(),
        &format!(
            "{auto_vacuum}
             PRAGMA page_size = {PAGE_SIZE};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -{WRITER_CACHE_KIB};
             PRAGMA foreign_keys = OFF;
             PRAGMA wal_autocheckpoint = 0;
             PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};"
        ),
    )?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Opens the checkpointer's connection (writable: checkpoints write the database file).
pub fn open_checkpointer(path: &Path) -> Result<Connection> {
    connect(
        path,
        OpenFlags::default(),
        &format!("PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA wal_autocheckpoint = 0;"),
    )
}

/// Opens a read-only connection. `query_only` also stops a statement that slips through from
/// writing (for example through a `PRAGMA`).
pub fn open_reader(path: &Path) -> Result<Connection> {
    connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        "PRAGMA query_only = ON; PRAGMA cache_size = -16384;",
    )
}

fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let run = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            conn.execute_batch(sql)?;
            conn.execute_batch(&format!("PRAGMA user_version = {version}"))?;
            conn.execute_batch("COMMIT")
        };
        if let Err(source) = run() {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::Migration { version, source });
        }
        tracing::info!(version, "applied migration");
    }
    Ok(())
}
