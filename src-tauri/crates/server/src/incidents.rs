//! Incident windows in a running engine: starting, extending and stopping them (from the UI,
//! the tray, the CLI or a backend), and the open windows the receivers consult. Sightline is
//! the authority: every change is committed by the store's writer before it is answered, and
//! the open windows are kept in memory so that a status check costs no query.

use std::sync::RwLock;

use serde::Deserialize;
use sightline_store::incident::{self, Incident, Origin, Scope, Who};
use sightline_store::model::{IncidentMark, ReplayChunkRow};
use sightline_store::{Readers, Writer};

use crate::error::{Result, ServerError};

/// The shortest and longest window a request may ask for, in minutes.
pub const MIN_MINUTES: i64 = 1;
pub const MAX_MINUTES: i64 = incident::MAX_WINDOW_MS / 60_000;
/// A window given in seconds (a quick check, a test of what happens when one ends) is at
/// least this long: a shorter one would end before a client could learn of it.
pub const MIN_SECONDS: i64 = 5;

/// What a label and a ticket URL may hold: a line of text, a URL.
const MAX_LABEL: usize = 200;
const MAX_URL: usize = 2_000;

/// A request to start a window.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRequest {
    /// How long it lasts: `minutes`, or `seconds` for a short one; exactly one of them.
    #[serde(default)]
    pub minutes: Option<i64>,
    #[serde(default)]
    pub seconds: Option<i64>,
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
    /// A window over everyone, for `minutes`, started from `origin` (the tray's one click).
    pub fn everyone(minutes: i64, origin: Origin) -> StartRequest {
        StartRequest {
            minutes: Some(minutes),
            seconds: None,
            user: None,
            session: None,
            url: None,
            label: None,
            ticket_url: None,
            started_by: Some(origin),
        }
    }

    /// The window's length in ms, checked.
    fn length_ms(&self) -> Result<i64> {
        match (self.minutes, self.seconds) {
            (Some(minutes), None) => check_minutes(minutes).map(|()| minutes * 60_000),
            (None, Some(s)) if (MIN_SECONDS..=MAX_MINUTES * 60).contains(&s) => Ok(s * 1000),
            (None, Some(s)) => Err(ServerError::BadRequest(format!(
                "seconds must be {MIN_SECONDS}-{}, not {s}",
                MAX_MINUTES * 60
            ))),
            _ => Err(ServerError::BadRequest(
                "give the window's length as minutes or as seconds (one of them)".into(),
            )),
        }
    }

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
    /// Bumped on every change, so the live stream can tell the UI at once.
    version: tokio::sync::watch::Sender<u64>,
    /// The latest end of any window known (Unix ms): records arriving up to
    /// [`LATE_ARRIVAL_MS`] after it may still belong to one.
    latest_end_ms: std::sync::atomic::AtomicI64,
}

/// How long after a window ends spans and logs are still looked up by their trace: a backend
/// exports within seconds, a batching collector within a minute or two.
const LATE_ARRIVAL_MS: i64 = 10 * 60 * 1000;

impl Incidents {
    /// Loads the windows still open from the store.
    pub fn load(writer: Writer, readers: Readers, now_ms: i64) -> Result<Incidents> {
        let open = readers.with_conn(|c| incident::open_at(c, now_ms))?;
        let latest_end_ms = open.iter().map(|w| w.until_ms).max().unwrap_or(0);
        Ok(Incidents {
            writer,
            readers,
            open: RwLock::new(open),
            version: tokio::sync::watch::Sender::new(0),
            latest_end_ms: latest_end_ms.into(),
        })
    }

    /// Follows changes to the windows (started, extended, stopped).
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// The windows capturing at `now_ms`, newest first.
    pub fn active(&self, now_ms: i64) -> Vec<Incident> {
        let mut open: Vec<Incident> = self
            .open()
            .into_iter()
            .filter(|w| w.active_at(now_ms))
            .collect();
        open.sort_by_key(|w| std::cmp::Reverse(w.started_ms));
        open
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
        self.latest_end_ms
            .fetch_max(window.until_ms, std::sync::atomic::Ordering::Relaxed);
        self.version.send_modify(|v| *v += 1);
        Ok(window)
    }

