//! Session bundles: the `.sightline` file. A bundle is a SQLite database holding what was
//! selected (a session, sessions, an incident, a time range): the replay batches and session
//! events, every linked trace with all its spans, the logs, the resources, and a manifest
//! (format and app version, export time, source, selection, what was redacted, counts, and a
//! content checksum).
//!
//! Two layers, on purpose. The readable tables (`sessions`, `replay_batches`,
//! `session_events`, `spans`, `logs`, `resources`) are for people with the `sqlite3` shell. The
//! `otlp` table holds the same spans and logs as OTLP protobuf requests, so an import is
//! lossless (every field OTLP defines) and goes through the engine's normal ingest. The
//! checksum covers what an import reads (`otlp`, `replay_batches`, `sessions`), so a damaged
//! or edited file is refused rather than half believed.
//!
//! This module owns the file format (writing and reading it); it does not store an import.

use std::path::Path;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::views;

/// What the manifest's `format` says.
pub const FORMAT: &str = "sightline-bundle";
/// The version this build writes, and the newest it reads.
pub const FORMAT_VERSION: i64 = 1;
/// SQLite's `application_id` of a bundle ("SGHT"): `file` and tools can tell one apart.
pub const APPLICATION_ID: i64 = 0x5347_4854;
/// The file name extension.
pub const EXTENSION: &str = "sightline";

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// These sessions (one, or a selection in the UI).
    Sessions(Vec<String>),
    /// What an incident window caught: its sessions, and the traces and logs captured in it.
    Incident(String),
    /// Sessions active in the range, traces starting in it, logs written in it (Unix ms).
    Range { from_ms: i64, to_ms: i64 },
}

impl Selection {
    fn describe(&self) -> Value {
        match self {
            Selection::Sessions(ids) => json!({"kind": "sessions", "sessionIds": ids}),
            Selection::Incident(id) => json!({"kind": "incident", "incidentId": id}),
            Selection::Range { from_ms, to_ms } => {
                json!({"kind": "range", "fromMs": from_ms, "toMs": to_ms})
            }
        }
    }
}

/// Who exports, for the manifest.
#[derive(Debug, Clone)]
pub struct ExportInfo {
    pub app_version: String,
    /// Where it comes from: the machine's name and the database.
    pub source: String,
    pub now_ms: i64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub sessions: usize,
    pub replay_batches: usize,
    pub traces: usize,
    pub spans: usize,
    pub logs: usize,
}

/// A bundle as read back, checked.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub manifest: Map<String, Value>,
    pub format_version: i64,
    /// `sha256:<hex>` of the content.
    pub checksum: String,
    pub exported_ms: Option<i64>,
    pub source: Option<String>,
    pub traces: Vec<ExportTraceServiceRequest>,
    pub logs: Vec<ExportLogsServiceRequest>,
    /// Bundles hold none; an OTLP file imported the same way may.
    pub metrics: Vec<ExportMetricsServiceRequest>,
    pub replay: Vec<ReplayBatch>,
}

/// One recorder batch of a bundle, with its session's meta (as the recorder sends it).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBatch {
    pub session_id: String,
    pub batch: i64,
    pub received_ms: i64,
    pub meta: Map<String, Value>,
    pub events: Vec<Value>,
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::Bundle(message.into())
}

const SCHEMA: &str = "
CREATE TABLE manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY, user_id TEXT, user_email TEXT, first_seen_ms INTEGER,
    last_seen_ms INTEGER, start_url TEXT, user_agent TEXT, viewport TEXT, attributes TEXT,
    error_count INTEGER, frustration_score REAL);
CREATE TABLE replay_batches (
    session_id TEXT NOT NULL, batch INTEGER NOT NULL, first_ms INTEGER, last_ms INTEGER,
    received_ms INTEGER NOT NULL,
    events TEXT NOT NULL,            -- a JSON array of rrweb events
    PRIMARY KEY (session_id, batch));
CREATE TABLE session_events (
    session_id TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT,
    level TEXT, trace_id TEXT, span_id TEXT, data TEXT, incident_id TEXT);
CREATE TABLE resources (id INTEGER PRIMARY KEY, service_name TEXT, attributes TEXT);
CREATE TABLE spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, name TEXT, kind INTEGER,
    service_name TEXT, start_time_unix_nano INTEGER, end_time_unix_nano INTEGER,
    duration_ns INTEGER, status_code INTEGER, status_message TEXT, attributes TEXT, events TEXT,
    session_id TEXT, incident_id TEXT, resource_id INTEGER);
