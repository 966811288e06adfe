//! Sharing: a selection exported as a bundle (`.sightline`, see `sightline_store::bundle`), and
//! files imported — bundles, OTLP JSON lines as the Collector's file exporter writes them, and
//! rrweb recordings — each once, all or nothing, through the same normalization as live
//! ingest, so an imported session links and reads exactly like a recorded one.
//!
//! Imports are serialized (one at a time): the "already imported?" check and the write cannot
//! interleave with another import of the same file.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sightline_ingest::files::{self, Parsed};
use sightline_ingest::{normalize, replay};
use sightline_store::bundle::{self, Bundle, Counts, ExportInfo, ReplayBatch, Selection};
use sightline_store::model::ImportRow;
use sightline_store::{Batch, Readers, Writer};

use crate::error::{Result, ServerError};

/// The largest bundle accepted through the API: a long session with its traces is tens of
/// MiB; this leaves room for an incident's worth while bounding the temp file.
pub const MAX_BUNDLE_BYTES: u64 = 1024 * 1024 * 1024;

pub struct Share {
    writer: Writer,
    readers: Readers,
    /// Where bundles being exported or received are written before they are complete.
    scratch: PathBuf,
    imports: tokio::sync::Mutex<()>,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    /// False when this bundle had been imported before (nothing was stored again).
    pub imported: bool,
    pub checksum: String,
    pub file_name: String,
    pub sessions: Vec<String>,
    pub spans: usize,
    pub logs: usize,
    pub replay_batches: usize,
    /// Traces already stored here (the bundle came from this machine, or overlaps one
    /// imported before): their spans and logs were not stored twice.
    pub traces_already_here: usize,
}

impl Share {
    pub fn new(writer: Writer, readers: Readers, data_dir: &Path) -> Share {
        Share {
            writer,
            readers,
            scratch: data_dir.join("scratch"),
            imports: tokio::sync::Mutex::new(()),
        }
    }

