//! The watched inbox: files dropped into a folder (bundles, OTLP JSON lines, rrweb recordings)
//! are imported once they are complete, then moved to `Imported/`, or to `Failed/` with a
//! `.error.txt` beside them saying why. Files that arrived while Sightline was closed are
//! imported at startup. And tail mode: an OTLP JSON lines file another process keeps appending
//! to (the Collector's file exporter) is followed as it grows, across rotation.
//!
//! Completeness is judged by the file, not by events: a file is taken once its size and
//! modification time have stayed the same for [`SETTLE`], and names that say "being written"
//! (`.partial`, `.part`, `.tmp`, `.crdownload`, `.download`, dotfiles) are left alone. Native
//! change notification (notify) only wakes the scan early; where it is unavailable (network
//! filesystems) or asked off, the folder is polled.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use sightline_ingest::{otlp, Format};
use tokio::sync::watch;

use crate::config::InboxConfig;
use crate::receivers::pipeline::Pipeline;
use crate::share::Share;

/// A file is complete once its size and modification time have not changed for this long: a
/// browser, `cp` or `scp` writing it changes both many times a second.
pub const SETTLE: Duration = Duration::from_millis(1000);
/// How often the folder and the tailed file are looked at when nothing wakes the watcher
/// earlier; with native notification this is only the settle check.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// Where imported and refused files go, inside the inbox.
pub const IMPORTED: &str = "Imported";
pub const FAILED: &str = "Failed";
/// A tailed line longer than this is skipped (a JSON line of one export is far smaller); the
/// partial line held in memory never grows past it.
pub const MAX_TAIL_LINE: usize = 64 * 1024 * 1024;

/// Names of files still being written, by the conventions of browsers and copy tools.
fn in_progress(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || [
            ".partial",
            ".part",
            ".tmp",
            ".crdownload",
            ".download",
            ".swp",
            "~",
        ]
        .iter()
        .any(|s| lower.ends_with(s))
        || lower.ends_with(".error.txt")
}

/// Runs the inbox until `stop` is set.
pub async fn run(
    config: InboxConfig,
    share: Arc<Share>,
    pipeline: Arc<Pipeline>,
    mut stop: watch::Receiver<bool>,
) {
    let (wake_tx, mut wake) = tokio::sync::mpsc::channel::<()>(1);
    // Kept alive for as long as the loop runs: dropping it stops notification.
    let _watcher = if config.poll {
        None
    } else {
        watch_natively(&config, wake_tx)
    };
    if let Some(dir) = &config.dir {
        for sub in [IMPORTED, FAILED] {
            if let Err(err) = std::fs::create_dir_all(dir.join(sub)) {
                tracing::warn!(dir = %dir.display(), %err, "the inbox cannot be created");
            }
        }
        tracing::info!(dir = %dir.display(), polling = _watcher.is_none(), "watching the inbox");
    }
    let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
    let mut tail = config.tail.clone().map(Tail::new);
    loop {
        if let Some(dir) = &config.dir {
            for path in settled(dir, &mut seen) {
                take(&share, dir, &path).await;
                seen.remove(&path);
            }
        }
        if let Some(t) = tail.as_mut() {
            t.follow(&pipeline).await;
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(POLL_EVERY) => {}
            _ = wake.recv() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Native notification of changes in the inbox and beside the tailed file; `None` when the
/// platform or filesystem cannot (the loop then polls).
fn watch_natively(
    config: &InboxConfig,
    wake: tokio::sync::mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
        // Full means a wake-up is already pending: one scan sees every change.
        let _ = wake.try_send(());
    })
    .map_err(|err| tracing::warn!(%err, "no native file notification; polling the inbox"))
    .ok()?;
    let mut dirs: Vec<PathBuf> = config.dir.iter().cloned().collect();
    if let Some(parent) = config.tail.as_ref().and_then(|t| t.parent()) {
        dirs.push(parent.to_path_buf());
    }
    for dir in dirs {
        let _ = std::fs::create_dir_all(&dir);
        if let Err(err) = watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %dir.display(), %err, "no native file notification; polling");
            return None;
        }
    }
    Some(watcher)
}

struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// The files of the inbox that have stopped changing, oldest first.
fn settled(dir: &Path, seen: &mut HashMap<PathBuf, Seen>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let now = Instant::now();
    let mut present = Vec::new();
    let mut ready = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if !meta.is_file() || in_progress(&name) {
            continue;
        }
        present.push(path.clone());
        let modified = meta.modified().ok();
        match seen.get_mut(&path) {
            Some(s) if s.len == meta.len() && s.modified == modified => {
                if now.duration_since(s.since) >= SETTLE {
                    ready.push((modified, path));
                }
            }
            _ => {
                seen.insert(
                    path,
                    Seen {
                        len: meta.len(),
                        modified,
                        since: now,
                    },
                );
            }
        }
    }
    // Files that went away (moved out by hand) are forgotten.
    seen.retain(|p, _| present.contains(p));
    ready.sort();
    ready.into_iter().map(|(_, p)| p).collect()
}