CREATE TABLE logs (
    time_unix_nano INTEGER, severity_number INTEGER, severity_text TEXT, body TEXT,
    attributes TEXT, trace_id TEXT, span_id TEXT, service_name TEXT, session_id TEXT,
    incident_id TEXT, resource_id INTEGER);
CREATE TABLE otlp (
    id INTEGER PRIMARY KEY,
    signal TEXT NOT NULL,            -- 'traces': ExportTraceServiceRequest; 'logs': ExportLogsServiceRequest
    request BLOB NOT NULL);          -- protobuf, as an OTLP client sends it
";

/// The sessions, traces (row ids) and logs (row ids) a selection covers.
fn resolve(conn: &Connection, selection: &Selection) -> Result<(Vec<String>, Vec<i64>, Vec<i64>)> {
    let strings = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Vec<String>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(p, |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    let ints = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Vec<i64>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(p, |r| r.get::<_, i64>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    let mut sessions: Vec<String> = match selection {
        Selection::Sessions(ids) => strings(
            "SELECT session_id FROM sessions WHERE session_id IN (SELECT value FROM json_each(?1))",
            &[&json!(ids).to_string()],
        )?,
        Selection::Incident(id) => strings(
            "SELECT DISTINCT session_id FROM session_events WHERE incident_id = ?1
             UNION SELECT DISTINCT m.session_id FROM spans s JOIN trace_sessions m ON m.trace = s.trace
                    WHERE s.incident_id = ?1",
            &[id],
        )?,
        Selection::Range { from_ms, to_ms } => strings(
            "SELECT session_id FROM sessions WHERE first_seen_ms <= ?2 AND last_seen_ms >= ?1",
            &[from_ms, to_ms],
        )?,
    };
    sessions.sort();
    sessions.dedup();
    let session_list = json!(sessions).to_string();
    let mut traces = ints(
        "SELECT DISTINCT m.trace FROM trace_sessions m
          WHERE m.session_id IN (SELECT value FROM json_each(?1))",
        &[&session_list],
    )?;
    let mut logs = ints(
        "SELECT id FROM logs WHERE session_id IN (SELECT value FROM json_each(?1))",
        &[&session_list],
    )?;
    match selection {
        Selection::Sessions(_) => {}
        Selection::Incident(id) => {
            traces.extend(ints(
                "SELECT DISTINCT trace FROM spans WHERE incident_id = ?1",
                &[id],
            )?);
            logs.extend(ints("SELECT id FROM logs WHERE incident_id = ?1", &[id])?);
        }
        Selection::Range { from_ms, to_ms } => {
            let (from_ns, to_ns) = (
                from_ms.saturating_mul(1_000_000),
                to_ms.saturating_mul(1_000_000),
            );
            traces.extend(ints(
                "SELECT id FROM traces WHERE start_time_unix_nano BETWEEN ?1 AND ?2",
                &[&from_ns, &to_ns],
            )?);
            logs.extend(ints(
                "SELECT id FROM logs WHERE time_unix_nano BETWEEN ?1 AND ?2",
                &[&from_ns, &to_ns],
            )?);
        }
    }
    traces.sort_unstable();
    traces.dedup();
    // Every log of an exported trace goes with it.
    logs.extend(ints(
        "SELECT id FROM logs WHERE trace IN (SELECT value FROM json_each(?1))",
        &[&json!(traces).to_string()],
    )?);
    logs.sort_unstable();
    logs.dedup();
    Ok((sessions, traces, logs))
}

/// Feeds the checksum one field, length-prefixed so that fields cannot run into each other.
fn feed(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The content checksum of a bundle: `otlp`, `replay_batches` and `sessions`, in key order.
/// It tells a damaged or cut file from an intact one; anyone can compute it, so it says nothing
/// of who made the file, and what a bundle holds is checked like live ingest all the same.
pub fn checksum(conn: &Connection) -> Result<String> {
    let mut h = Sha256::new();
    let mut stmt = conn.prepare("SELECT signal, request FROM otlp ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        feed(
            &mut h,
            r.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?,
        );
        feed(
            &mut h,
            r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?,
        );
    }
    let mut stmt = conn.prepare(
        "SELECT session_id, batch, received_ms, events FROM replay_batches ORDER BY session_id, batch",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        feed(&mut h, r.get::<_, String>(0)?.as_bytes());
        feed(&mut h, &r.get::<_, i64>(1)?.to_le_bytes());
        feed(&mut h, &r.get::<_, i64>(2)?.to_le_bytes());
        feed(&mut h, r.get::<_, String>(3)?.as_bytes());
    }
    let mut stmt = conn.prepare(
        "SELECT session_id, coalesce(user_id, ''), coalesce(user_email, ''), coalesce(start_url, ''),
                coalesce(user_agent, ''), coalesce(viewport, ''), coalesce(attributes, '')
           FROM sessions ORDER BY session_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        for i in 0..7 {
            feed(&mut h, r.get::<_, String>(i)?.as_bytes());
        }
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

/// Writes the selection from `conn` (a reader of the main database) to a new bundle at `path`
/// (written beside it, then renamed: a reader never sees half a bundle). Refuses an empty
/// selection.
pub fn export(
    conn: &Connection,
    selection: &Selection,
    info: &ExportInfo,
    path: &Path,
) -> Result<Counts> {
    let (sessions, traces, logs) = resolve(conn, selection)?;
    if sessions.is_empty() && traces.is_empty() && logs.is_empty() {
        return Err(bad(match selection {
            Selection::Sessions(ids) => format!("no session {} is stored", ids.join(", ")),
            Selection::Incident(id) => format!("incident {id} caught nothing to export"),
            Selection::Range { .. } => "nothing was recorded in that time range".to_owned(),
        }));
    }
    let tmp = path.with_extension(format!("{EXTENSION}.partial"));
    let _ = std::fs::remove_file(&tmp);
    let written = write_bundle(conn, selection, info, &tmp, &sessions, &traces, &logs);
    match written {
        Ok(counts) => {
            std::fs::rename(&tmp, path)
                .map_err(|e| bad(format!("cannot write {}: {e}", path.display())))?;
            Ok(counts)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_bundle(
    conn: &Connection,
    selection: &Selection,
    info: &ExportInfo,
    path: &Path,
    sessions: &[String],
    traces: &[i64],
    logs: &[i64],
) -> Result<Counts> {
    let mut out = Connection::open(path)
        .map_err(|e| bad(format!("cannot create {}: {e}", path.display())))?;
    out.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {FORMAT_VERSION};
         PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
    ))?;
    let tx = out.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let session_list = json!(sessions).to_string();

    // Sessions and their replay, as the recorder sent it.
    let mut counts = Counts {
        sessions: 0,
        replay_batches: 0,
        traces: traces.len(),
        spans: 0,
        logs: logs.len(),
    };
    {
        let mut read = conn.prepare(
            "SELECT session_id, user_id, user_email, first_seen_ms, last_seen_ms, start_url,
                    user_agent, viewport, attributes, error_count, frustration_score
               FROM sessions WHERE session_id IN (SELECT value FROM json_each(?1))",
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut rows = read.query([&session_list])?;
        while let Some(r) = rows.next()? {
            insert.execute(params![
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, i64>(9)?,
                r.get::<_, f64>(10)?,
            ])?;
            counts.sessions += 1;
        }
        let mut read = conn.prepare(
            "SELECT session_id, batch, first_ms, last_ms, received_ms, data, raw_bytes
               FROM replay_chunks WHERE session_id IN (SELECT value FROM json_each(?1))
              ORDER BY session_id, batch",
        )?;
        let mut insert =
            tx.prepare("INSERT INTO replay_batches VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let mut rows = read.query([&session_list])?;
        while let Some(r) = rows.next()? {
            let events = views::chunk_events(&r.get::<_, Vec<u8>>(5)?, r.get(6)?)?;
            insert.execute(params![
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                Value::Array(events).to_string(),
            ])?;
            counts.replay_batches += 1;
        }
        let mut read = conn.prepare(
            "SELECT session_id, timestamp_ms, kind, target, level, trace_id, span_id, data, incident_id
               FROM session_events
              WHERE session_id IN (SELECT value FROM json_each(?1)) AND kind NOT IN ('dom', 'scroll', 'focus', 'selection', 'frustration')
              ORDER BY session_id, timestamp_ms, id",
        )?;
        let mut insert =
            tx.prepare("INSERT INTO session_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
        let mut rows = read.query([&session_list])?;
        while let Some(r) = rows.next()? {
            insert.execute(params![
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
            ])?;
        }
    }

    // Spans and logs: readable rows, and the OTLP requests an import reads.
    let trace_list = json!(traces).to_string();
    let log_list = json!(logs).to_string();
    {
        let mut read = conn.prepare(
            "SELECT hex(s.trace_id), hex(s.span_id), hex(s.parent_span_id), s.name, s.kind,
                    s.service_name, s.start_time_unix_nano, s.end_time_unix_nano,
                    s.end_time_unix_nano - s.start_time_unix_nano, s.status_code, s.status_message,
                    s.attributes, s.events, coalesce(s.session_id, t.session_id), s.incident_id,
                    s.resource_id
               FROM spans s JOIN traces t ON t.id = s.trace
              WHERE s.trace IN (SELECT value FROM json_each(?1)) ORDER BY s.id",
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO spans VALUES (lower(?1), lower(?2), nullif(lower(?3), ''), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        let mut rows = read.query([&trace_list])?;
        while let Some(r) = rows.next()? {
            let values: Vec<rusqlite::types::Value> =
                (0..16).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()?;
            insert.execute(rusqlite::params_from_iter(values))?;
            counts.spans += 1;
        }
        let mut read = conn.prepare(
            "SELECT l.time_unix_nano, l.severity_number, l.severity_text, l.body, l.attributes,
                    lower(hex(l.trace_id)), lower(hex(l.span_id)), l.service_name,
                    coalesce(l.session_id, t.session_id), l.incident_id, l.resource_id
               FROM logs l LEFT JOIN traces t ON t.id = l.trace
              WHERE l.id IN (SELECT value FROM json_each(?1)) ORDER BY l.id",
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO logs VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, ''), nullif(?7, ''), ?8, ?9, ?10, ?11)",
        )?;
        let mut rows = read.query([&log_list])?;
        while let Some(r) = rows.next()? {
            let values: Vec<rusqlite::types::Value> =
                (0..11).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()?;
            insert.execute(rusqlite::params_from_iter(values))?;
        }
        let mut read = conn.prepare(
            "SELECT id, service_name, attributes FROM resources
              WHERE id IN (SELECT resource_id FROM spans WHERE trace IN (SELECT value FROM json_each(?1)))
                 OR id IN (SELECT resource_id FROM logs WHERE id IN (SELECT value FROM json_each(?2)))",
        )?;
        let mut insert = tx.prepare("INSERT INTO resources VALUES (?1, ?2, ?3)")?;
        let mut rows = read.query([&trace_list, &log_list])?;
        while let Some(r) = rows.next()? {
            insert.execute(params![
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?
            ])?;
        }
    }
    let mut otlp = tx.prepare("INSERT INTO otlp (signal, request) VALUES (?1, ?2)")?;
    if !traces.is_empty() {
        let req = views::export_traces_of(conn, Some(traces))?;
        otlp.execute(params!["traces", req.encode_to_vec()])?;
    }
    if !logs.is_empty() {
        let req = views::export_logs_of(conn, Some(logs))?;
        otlp.execute(params!["logs", req.encode_to_vec()])?;
    }
    drop(otlp);

    let sum = checksum(&tx)?;
    let manifest = [
        ("format", json!(FORMAT)),
        ("formatVersion", json!(FORMAT_VERSION)),
        ("appVersion", json!(info.app_version)),
        ("exportedMs", json!(info.now_ms)),
        ("source", json!(info.source)),
        ("selection", selection.describe()),
        (
            "redaction",
            json!({
                "note": "Sightline redacts at ingest: these header names and fields named with \
                         these words (whole words) hold [REDACTED], in attributes, log bodies \
                         and captured payloads. Nothing else was removed.",
                "deniedHeaders": crate::redact::denied_headers(),
                "sensitiveWords": crate::redact::sensitive_words(),
            }),
        ),
        ("counts", json!(counts)),
        ("checksum", json!(sum)),
    ];
    {
        let mut insert = tx.prepare("INSERT INTO manifest (key, value) VALUES (?1, ?2)")?;
        for (k, v) in manifest {
            insert.execute(params![k, v.to_string()])?;
        }
    }
    tx.commit()?;
    out.close().map_err(|(_, e)| StoreError::from(e))?;
    Ok(counts)
}

/// Opens and checks a bundle: a SQLite file with Sightline's application id, intact, of a
/// format version this build reads, whose content matches its checksum. Every refusal says
/// what is wrong in words a person can act on.
pub fn read(path: &Path) -> Result<Bundle> {
    // Anything SQLite says about a file that passed the first checks means it is damaged.
    read_checked(path).map_err(|e| match e {
        StoreError::Bundle(_) => e,
        other => bad(format!(
            "{} is damaged or truncated ({other}); export it again",
            path.display()
        )),
    })
}

/// How long reading one bundle may take: a real one of hundreds of MB reads in seconds; a
/// forged one (a view over an endless query) is stopped here instead of pinning a core.
const READ_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// SQLite steps between looks at the deadline: cheap, and a fraction of a millisecond apart.
const DEADLINE_CHECK_STEPS: i32 = 10_000;

/// The largest value a bundle may hold: a stored OTLP request is at most the receive limit
/// (64 MiB after inflation), with room to spare; a larger one is forged, and SQLite refuses to
/// build it rather than take the memory.
const MAX_BUNDLE_VALUE_BYTES: i32 = 96 * 1024 * 1024;

/// The page cache of a bundle's reading connection, in KiB: reads are sequential scans, so a
/// larger cache buys nothing, and a forged file cannot make SQLite itself hold more.
const BUNDLE_CACHE_KIB: u32 = 8 * 1024;

/// The SQLite file header is this long; it is all a first look reads.
const SQLITE_HEADER_BYTES: u64 = 100;

fn read_checked(path: &Path) -> Result<Bundle> {
    use std::io::Read;
    let name = path.display();
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(SQLITE_HEADER_BYTES).read_to_end(&mut head))
        .map_err(|e| bad(format!("cannot read {name}: {e}")))?;
    if !head.starts_with(b"SQLite format 3\0") {
        return Err(bad(format!(
            "{name} is not a Sightline bundle (not a SQLite database)"
        )));
    }
    if head.len() < 100 {
        return Err(bad(format!(
            "{name} is truncated: it ends inside its header"
        )));
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| bad(format!("cannot open {name}: {e}")))?;
    // A bundle is data, never code: no schema object of it runs with trust, none is a view,
    // trigger or virtual table (a bundle never has them; a forged one uses them to run its
    // own SQL when a table is read), and reading it has a deadline, a value size limit and a
    // small page cache (what it reads is streamed, never held by SQLite).
    conn.execute_batch(&format!(
        "PRAGMA trusted_schema = OFF; PRAGMA cache_size = -{};",
        BUNDLE_CACHE_KIB
    ))?;
    conn.set_limit(
        rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
        MAX_BUNDLE_VALUE_BYTES,
    )?;
    let started = std::time::Instant::now();
    conn.progress_handler(
        DEADLINE_CHECK_STEPS,
        Some(move || started.elapsed() > READ_DEADLINE),
    )?;
    let active: Vec<String> = conn
        .prepare(
            "SELECT type || ' ' || name FROM sqlite_schema
              WHERE type IN ('view', 'trigger')
                 OR (type = 'table' AND lower(sql) LIKE 'create virtual table%')",
        )
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(|e| {
            bad(format!(
                "{name} is damaged or truncated ({e}); export it again"
            ))
        })?;
    if !active.is_empty() {
        return Err(bad(format!(
            "{name} is not a bundle Sightline made: it holds {} (a bundle holds only tables)",
            active.join(", ")
        )));
    }
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if app_id != APPLICATION_ID {
        return Err(bad(format!(
            "{name} is a SQLite database, but not a Sightline bundle"
        )));
    }
    let damaged = |e: rusqlite::Error| {
        bad(format!(
            "{name} is damaged or truncated ({e}); export it again"
        ))
    };
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(damaged)?;
    if check != "ok" {
        return Err(bad(format!("{name} is damaged ({check}); export it again")));
    }
    let mut manifest = Map::new();
    {
        let mut stmt = conn
            .prepare("SELECT key, value FROM manifest")
            .map_err(damaged)?;
        let mut rows = stmt.query([]).map_err(damaged)?;
        while let Some(r) = rows.next().map_err(damaged)? {
            let key: String = r.get(0)?;
            let value: String = r.get(1)?;
            manifest.insert(
                key,
                serde_json::from_str(&value).unwrap_or(Value::String(value)),
            );
        }
    }
    if manifest.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(format!("{name} has no Sightline bundle manifest")));
    }
    let version = manifest
        .get("formatVersion")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if version > FORMAT_VERSION {
        let by = manifest
            .get("appVersion")
            .and_then(Value::as_str)
            .unwrap_or("a newer version");
        return Err(bad(format!(
            "{name} was made by Sightline {by} (bundle format {version}); this Sightline reads \
             formats up to {FORMAT_VERSION}. Update Sightline to open it."
        )));
    }
    let claimed = manifest
        .get("checksum")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let actual =
        checksum(&conn).map_err(|e| bad(format!("{name} is damaged ({e}); export it again")))?;
    if claimed != actual {
        return Err(bad(format!(
            "{name} is damaged: its content does not match its checksum (was it edited or cut \
             short?); export it again"
        )));
    }

    let mut traces = Vec::new();
    let mut logs = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT signal, request FROM otlp ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let signal: String = r.get(0)?;
            let bytes: Vec<u8> = r.get(1)?;
            match signal.as_str() {
                "traces" => {
                    traces.push(ExportTraceServiceRequest::decode(bytes.as_slice()).map_err(
                        |e| bad(format!("{name}: a traces request does not decode: {e}")),
                    )?)
                }
                "logs" => logs.push(
                    ExportLogsServiceRequest::decode(bytes.as_slice())
                        .map_err(|e| bad(format!("{name}: a logs request does not decode: {e}")))?,
                ),
                other => {
                    return Err(bad(format!(
                        "{name}: unknown signal {other:?} in its otlp table"
                    )))
                }
            }
        }
    }
    // Each batch carries its session's meta, as the recorder sends it; the session's first
    // batch carries its start URL.
    let mut replay = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT b.session_id, b.batch, b.received_ms, b.events, s.user_id, s.user_email,
                    s.user_agent, s.viewport, s.attributes, s.start_url,
                    b.batch = (SELECT min(batch) FROM replay_batches x WHERE x.session_id = b.session_id)
               FROM replay_batches b LEFT JOIN sessions s ON s.session_id = b.session_id
              ORDER BY b.session_id, b.batch",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let session_id: String = r.get(0)?;
            let events = match serde_json::from_str::<Value>(&r.get::<_, String>(3)?) {
                Ok(Value::Array(events)) => events,
                _ => {
                    return Err(bad(format!(
                        "{name}: a replay batch of {session_id} is not a JSON array"
                    )))
                }
            };
            let mut meta = match r
                .get::<_, Option<String>>(8)?
                .map(|a| serde_json::from_str::<Value>(&a))
            {
                Some(Ok(Value::Object(m))) => m,
                _ => Map::new(),
            };
            for (key, i) in [("userId", 4), ("userEmail", 5), ("userAgent", 6)] {
                if let Some(v) = r.get::<_, Option<String>>(i)? {
                    meta.insert(key.into(), Value::String(v));
                }
            }
            if let Some(Ok(v @ Value::Object(_))) = r
                .get::<_, Option<String>>(7)?
                .map(|v| serde_json::from_str::<Value>(&v))
            {
                meta.insert("viewport".into(), v);
            }
            if r.get::<_, bool>(10)? {
                if let Some(url) = r.get::<_, Option<String>>(9)? {
                    meta.insert("url".into(), Value::String(url));
                }
            }
            replay.push(ReplayBatch {
                session_id,
                batch: r.get(1)?,
                received_ms: r.get(2)?,
                meta,
                events,
            });
        }
    }
    Ok(Bundle {
        exported_ms: manifest.get("exportedMs").and_then(Value::as_i64),
        source: manifest
            .get("source")
            .and_then(Value::as_str)
            .map(str::to_owned),
        format_version: version,
        checksum: actual,
        manifest,
        traces,
        logs,
        metrics: Vec::new(),
        replay,
    })
}

/// Whether a bundle with this checksum was imported already.
pub fn imported(conn: &Connection, checksum: &str) -> Result<Option<(String, i64)>> {
    Ok(conn
        .prepare_cached("SELECT file_name, imported_ms FROM imports WHERE checksum = ?1")?
        .query_row([checksum], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