    /// A fresh path in the scratch directory (created if needed).
    pub fn scratch_file(&self, what: &str) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.scratch).map_err(|e| {
            ServerError::Internal(format!("cannot create {}: {e}", self.scratch.display()))
        })?;
        let n: u64 = rand::random();
        Ok(self
            .scratch
            .join(format!("{what}-{n:016x}.{}", bundle::EXTENSION)))
    }

    /// Writes the selection to a bundle at `path`.
    pub async fn export(&self, selection: Selection, path: PathBuf) -> Result<Counts> {
        let info = ExportInfo {
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            source: source(),
            now_ms: crate::now_ms(),
        };
        self.readers
            .read(move |conn| bundle::export(conn, &selection, &info, &path))
            .await
            .map_err(ServerError::from)
    }

    /// Imports the file at `path` (named `file_name` for the user) — a bundle, OTLP JSON lines
    /// or an rrweb recording: checked, then stored in one transaction, or refused with the
    /// reason. A file imported before is not stored again.
    pub async fn import(&self, path: PathBuf, file_name: &str) -> Result<Imported> {
        let _one_at_a_time = self.imports.lock().await;
        let name = file_name.to_owned();
        let read = tokio::task::spawn_blocking(move || load(&path, &name))
            .await
            .map_err(|e| ServerError::Internal(format!("import task failed: {e}")))??;
        let checksum = read.checksum.clone();
        let sessions: Vec<String> = {
            let mut s: Vec<String> = read.replay.iter().map(|b| b.session_id.clone()).collect();
            s.dedup();
            s
        };
        let known = {
            let sum = checksum.clone();
            self.readers
                .read(move |c| bundle::imported(c, &sum))
                .await?
        };
        if known.is_some() {
            return Ok(Imported {
                imported: false,
                checksum,
                file_name: file_name.to_owned(),
                sessions,
                spans: 0,
                logs: 0,
                replay_batches: 0,
                traces_already_here: 0,
            });
        }
        let (batch, outcome) = self.batch(read, file_name, sessions).await?;
        self.writer.write(batch).await?;
        tracing::info!(
            file = file_name,
            sessions = outcome.sessions.len(),
            spans = outcome.spans,
            logs = outcome.logs,
            "bundle imported"
        );
        Ok(outcome)
    }

    /// The bundle as one batch (with its import record), less the traces already stored.
    async fn batch(
        &self,
        b: Bundle,
        file_name: &str,
        sessions: Vec<String>,
    ) -> Result<(Batch, Imported)> {
        let mut batch = Batch::default();
        for req in &b.traces {
            let n = normalize::traces(req);
            if n.rejected > 0 {
                return Err(bad_content(file_name, n.first_rejection.as_deref()));
            }
            batch.append(n.batch);
        }
        for req in &b.logs {
            let n = normalize::logs(req, crate::now_ms());
            if n.rejected > 0 {
                return Err(bad_content(file_name, n.first_rejection.as_deref()));
            }
            batch.append(n.batch);
        }
        for req in &b.metrics {
            let n = normalize::metrics(req);
            if n.rejected > 0 {
                return Err(bad_content(file_name, n.first_rejection.as_deref()));
            }
            batch.append(n.batch);
        }
        // Traces already here keep what they have: nothing of them is stored twice.
        let mut trace_ids: Vec<[u8; 16]> = batch.spans.iter().map(|s| s.trace_id).collect();
        trace_ids.extend(batch.logs.iter().filter_map(|l| l.trace_id));
        trace_ids.sort_unstable();
        trace_ids.dedup();
        let here: std::collections::HashSet<[u8; 16]> = self
            .readers
            .read(move |c| {
                let mut here = std::collections::HashSet::new();
                for t in trace_ids {
                    if sightline_store::views::has_trace(c, &t)? {
                        here.insert(t);
                    }
                }
                Ok(here)
            })
            .await?;
        batch.spans.retain(|s| !here.contains(&s.trace_id));
        batch
            .logs
            .retain(|l| l.trace_id.is_none_or(|t| !here.contains(&t)));

        let replay_batches = b.replay.len();
        let now = crate::now_ms();
        for r in b.replay {
            // Retention goes by when a batch was received: a time in the future (or none)
            // would keep a planted session forever, so it is taken as now.
            let received_ms = if (1..=now).contains(&r.received_ms) {
                r.received_ms
            } else {
                now
            };
            if let Some(chunk) =
                replay::build_chunk(r.session_id, r.batch, r.events, &r.meta, received_ms)
                    .map_err(|e| bad_content(file_name, Some(&e.to_string())))?
            {
                batch.replay.push(chunk);
            }
        }
        let outcome = Imported {
            imported: true,
            checksum: b.checksum.clone(),
            file_name: file_name.to_owned(),
            sessions: sessions.clone(),
            spans: batch.spans.len(),
            logs: batch.logs.len(),
            replay_batches,
            traces_already_here: here.len(),
        };
        batch.import = Some(ImportRow {
            checksum: b.checksum,
            file_name: file_name.to_owned(),
            imported_ms: crate::now_ms(),
            exported_ms: b.exported_ms,
            source: b.source,
            manifest: Value::Object(b.manifest).to_string(),
            sessions,
        });
        Ok((batch, outcome))
    }
}

