//! Desktop notifications for new sessions with errors (off unless the user turns them on in
//! Settings): follows the engine's change feed and tells about each session once.

use std::collections::HashSet;

use sightline_server::settings::SettingsStore;
use sightline_server::Monitor;
use sightline_store::views::ErringSession as Erring;
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

/// Sessions remembered as already told about. Past it the memory starts over: at worst a
/// session seen long ago is announced again, and memory stays bounded.
const REMEMBERED: usize = 10_000;

/// At most this many notifications from one commit: a burst of imported sessions must not
/// bury the desktop.
const PER_CHANGE: usize = 3;

/// Remembers which sessions were announced; returns those not announced yet.
#[derive(Default)]
pub struct Told(HashSet<String>);

impl Told {
    pub fn fresh(&mut self, found: Vec<Erring>) -> Vec<Erring> {
        if self.0.len() >= REMEMBERED {
            self.0.clear();
        }
        found
            .into_iter()
            .filter(|e| self.0.insert(e.session_id.clone()))
            .take(PER_CHANGE)
            .collect()
    }
}

pub fn text(e: &Erring) -> (String, String) {
    let who = e
        .user
        .clone()
        .unwrap_or_else(|| "An anonymous user".to_owned());
    let errors = if e.errors == 1 {
        "1 error".to_owned()
    } else {
        format!("{} errors", e.errors)
    };
    let body = match &e.url {
        Some(url) => format!("{who} on {url}: {errors}"),
        None => format!("{who}: {errors}"),
    };
    ("A session with errors".to_owned(), body)
}

/// Runs until the app ends, across engine restarts.
pub async fn follow(
    app: AppHandle,
    settings: std::sync::Arc<SettingsStore>,
    mut engine: watch::Receiver<Option<Monitor>>,
) {
    let mut told = Told::default();
    loop {
        let current = engine.borrow_and_update().clone();
        let Some(monitor) = current else {
            if engine.changed().await.is_err() {
                return;
            }
            continue;
        };
        let mut feed = monitor.subscribe();
        loop {
            tokio::select! {
                got = feed.recv() => match got {
                    Ok(change) => {
                        if !settings.get().notify_error_sessions {
                            continue;
                        }
                        let ids: Vec<String> = change
                            .new_sessions
                            .iter()
                            .chain(change.updated_sessions.iter())
                            .cloned()
                            .collect();
                        if ids.is_empty() {
                            continue;
                        }
                        let found = match monitor.erring_sessions(ids).await {
                            Ok(found) => found,
                            Err(err) => {
                                // Said, not taken for "no session has errors".
                                tracing::warn!(%err, "cannot tell which sessions have errors");
                                continue;
                            }
                        };
                        for e in told.fresh(found) {
                            let (title, body) = text(&e);
                            if let Err(err) = app.notification().builder().title(title).body(body).show() {
                                tracing::warn!(%err, "a notification could not be shown");
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                },
                changed = engine.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, errors: i64) -> Erring {
        Erring {
            session_id: id.into(),
            user: Some("ada@example.com".into()),
            url: Some("http://shop/checkout".into()),
            errors,
        }
    }

    #[test]
    fn each_session_is_told_once_and_bursts_are_capped() {
        let mut told = Told::default();
        assert_eq!(told.fresh(vec![e("a", 1)]).len(), 1);
        assert!(
            told.fresh(vec![e("a", 2)]).is_empty(),
            "a second error is not news"
        );
        let burst: Vec<Erring> = (0..10).map(|i| e(&format!("s{i}"), 1)).collect();
        assert_eq!(told.fresh(burst).len(), PER_CHANGE);
    }

    #[test]
    fn the_text_names_who_where_and_how_many() {
        assert_eq!(
            text(&e("a", 2)).1,
            "ada@example.com on http://shop/checkout: 2 errors"
        );
        let anonymous = Erring {
            user: None,
            url: None,
            ..e("b", 1)
        };
        assert_eq!(text(&anonymous).1, "An anonymous user: 1 error");
    }
}
