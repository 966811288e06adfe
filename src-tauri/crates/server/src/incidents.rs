//! Incident windows in a running engine: starting, extending and stopping them (from the UI,
//! the tray, the CLI or a backend), and the open windows the receivers consult. Sightline is
//! the authority: every change is committed by the store's writer before it is answered, and
//! the open windows are kept in memory so that a status check costs no query.

use std::sync::RwLock;

use serde::Deserialize;
use sightline_store::incident::{self, Incident, Origin, Scope, Who};
use sightline_store::{Readers, Writer};

use crate::error::{Result, ServerError};

/// The shortest and longest window a request may ask for, in minutes.
pub const MIN_MINUTES: i64 = 1;
pub const MAX_MINUTES: i64 = incident::MAX_WINDOW_MS / 60_000;

/// What a label and a ticket URL may hold: a line of text, a URL.
const MAX_LABEL: usize = 200;
const MAX_URL: usize = 2_000;

/// A request to start a window.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRequest {
    pub minutes: i64,
    /// At most one of `user`, `session`, `url`; none means everyone.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub ticket_url: Option<String>,
    /// Where the request comes from (the UI, the tray, the CLI); `api` when not said.
    #[serde(default)]
    pub started_by: Option<Origin>,
}

impl StartRequest {
    fn scope(&self) -> Result<Scope> {
        let given: Vec<Scope> = [
            self.user.clone().map(Scope::User),
            self.session.clone().map(Scope::Session),
            self.url.clone().map(Scope::Url),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.as_slice() {
            [] => Ok(Scope::All),
            [one] if one.value().is_some_and(|v| !v.trim().is_empty()) => Ok(one.clone()),
            [_] => Err(ServerError::BadRequest(
                "a scope names a user, a session or a URL pattern: it cannot be empty".into(),
            )),
            _ => Err(ServerError::BadRequest(
                "a window has one scope: give at most one of user, session and url".into(),
            )),
        }
    }
}

fn check_minutes(minutes: i64) -> Result<()> {
    if (MIN_MINUTES..=MAX_MINUTES).contains(&minutes) {
        Ok(())
    } else {
        Err(ServerError::BadRequest(format!(
            "minutes must be {MIN_MINUTES}-{MAX_MINUTES}, not {minutes}"
        )))
    }
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.len() > max => Err(ServerError::BadRequest(format!(
            "{field} is longer than {max} bytes"
        ))),
        Some(v) if v.contains(['\n', '\r']) => {
            Err(ServerError::BadRequest(format!("{field} is one line")))
        }
        other => Ok(other),
    }
}

/// An id that is short to type (`sightline incident stop inc_4f2a…`) and never repeats.
fn new_id() -> String {
    format!("inc_{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

pub struct Incidents {
    writer: Writer,
    readers: Readers,
    /// Windows whose capture had not ended when last changed; pruned as they expire.
    open: RwLock<Vec<Incident>>,
}

impl Incidents {
    /// Loads the windows still open from the store.
    pub fn load(writer: Writer, readers: Readers, now_ms: i64) -> Result<Incidents> {
        let open = readers.with_conn(|c| incident::open_at(c, now_ms))?;
        Ok(Incidents {
            writer,
            readers,
            open: RwLock::new(open),
        })
    }

    fn open(&self) -> Vec<Incident> {
        self.open.read().map(|o| o.clone()).unwrap_or_default()
    }

    async fn save(&self, window: Incident, now_ms: i64) -> Result<Incident> {
        self.writer
            .write(sightline_store::Batch {
                incidents: vec![window.clone()],
                ..Default::default()
            })
            .await?;
        if let Ok(mut open) = self.open.write() {
            open.retain(|w| w.id != window.id && w.until_ms > now_ms);
            if window.until_ms > now_ms {
                open.push(window.clone());
            }
        }
        Ok(window)
    }

    pub async fn start(&self, req: StartRequest, now_ms: i64) -> Result<Incident> {
        check_minutes(req.minutes)?;
        let origin = req.started_by.unwrap_or(Origin::Api);
        let scope = req.scope()?;
        let label = text("label", req.label, MAX_LABEL)?;
        let ticket_url = text("ticketUrl", req.ticket_url, MAX_URL)?;
        if let Some(url) = &ticket_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ServerError::BadRequest(format!(
                    "ticketUrl must be an http(s) URL, not {url:?}"
                )));
            }
        }
        let window = Incident {
            id: new_id(),
            started_ms: now_ms,
            until_ms: now_ms + req.minutes * 60_000,
            ended_early: false,
            scope,
            label,
            ticket_url,
            started_by: origin,
        };
        tracing::info!(id = %window.id, scope = window.scope.kind(), minutes = req.minutes, origin = origin.as_str(), "incident window started");
        self.save(window, now_ms).await
    }

    async fn stored(&self, id: &str) -> Result<Incident> {
        let readers = self.readers.clone();
        let key = id.to_owned();
        tokio::task::spawn_blocking(move || readers.with_conn(|c| incident::get(c, &key)))
            .await
            .map_err(|e| ServerError::Internal(format!("query task failed: {e}")))??
            .ok_or_else(|| ServerError::NotFound(format!("no incident {id}")))
    }

    pub async fn extend(&self, id: &str, minutes: i64, now_ms: i64) -> Result<Incident> {
        check_minutes(minutes)?;
        let mut window = self.stored(id).await?;
        window
            .extend(now_ms, minutes)
            .map_err(ServerError::BadRequest)?;
        self.save(window, now_ms).await
    }

    pub async fn stop(&self, id: &str, now_ms: i64) -> Result<Incident> {
        let mut window = self.stored(id).await?;
        window.stop(now_ms);
        self.save(window, now_ms).await
    }

    /// Stops every open window; what was stopped.
    pub async fn stop_all(&self, now_ms: i64) -> Result<Vec<Incident>> {
        let mut stopped = Vec::new();
        for w in self.open().into_iter().filter(|w| w.active_at(now_ms)) {
            stopped.push(self.stop(&w.id, now_ms).await?);
        }
        Ok(stopped)
    }

    pub async fn history(&self) -> Result<Vec<Incident>> {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with_conn(incident::history))
            .await
            .map_err(|e| ServerError::Internal(format!("query task failed: {e}")))?
            .map_err(ServerError::from)
    }

    pub async fn get(&self, id: &str) -> Result<Incident> {
        self.stored(id).await
    }

    /// The window covering `who` now, if any (the newest).
    pub fn covering(&self, who: &Who<'_>, now_ms: i64) -> Option<Incident> {
        let open = self.open.read().ok()?;
        incident::covering(&open, now_ms, who).cloned()
    }
}

/// The status a client reads: `{active, id, until, scope}`.
pub fn status_json(window: Option<&Incident>) -> serde_json::Value {
    match window {
        Some(w) => serde_json::json!({
            "active": true,
            "id": w.id,
            "until": w.until_ms,
            "scope": w.scope,
        }),
        None => serde_json::json!({ "active": false, "id": null, "until": null, "scope": null }),
    }
}