    pub async fn start(&self, req: StartRequest, now_ms: i64) -> Result<Incident> {
        let length_ms = req.length_ms()?;
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
            until_ms: now_ms + length_ms,
            ended_early: false,
            scope,
            label,
            ticket_url,
            started_by: origin,
        };
        tracing::info!(id = %window.id, scope = window.scope.kind(), seconds = length_ms / 1000, origin = origin.as_str(), "incident window started");
        self.save(window, now_ms).await
    }

    async fn stored(&self, id: &str) -> Result<Incident> {
        let key = id.to_owned();
        self.readers
            .read(move |c| incident::get(c, &key))
            .await?
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
        Ok(self.readers.read(incident::history).await?)
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

/// One record's facts for scope matching, gathered from its attributes, its resource's, and
/// (for a user scope) its session's recorded user.
struct Facts {
    user: Option<String>,
    session: Option<String>,
    url: Option<String>,
    /// When the record says it happened, in ms (`None` when it does not say): a record from
    /// before a window opened is not the window's, however late it arrives.
    at_ms: Option<i64>,
}

/// A record's own time in ms, from nanoseconds (0 means the sender did not say).
fn record_ms(unix_nano: u64) -> Option<i64> {
    (unix_nano > 0).then(|| i64::try_from(unix_nano / 1_000_000).unwrap_or(i64::MAX))
}

impl Incidents {
    /// Tags each span and log of `batch` with the window it belongs to: its sender's mark
    /// (`incident.id`, `incident.mode`), else the newest window open now whose scope covers
    /// it and that was open when the record says it happened, else the window its trace's browser request was recorded in (a backend's spans can
    /// arrive after the window ended). Costs nothing when no window is open or recently ended
    /// and nothing is marked.
    pub async fn tag(&self, batch: &mut sightline_store::Batch, now_ms: i64) -> Result<()> {
        let open: Vec<Incident> = self
            .open()
            .into_iter()
            .filter(|w| w.active_at(now_ms))
            .collect();
        let marked = batch.logs.iter().any(|l| l.facts.incident.is_some())
            || batch.spans.iter().any(|s| s.facts.incident.is_some());
        let recent = self
            .latest_end_ms
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_add(LATE_ARRIVAL_MS)
            > now_ms;
        if open.is_empty() && !marked && !recent {
            return Ok(());
        }
        let needs_attrs = open
            .iter()
            .any(|w| matches!(w.scope, Scope::User(_) | Scope::Url(_)));
        // Facts and marks of every record, spans first, then logs: normalize read them from
        // the attributes.
        let records = batch
            .spans
            .iter()
            .map(|s| (&s.facts, &s.session_id, record_ms(s.start_time_unix_nano)))
            .chain(batch.logs.iter().map(|l| {
                let at = record_ms(l.time_unix_nano).or(record_ms(l.observed_time_unix_nano));
                (&l.facts, &l.session_id, at)
            }));
        let mut facts = Vec::with_capacity(batch.spans.len() + batch.logs.len());
        let mut marks = Vec::with_capacity(facts.capacity());
        // A window's user or URL is matched against what is stored (and shown): redacted.
        let text = |t: &Option<String>| {
            if needs_attrs {
                t.clone().map(sightline_store::redact::redacted)
            } else {
                None
            }
        };
        for (known, session, at_ms) in records {
            marks.push(known.incident.clone());
            facts.push(Facts {
                user: text(&known.user),
                session: session.clone(),
                url: text(&known.url),
                at_ms,
            });
        }
        // A user scope also covers records of that user's recorded sessions.
        if open.iter().any(|w| matches!(w.scope, Scope::User(_))) {
            let wanted: Vec<String> = facts
                .iter()
                .filter(|f| f.user.is_none())
                .filter_map(|f| f.session.clone())
                .collect();
            if !wanted.is_empty() {
                let users = self
                    .readers
                    .read(move |c| sightline_store::views::session_users(c, &wanted))
                    .await?;
                for f in facts.iter_mut().filter(|f| f.user.is_none()) {
                    if let Some(s) = &f.session {
                        f.user = users.get(s).cloned();
                    }
                }
            }
        }
        let newest = open
            .iter()
            .max_by_key(|w| w.started_ms)
            .map(|w| w.id.clone());
        let tags: Vec<Option<String>> = facts
            .iter()
            .zip(marks)
            .map(|(f, m)| match m {
                Some(IncidentMark::Id(id)) => Some(id),
                Some(IncidentMark::Newest) => newest.clone(),
                None => {
                    let who = Who {
                        user: f.user.as_deref(),
                        session: f.session.as_deref(),
                        urls: f.url.as_deref().into_iter().collect(),
                    };
                    incident::covering_record(&open, now_ms, f.at_ms, &who).map(|w| w.id.clone())
                }
            })
            .collect();
        let mut tags = tags;
        if recent && tags.iter().any(Option::is_none) {
            let traces: Vec<Option<[u8; 16]>> = batch
                .spans
                .iter()
                .map(|s| Some(s.trace_id))
                .chain(batch.logs.iter().map(|l| l.trace_id))
                .collect();
            let mut wanted: Vec<[u8; 16]> = traces
                .iter()
                .zip(&tags)
                .filter(|(_, tag)| tag.is_none())
                .filter_map(|(t, _)| *t)
                .collect();
            wanted.sort_unstable();
            wanted.dedup();
            let recorded = self
                .readers
                .read(move |c| sightline_store::views::trace_incidents(c, &wanted))
                .await?;
            for (tag, trace) in tags.iter_mut().zip(&traces) {
                if tag.is_none() {
                    *tag = trace.and_then(|t| recorded.get(&t).cloned());
                }
            }
        }
        let (span_tags, log_tags) = tags.split_at(batch.spans.len());
        for (span, tag) in batch.spans.iter_mut().zip(span_tags) {
            span.incident_id = tag.clone();
        }
        for (log, tag) in batch.logs.iter_mut().zip(log_tags) {
            log.incident_id = tag.clone();
        }
        Ok(())
    }
}

impl Incidents {
    /// Checks the recorder's stamps against the windows they name: a stamp on an event
    /// recorded after its window ended (the recorder learns of the end with the answer to its
    /// next batch), before it started, or naming no known window is removed.
    pub async fn check_stamps(&self, chunk: &mut ReplayChunkRow) -> Result<()> {
        let mut ids: Vec<String> = chunk
            .index
            .iter()
            .filter_map(|e| e.incident_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut bounds = std::collections::HashMap::new();
        for id in ids {
            match self.get(&id).await {
                Ok(w) => {
                    bounds.insert(id, (w.started_ms, w.until_ms));
                }
                Err(ServerError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        for e in &mut chunk.index {
            let inside = e
                .incident_id
                .as_ref()
                .and_then(|id| bounds.get(id))
                .is_some_and(|(start, until)| *start <= e.timestamp_ms && e.timestamp_ms < *until);
            if !inside {
                e.incident_id = None;
            }
        }
        Ok(())
    }
}

/// Marks the events of a batch that arrived while `window` covers its session: those recorded
/// since the window opened, which the recorder has not stamped itself (it learns of a window
/// only with the answer to its next batch).
pub fn stamp_events(chunk: &mut ReplayChunkRow, window: &Incident) {
    for e in &mut chunk.index {
        if e.incident_id.is_none() && e.timestamp_ms >= window.started_ms {
            e.incident_id = Some(window.id.clone());
        }
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