/// Imports one settled file, then moves it out of the way, with the reason when it failed.
async fn take(share: &Share, dir: &Path, path: &Path) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let result = share.import(path.to_path_buf(), &name).await;
    let (sub, error) = match &result {
        Ok(done) => {
            tracing::info!(file = %name, imported = done.imported, sessions = done.sessions.len(), spans = done.spans, "inbox file imported");
            (IMPORTED, None)
        }
        Err(err) => {
            tracing::warn!(file = %name, %err, "inbox file refused");
            (FAILED, Some(err.to_string()))
        }
    };
    let target = free_name(&dir.join(sub), &name);
    if let Err(err) = std::fs::rename(path, &target) {
        tracing::warn!(file = %name, %err, "the inbox file could not be moved");
        return;
    }
    if let Some(error) = error {
        let note = target.with_file_name(format!(
            "{}.error.txt",
            target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let text = format!("Sightline could not import {name}:\n\n{error}\n");
        if let Err(err) = std::fs::write(&note, text) {
            tracing::warn!(file = %name, %err, "the error note could not be written");
        }
    }
}

/// `dir/name`, or `dir/stem-2.ext`, `-3`… when a file of that name is there already.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.split_once('.') {
        Some((s, e)) => (s.to_owned(), format!(".{e}")),
        None => (name.to_owned(), String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Following a growing OTLP JSON lines file: the open handle keeps reading a file renamed away
/// (rotation) to its end before the new file at the path is opened; a file cut shorter
/// (copytruncate) is read again from its start.
struct Tail {
    path: PathBuf,
    open: Option<Open>,
    partial: Vec<u8>,
    skipping: bool,
}

struct Open {
    file: std::fs::File,
    id: FileId,
    offset: u64,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct FileId(u64, u64);

fn file_id(meta: &std::fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        FileId(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        // Without inodes, a creation time tells a new file from the old one.
        let created = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        FileId(created, 0)
    }
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            path,
            open: None,
            partial: Vec::new(),
            skipping: false,
        }
    }

    async fn follow(&mut self, pipeline: &Pipeline) {
        // What is new in the open file (even if it was renamed away since).
        // (a new file starts here, bytes): an unfinished line of a rotated file is dropped
        // rather than glued to the new file's first line.
        let mut chunks: Vec<(bool, Vec<u8>)> = Vec::new();
        if let Some(open) = self.open.as_mut() {
            chunks.push((false, read_new(open)));
        }
        // The path now: a new file (rotated), the same one cut shorter, or none yet.
        if let Ok(meta) = std::fs::metadata(&self.path) {
            let id = file_id(&meta);
            match self.open.as_mut() {
                Some(open) if open.id == id => {
                    if meta.len() < open.offset {
                        open.offset = 0;
                        chunks.push((true, read_new(open)));
                    }
                }
                _ => {
                    if let Ok(file) = std::fs::File::open(&self.path) {
                        let mut open = Open {
                            file,
                            id,
                            offset: 0,
                        };
                        chunks.push((true, read_new(&mut open)));
                        self.open = Some(open);
                    }
                }
            }
        }
        for (fresh, chunk) in chunks {
            if fresh {
                self.partial.clear();
                self.skipping = false;
            }
            self.partial.extend(chunk);
            while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.partial.drain(..=end).collect();
                if std::mem::take(&mut self.skipping) {
                    continue;
                }
                ingest_line(pipeline, &self.path, &line[..line.len() - 1]).await;
            }
            if self.partial.len() > MAX_TAIL_LINE {
                tracing::warn!(file = %self.path.display(), "a tailed line is longer than the limit; skipped");
                self.partial.clear();
                self.skipping = true;
            }
        }
    }
}

/// Everything appended to `open` since the last read.
fn read_new(open: &mut Open) -> Vec<u8> {
    let mut out = Vec::new();
    if open.file.seek(SeekFrom::Start(open.offset)).is_ok() {
        if let Ok(n) = (&open.file)
            .take(MAX_TAIL_LINE as u64)
            .read_to_end(&mut out)
        {
            open.offset += n as u64;
        }
    }
    out
}

/// One OTLP JSON line through normal ingest (tagging, the writer, the change feed).
async fn ingest_line(pipeline: &Pipeline, file: &Path, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return;
    }
    let result = if trimmed.contains("\"resourceSpans\"") {
        match otlp::decode::<ExportTraceServiceRequest>(
            trimmed.as_bytes(),
            Format::Json,
            "ExportTraceServiceRequest",
        ) {
            Ok(req) => pipeline.traces(req).await.map(|_| ()),
            Err(e) => Err(e.into()),
        }
    } else if trimmed.contains("\"resourceLogs\"") {
        match otlp::decode::<ExportLogsServiceRequest>(
            trimmed.as_bytes(),
            Format::Json,
            "ExportLogsServiceRequest",
        ) {
            Ok(req) => pipeline.logs(req).await.map(|_| ()),
            Err(e) => Err(e.into()),
        }
    } else if trimmed.contains("\"resourceMetrics\"") {
        match otlp::decode::<ExportMetricsServiceRequest>(
            trimmed.as_bytes(),
            Format::Json,
            "ExportMetricsServiceRequest",
        ) {
            Ok(req) => pipeline.metrics(req).await.map(|_| ()),
            Err(e) => Err(e.into()),
        }
    } else {
        Err(crate::error::ServerError::BadRequest(
            "not an OTLP request".into(),
        ))
    };
    if let Err(err) = result {
        tracing::warn!(file = %file.display(), %err, "a tailed line was not stored");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_being_written_are_left_alone() {
        for name in [
            "a.sightline.partial",
            "b.part",
            ".hidden",
            "c.crdownload",
            "d.tmp",
            "x.sightline.error.txt",
        ] {
            assert!(in_progress(name), "{name}");
        }
        for name in ["bug.sightline", "traces.jsonl.gz", "rec.json"] {
            assert!(!in_progress(name), "{name}");
        }
    }

    #[test]
    fn names_taken_get_a_number() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            free_name(dir.path(), "a.jsonl.gz"),
            dir.path().join("a.jsonl.gz")
        );
        std::fs::write(dir.path().join("a.jsonl.gz"), "").unwrap();
        assert_eq!(
            free_name(dir.path(), "a.jsonl.gz"),
            dir.path().join("a-2.jsonl.gz")
        );
    }
}
