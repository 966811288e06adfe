//! Opening bundles and links in the desktop app: `.sightline` files given at launch (a
//! double-click, through the file association), handed over by a second launch, or picked with
//! File › Open… — each is imported into the running engine, and the window shows the first
//! session it brought (a file that cannot be imported says why in a dialog); and
//! `sightline://session/{id}?t=…` links (a bug report's), which open that session at that
//! moment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

use crate::desktop::Desktop;

/// What a bundle's file name ends with.
pub const EXTENSION: &str = "sightline";

/// The bundles among launch arguments, relative paths taken from `cwd`. File managers pass
/// `file://` URLs (the desktop entry's `%U`); those are paths too.
pub fn bundle_args<S: AsRef<str>>(args: &[S], cwd: &Path) -> Vec<PathBuf> {
    args.iter()
        .map(AsRef::as_ref)
        .filter(|a| !a.starts_with('-'))
        .map(|a| match a.strip_prefix("file://") {
            Some(url) => PathBuf::from(percent_decode(url)),
            None => PathBuf::from(a),
        })
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(EXTENSION))
        })
        .map(|p| if p.is_absolute() { p } else { cwd.join(p) })
        .collect()
}

/// The UI route of a `sightline://` link among launch arguments: `sightline://session/{id}?t=…`
/// becomes `#/sessions/{id}?t=…`.
pub fn link_route<S: AsRef<str>>(args: &[S]) -> Option<String> {
    args.iter().find_map(|a| {
        let rest = a.as_ref().strip_prefix("sightline://")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let id = path.strip_prefix("session/")?.trim_end_matches('/');
        if id.is_empty() || id.contains('/') {
            return None;
        }
        // Only the moment is carried over: a link cannot set anything else in the UI.
        let t = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("t="))
            .filter(|t| {
                t.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 's' | 'm'))
            });
        Some(match t {
            Some(t) => format!("#/sessions/{id}?t={t}"),
            None => format!("#/sessions/{id}"),
        })
    })
}

/// Shows the UI at `route` (a `sightline://` link), once the engine runs.
pub fn open_link(app: &AppHandle, route: Option<String>) {
    let Some(route) = route else { return };
    let Some(desktop) = app.try_state::<Arc<Desktop>>() else {
        return;
    };
    let Some(ui) = desktop.monitor.borrow().as_ref().map(|m| m.ui) else {
        return;
    };
    if let (Some(window), Ok(url)) = (
        app.get_webview_window(crate::desktop::WINDOW),
        format!("http://{ui}/{route}").parse(),
    ) {
        let _ = window.navigate(url);
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Imports `files` into the running engine, then shows the first imported session.
pub fn open_bundles(app: &AppHandle, files: Vec<PathBuf>) {
    if files.is_empty() {
        return;
    }
    let Some(desktop) = app.try_state::<Arc<Desktop>>() else {
        return;
    };
    let monitor = desktop.monitor.borrow().clone();
    let Some((share, ui)) = monitor.and_then(|m| Some((m.share()?, m.ui))) else {
        tracing::warn!("bundles given before the engine runs were not opened");
        return;
    };
    let app = app.clone();
    desktop.rt.spawn(async move {
        let mut first: Option<String> = None;
        let mut problems = Vec::new();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.display().to_string());
            match share.import(file.clone(), &name).await {
                Ok(done) => {
                    tracing::info!(file = %file.display(), imported = done.imported, "bundle opened");
                    first = first.or_else(|| done.sessions.first().cloned());
                }
                Err(err) => problems.push(format!("{name}: {err}")),
            }
        }
        if let Some(session) = first {
            let url = format!("http://{ui}/#/sessions/{}", sightline_store::report::encode(&session));
            if let (Some(window), Ok(url)) = (app.get_webview_window(crate::desktop::WINDOW), url.parse()) {
                let _ = window.navigate(url);
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }
        if !problems.is_empty() {
            app.dialog()
                .message(problems.join("\n\n"))
                .title("Sightline could not open a file")
                .kind(MessageDialogKind::Error)
                .show(|_| {});
        }
    });
}

/// File › Open…: a picker for bundles, on a thread of its own (the picker waits for the user).
pub fn pick_and_open(app: &AppHandle) {
    let app = app.clone();
    let picked = std::thread::Builder::new()
        .name("open".into())
        .spawn(move || {
            let files: Vec<PathBuf> = app
                .dialog()
                .file()
                .set_title("Open session bundles")
                .add_filter("Sightline bundle", &[EXTENSION])
                .blocking_pick_files()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.into_path().ok())
                .collect();
            open_bundles(&app, files);
        });
    if let Err(err) = picked {
        tracing::warn!(%err, "the file picker could not start");
    }
}

/// `%20` and friends back to bytes (a `file://` URL's path).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_picked_from_launch_arguments() {
        let cwd = Path::new("/home/qa");
        assert_eq!(
            bundle_args(
                &[
                    "bug.sightline",
                    "/tmp/b.SIGHTLINE",
                    "--autostart",
                    "notes.txt"
                ],
                cwd
            ),
            vec![
                PathBuf::from("/home/qa/bug.sightline"),
                PathBuf::from("/tmp/b.SIGHTLINE")
            ]
        );
        assert!(bundle_args::<&str>(&[], cwd).is_empty());
        assert_eq!(
            bundle_args(&["file:///home/qa/My%20Bugs/bug%231.sightline"], cwd),
            vec![PathBuf::from("/home/qa/My Bugs/bug#1.sightline")]
        );
    }

    #[test]
    fn links_open_a_session_at_a_moment() {
        assert_eq!(
            link_route(&["sightline://session/qa-42?t=10.1s"]).as_deref(),
            Some("#/sessions/qa-42?t=10.1s")
        );
        assert_eq!(
            link_route(&["sightline://session/qa-42/"]).as_deref(),
            Some("#/sessions/qa-42")
        );
        assert_eq!(
            link_route(&["sightline://session/a?t=<script>"]).as_deref(),
            Some("#/sessions/a")
        );
        assert_eq!(link_route(&["sightline://settings"]), None);
        assert_eq!(link_route(&["bug.sightline"]), None);
    }
}