/// Reads an importable file whatever it is: a bundle (by its SQLite header), or else OTLP JSON
/// lines or an rrweb recording (possibly compressed), as a bundle without a manifest of its
/// own. Its checksum is the digest of the file as given.
fn load(path: &Path, name: &str) -> Result<Bundle> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| {
        ServerError::Store(sightline_store::StoreError::Bundle(format!(
            "cannot read {name}: {e}"
        )))
    };
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(unreadable)?;
    let named_bundle = name
        .rsplit('.')
        .next()
        .is_some_and(|e| e.eq_ignore_ascii_case(bundle::EXTENSION));
    // A `.sightline` file is a bundle or nothing: its refusal says so.
    if head[..n].starts_with(b"SQLite format 3\0") || named_bundle {
        return Ok(bundle::read(path)?);
    }
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_BUNDLE_BYTES {
        return Err(ServerError::BadRequest(format!(
            "{name} is larger than {} MiB",
            MAX_BUNDLE_BYTES / (1024 * 1024)
        )));
    }
    let raw = std::fs::read(path).map_err(unreadable)?;
    let checksum = format!("sha256:{}", hex::encode(Sha256::digest(&raw)));
    let text = files::decompress(&raw)?;
    drop(raw);
    let mut out = Bundle {
        manifest: serde_json::Map::new(),
        format_version: 0,
        checksum,
        exported_ms: None,
        source: None,
        traces: Vec::new(),
        logs: Vec::new(),
        metrics: Vec::new(),
        replay: Vec::new(),
    };
    match files::parse(&text, name)? {
        Parsed::Otlp(f) => {
            out.manifest
                .insert("format".into(), json!("otlp-json-lines"));
            out.manifest.insert("lines".into(), json!(f.lines));
            out.traces = f.traces;
            out.logs = f.logs;
            out.metrics = f.metrics;
        }
        Parsed::Rrweb(r) => {
            out.manifest.insert("format".into(), json!("rrweb"));
            out.manifest.insert("events".into(), json!(r.events.len()));
            let now = crate::now_ms();
            let mut events = r.events;
            let mut batch = 0;
            // A long recording is stored as several batches, as a recorder would have sent it.
            while !events.is_empty() {
                let rest = events.split_off(files::EVENTS_PER_BATCH.min(events.len()));
                out.replay.push(ReplayBatch {
                    session_id: r.session_id.clone(),
                    batch,
                    received_ms: now,
                    meta: r.meta.clone(),
                    events,
                });
                events = rest;
                batch += 1;
            }
        }
    }
    Ok(out)
}

fn bad_content(file_name: &str, why: Option<&str>) -> ServerError {
    ServerError::Store(sightline_store::StoreError::Bundle(format!(
        "{file_name} holds data Sightline cannot read ({}); nothing was imported",
        why.unwrap_or("invalid records")
    )))
}

/// This machine, for a bundle's manifest.
fn source() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this machine".to_owned());
    format!("{host} (Sightline {})", env!("CARGO_PKG_VERSION"))
}

/// A bundle's file name for a selection: what it holds, and when.
pub fn file_name(selection: &Selection, now_ms: i64) -> String {
    let what = match selection {
        // A session's bundle has one name, the one its bug report cites.
        Selection::Sessions(ids) if ids.len() == 1 => {
            return sightline_store::report::bundle_file(&ids[0]);
        }
        Selection::Sessions(ids) => format!("{}-sessions", ids.len()),
        Selection::Incident(id) => format!(
            "incident-{}",
            id.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        ),
        Selection::Range { .. } => "range".to_owned(),
    };
    format!("sightline-{what}-{}.{}", now_ms / 1000, bundle::EXTENSION)
}

/// A selection from query parameters: `session` (repeatable), `incident`, or `fromMs`+`toMs`.
pub fn selection(
    sessions: Vec<String>,
    incident: Option<String>,
    range: (Option<i64>, Option<i64>),
) -> Result<Selection> {
    match (sessions.is_empty(), incident, range) {
        (false, None, (None, None)) => Ok(Selection::Sessions(sessions)),
        (true, Some(id), (None, None)) => Ok(Selection::Incident(id)),
        (true, None, (Some(from_ms), Some(to_ms))) if from_ms <= to_ms => {
            Ok(Selection::Range { from_ms, to_ms })
        }
        (true, None, (Some(_), Some(_))) => Err(ServerError::BadRequest(
            "fromMs must not be after toMs".into(),
        )),
        _ => Err(ServerError::BadRequest(
            "say what to export: session=ID (one or more), incident=ID, or fromMs and toMs".into(),
        )),
    }
}
