//! The query API on the UI address, under `/api/v1`.
//!
//! Same-origin only: no CORS headers, so pages on other origins cannot read what Sightline has
//! stored; and only requests addressed to a loopback host name are answered, so a hostile page
//! cannot reach it through DNS rebinding either. With a token (required when the address is not
//! loopback), every request must carry the token instead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use sightline_store::{sql, views, Change, Connection, Readers};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::config::Limits;
use crate::control::Control;
use crate::error::ServerError;
use crate::incidents::{Incidents, StartRequest};
use crate::settings::{self, SettingsStore};

#[derive(Clone)]
pub struct ApiState {
    readers: Readers,
    limits: Limits,
    changes: tokio::sync::broadcast::Sender<Change>,
    stop: tokio::sync::watch::Receiver<bool>,
    endpoints: Arc<Endpoints>,
    control: Arc<Control>,
    settings: Option<Arc<SettingsStore>>,
    incidents: Arc<Incidents>,
    share: Arc<crate::share::Share>,
    writer: sightline_store::Writer,
    demo: Arc<crate::demo::DemoRunner>,
}

/// Where this engine listens and keeps its data, for the UI's status page and setup snippets.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub otlp_grpc: std::net::SocketAddr,
    pub otlp_http: std::net::SocketAddr,
    pub ui: std::net::SocketAddr,
    pub data_dir: std::path::PathBuf,
}

/// Changes arriving within this window go out as one message per kind: a burst of ingest
/// becomes a few UI refreshes, not hundreds.
const STREAM_COALESCE: Duration = Duration::from_millis(250);

/// What the API serves from: the store's readers and change feed, the engine's switches and
/// addresses, and the desktop app's settings when there is one.
pub struct Deps {
    pub readers: Readers,
    pub limits: Limits,
    pub changes: tokio::sync::broadcast::Sender<Change>,
    pub stop: tokio::sync::watch::Receiver<bool>,
    pub token: Option<String>,
    pub control: Arc<Control>,
    pub endpoints: Endpoints,
    pub settings: Option<Arc<SettingsStore>>,
    pub incidents: Arc<Incidents>,
    pub share: Arc<crate::share::Share>,
    /// For the few writes the API makes itself (pinning a session).
    pub writer: sightline_store::Writer,
    pub demo: Arc<crate::demo::DemoRunner>,
}

pub fn router(deps: Deps) -> Router {
    let Deps {
        readers,
        limits,
        changes,
        stop,
        token,
        control,
        endpoints,
        settings,
        incidents,
        share,
        writer,
        demo,
    } = deps;
    Router::new()
        .route("/api/v1/traces/{trace_id}", get(trace))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/status", get(status))
        .route("/api/v1/activity", get(activity))
        .route("/api/v1/ingest", get(ingest_state).put(set_ingest))
        .route("/api/v1/settings", get(get_settings).patch(patch_settings))
        .route(
            "/api/v1/incidents",
            get(list_incidents).post(start_incident),
        )
        .route("/api/v1/incidents/{id}", get(get_incident))
        .route("/api/v1/incidents/{id}/extend", post(extend_incident))
        .route("/api/v1/incidents/{id}/stop", post(stop_incident))
        .route("/api/v1/incidents/{id}/requests", get(incident_requests))
        .route("/api/v1/sql", post(run_sql))
        .route("/api/v1/demo", get(demo_state).post(start_demo))
        .route("/api/v1/export", get(export_bundle))
        .route("/api/v1/import", post(import_bundle))
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/sessions/{session_id}", get(session))
        .route("/api/v1/sessions/{session_id}/replay", get(session_replay))
        .route("/api/v1/logs", get(logs))
        .route("/api/v1/stream", get(live))
        .route("/api/v1/traces", get(traces))
        .route("/api/v1/services", get(services))
        .route("/api/v1/service-map", get(service_map))
        .route("/api/v1/diagnostics", get(diagnostics))
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/sessions/{session_id}/timeline",
            get(session_timeline),
        )
        .route(
            "/api/v1/sessions/{session_id}/events/{event_id}",
            get(session_event),
        )
        .route("/api/v1/sessions/{session_id}/report", get(session_report))
        .route(
            "/api/v1/sessions/{session_id}/pin",
            post(pin_session).delete(unpin_session),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Access {
                token: token.map(Arc::from),
            },
            guard,
        ))
        .with_state(ApiState {
            readers,
            limits,
            changes,
            stop,
            endpoints: Arc::new(endpoints),
            control,
            settings,
            incidents,
            share,
            writer,
            demo,
        })
}

/// Whether a Host header names this machine: `localhost` (and `*.localhost`), 127.0.0.0/8 or
/// `[::1]`, with any port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Who may use the UI address.
#[derive(Clone)]
struct Access {
    /// When set, every request must present it; the Host check is then moot (a rebinding page
    /// does not know the token), which is what lets a token-protected engine be reached by name
    /// from another machine.
    token: Option<Arc<str>>,
}

/// The cookie a browser keeps the token in after opening the UI with `?token=`, so the page's
/// own requests (and its EventSource, which cannot set headers) carry it.
const TOKEN_COOKIE: &str = "sightline_token";

/// The token a request presents: `Authorization: Bearer`, the cookie, or `?token=`; and
/// whether it came in the query (then the answer sets the cookie).
fn presented_token(req: &Request) -> (Option<String>, bool) {
    let headers = req.headers();
    if let Some(bearer) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        return (Some(bearer.trim().to_owned()), false);
    }
    let cookie = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.to_owned());
    if cookie.is_some() {
        return (cookie, false);
    }
    let query = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let from_query = query.is_some();
    (query, from_query)
}

/// Compares in time independent of where the strings differ, so response timing does not
/// reveal a prefix of the token.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Body types a web page may send to another origin without a CORS preflight: a state-changing
/// request in one of them can be a forgery from any page the developer has open.
const SIMPLE_BODY_TYPES: &[&str] = &[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Why a state-changing request may not have come from Sightline's own UI or a local tool, if
/// it may not. Browsers name the page that sent a request (`Origin`, `Sec-Fetch-Site`); the
/// CLI and other local tools send neither. The API grants no CORS, so a foreign page can only
/// send "simple" requests, which these checks refuse (OWASP's CSRF defences for a local API).
fn forged(req: &Request, host: &str) -> Option<String> {
    if matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) {
        return None;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    if let Some(site) = header("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Some(format!("a {site} request"));
        }
    }
    if let Some(origin) = header("origin") {
        let own = [format!("http://{host}"), format!("https://{host}")];
        if !own.iter().any(|o| o.eq_ignore_ascii_case(&origin)) {
            return Some(format!("a request from {origin}"));
        }
    }
    let media = header("content-type")
        .map(|t| t.split(';').next().unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    if SIMPLE_BODY_TYPES.contains(&media.as_str()) {
        return Some(format!(
            "a {media} body (a form or a page can send one anywhere)"
        ));
    }
    // A body with no type at all is "simple" too (a page's Blob body), but every browser that
    // sends one names its page in `Origin`, refused above; a local tool may send a file as is.
    None
}

/// Headers every answer on the UI address carries: no page may frame the UI (clickjacking),
/// the UI and its replays connect only to this address, nothing is sniffed into a script, and
/// no address (with its session ids) leaks to another site.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "frame-ancestors 'none'; connect-src 'self'; object-src 'none'; form-action 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

async fn guard(State(access): State<Access>, req: Request, next: Next) -> Response {
    let mut resp = admit(access, req, next).await;
    for (name, value) in SECURITY_HEADERS {
        resp.headers_mut()
            .insert(*name, http::HeaderValue::from_static(value));
    }
    resp
}

async fn admit(access: Access, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    if let Some(why) = forged(&req, &host) {
        return ServerError::Forbidden(format!(
            "refused {why}: this API changes state only for Sightline's own UI and local tools \
             (a guard against cross-site request forgery); send JSON as `application/json`"
        ))
        .to_api();
    }
    if let Some(token) = &access.token {
        let (presented, from_query) = presented_token(&req);
        return match presented {
            Some(p) if same_secret(&p, token) => {
                let mut resp = next.run(req).await;
                if from_query {
                    let cookie = format!("{TOKEN_COOKIE}={p}; Path=/; HttpOnly; SameSite=Strict");
                    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
                        resp.headers_mut().append(http::header::SET_COOKIE, value);
                    }
                }
                resp
            }
            Some(_) => ServerError::Unauthorized("the token is not this engine's".into()).to_api(),
            None => ServerError::Unauthorized(
                "this engine requires its token: send `Authorization: Bearer TOKEN`, or open the \
                 UI once with ?token=TOKEN"
                    .into(),
            )
            .to_api(),
        };
    }
    if is_loopback_host(&host) {
        next.run(req).await
    } else {
        ServerError::Forbidden(format!(
            "this API answers requests addressed to localhost only, not {host:?} (a guard \
             against DNS rebinding)"
        ))
        .to_api()
    }
}

/// Runs a read on a blocking thread with a pooled read-only connection.
async fn read<T: Send + 'static>(
    readers: Readers,
    f: impl FnOnce(&Connection, &Readers) -> sightline_store::Result<T> + Send + 'static,
) -> Result<T, ServerError> {
    let r = readers.clone();
    readers
        .read(move |conn| f(conn, &r))
        .await
        .map_err(ServerError::from)
}

fn parse_trace_id(text: &str) -> Result<[u8; 16], ServerError> {
    let bad = || {
        ServerError::BadRequest(format!(
            "{text:?} is not a trace id: expected 32 hexadecimal digits"
        ))
    };
    let bytes = hex::decode(text).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

async fn trace(State(s): State<ApiState>, Path(trace_id): Path<String>) -> Response {
    let result = async {
        let id = parse_trace_id(&trace_id)?;
        read(s.readers, move |conn, _| views::trace_view(conn, &id))
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("no trace {trace_id} is stored")))
    }
    .await;
    match result {
        Ok(view) => Json(view).into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/status`: version, listening addresses, data location, and the counts.
async fn status(State(s): State<ApiState>) -> Response {
    let endpoints = s.endpoints.clone();
    match read(s.readers, |conn, r| {
        let stats = views::stats(conn, r.path())?;
        Ok((stats, r.path().to_owned()))
    })
    .await
    {
        Ok((stats, database)) => Json(serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "otlpGrpc": endpoints.otlp_grpc.to_string(),
            "otlpHttp": endpoints.otlp_http.to_string(),
            "ui": endpoints.ui.to_string(),
            "dataDir": endpoints.data_dir,
            "database": database,
            "stats": stats,
            "ingest": ingest_json(&s.control),
            // Whether `/api/v1/settings` exists (the desktop app), so the UI need not probe.
            "settings": s.settings.is_some(),
        }))
        .into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/activity?sinceMs=`: sessions, traces and failing traces that started since
/// then (the caller picks "today" in its own time zone; the last 24 hours without it).
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn activity(State(s): State<ApiState>, Query(p): Query<Params>) -> Response {
    let result = async {
        let since =
            param(&p, "sinceMs", "Unix milliseconds")?.unwrap_or_else(|| crate::now_ms() - DAY_MS);
        let counts = read(s.readers, move |conn, _| views::activity_since(conn, since)).await?;
        Ok(serde_json::json!(counts))
    }
    .await;
    reply(result)
}

fn ingest_json(control: &Control) -> serde_json::Value {
    serde_json::json!({ "paused": control.paused(), "refused": control.refused() })
}

/// `GET /api/v1/ingest`: whether the receivers take data, and how many requests a pause has
/// turned away since the engine started.
async fn ingest_state(State(s): State<ApiState>) -> Response {
    Json(ingest_json(&s.control)).into_response()
}

/// `PUT /api/v1/ingest` `{"paused": bool}`: pauses or resumes every receiver (OTLP and replay
/// then answer 503 with `Retry-After`).
async fn set_ingest(State(s): State<ApiState>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        paused: bool,
    }
    match serde_json::from_slice::<Body>(&body) {
        Ok(b) => {
            if s.control.set_paused(b.paused) {
                tracing::info!(paused = b.paused, "ingest switched from the API");
            }
            Json(ingest_json(&s.control)).into_response()
        }
        Err(e) => {
            ServerError::BadRequest(format!("the body must be {{\"paused\": true|false}}: {e}"))
                .to_api()
        }
    }
}

fn incident_json(i: &sightline_store::incident::Incident) -> serde_json::Value {
    let mut v = serde_json::json!(i);
    v["active"] = serde_json::json!(i.active_at(crate::now_ms()));
    v
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ServerError> {
    serde_json::from_slice(body)
        .map_err(|e| ServerError::BadRequest(format!("the body must be {what}: {e}")))
}

/// `GET /api/v1/incidents`: the windows, newest first, each with `active`.
async fn list_incidents(State(s): State<ApiState>) -> Response {
    let result = s.incidents.history().await.map(
        |all| serde_json::json!({ "incidents": all.iter().map(incident_json).collect::<Vec<_>>() }),
    );
    reply(result)
}

/// `POST /api/v1/incidents` `{minutes, user|session|url, label, ticketUrl, startedBy}`.
async fn start_incident(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = async {
        let req: StartRequest = json_body(&body, "a window: {\"minutes\": 15, …}")?;
        let started = s.incidents.start(req, crate::now_ms()).await?;
        Ok::<_, ServerError>(incident_json(&started))
    }
    .await;
    match result {
        Ok(v) => (http::StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => e.to_api(),
    }
}

async fn get_incident(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    reply(s.incidents.get(&id).await.map(|i| incident_json(&i)))
}

/// `GET /api/v1/export?session=ID[&session=ID…]` | `?incident=ID` | `?fromMs=&toMs=`: the
/// selection as a `.sightline` bundle (a download).
async fn export_bundle(
    State(s): State<ApiState>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let result = async {
        let mut sessions = Vec::new();
        let (mut incident, mut from, mut to) = (None, None, None);
        let number = |k: &str, v: &str| {
            v.parse::<i64>().map_err(|_| {
                ServerError::BadRequest(format!("{k}={v:?} must be Unix milliseconds"))
            })
        };
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "session" if !v.is_empty() => sessions.push(v.into_owned()),
                "incident" if !v.is_empty() => incident = Some(v.into_owned()),
                "fromMs" => from = Some(number("fromMs", &v)?),
                "toMs" => to = Some(number("toMs", &v)?),
                _ => {}
            }
        }
        let selection = crate::share::selection(sessions, incident, (from, to))?;
        let name = crate::share::file_name(&selection, crate::now_ms());
        let path = s.share.scratch_file("export")?;
        let counts = s.share.export(selection, path.clone()).await;
        let bytes = counts.and_then(|counts| {
            let bytes = std::fs::read(&path)
                .map_err(|e| ServerError::Internal(format!("cannot read the bundle: {e}")))?;
            Ok((counts, bytes))
        });
        let _ = std::fs::remove_file(&path);
        let (counts, bytes) = bytes?;
        Ok::<_, ServerError>((name, counts, bytes))
    }
    .await;
    match result {
        Ok((name, counts, bytes)) => (
            [
                (
                    http::header::CONTENT_TYPE,
                    "application/vnd.sightline.bundle+sqlite3".to_owned(),
                ),
                (
                    http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (
                    http::header::HeaderName::from_static("x-sightline-counts"),
                    crate::share::counts_json(&counts).to_string(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => e.to_api(),
    }
}

/// `POST /api/v1/import`: a `.sightline` bundle as the body (`X-File-Name` names it for the
/// user). Stored once, all or nothing; `{imported: false}` when it was imported before.
async fn import_bundle(
    State(s): State<ApiState>,
    headers: http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    let result = async {
        let name = headers
            .get("x-file-name")
            .and_then(|v| v.to_str().ok())
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "uploaded.sightline".to_owned());
        let path = s.share.scratch_file("import")?;
        let received = receive(body, &path).await;
        let imported = match received {
            Ok(()) => s.share.import(path.clone(), &name).await,
            Err(e) => Err(e),
        };
        let _ = tokio::fs::remove_file(&path).await;
        imported
    }
    .await;
    reply(result.map(|i| serde_json::json!(i)))
}

/// Streams a request body to `path`, refusing past [`crate::share::MAX_BUNDLE_BYTES`].
async fn receive(body: axum::body::Body, path: &std::path::Path) -> Result<(), ServerError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| ServerError::Internal(format!("cannot write {}: {e}", path.display())))?;
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ServerError::Body(e.to_string()))?;
        total += chunk.len() as u64;
        if total > crate::share::MAX_BUNDLE_BYTES {
            return Err(ServerError::BadRequest(format!(
                "a bundle is at most {} MiB",
                crate::share::MAX_BUNDLE_BYTES / (1024 * 1024)
            )));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ServerError::Internal(format!("cannot write {}: {e}", path.display())))?;
    }
    file.flush()
        .await
        .map_err(|e| ServerError::Internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

/// `GET /api/v1/incidents/{id}/requests`: the browser requests recorded in the window.
async fn incident_requests(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    let result = async {
        // Unknown ids are a 404, not an empty list.
        s.incidents.get(&id).await?;
        let (requests, truncated) = read(s.readers, move |conn, _| {
            views::incident_requests(conn, &id, MAX_INCIDENT_REQUESTS)
        })
        .await?;
        Ok::<_, ServerError>(serde_json::json!({ "requests": requests, "truncated": truncated }))
    }
    .await;
    reply(result)
}

/// Requests listed per incident: an incident page shows them in one table, failing first.
const MAX_INCIDENT_REQUESTS: usize = 1000;

/// `POST /api/v1/incidents/{id}/extend` `{minutes}`.
async fn extend_incident(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Extend {
        minutes: i64,
    }
    let result = async {
        let req: Extend = json_body(&body, "{\"minutes\": N}")?;
        let window = s
            .incidents
            .extend(&id, req.minutes, crate::now_ms())
            .await?;
        Ok(incident_json(&window))
    }
    .await;
    reply(result)
}

/// `POST /api/v1/incidents/{id}/stop`: ends capture now.
async fn stop_incident(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    reply(
        s.incidents
            .stop(&id, crate::now_ms())
            .await
            .map(|i| incident_json(&i)),
    )
}

fn settings_store(s: &ApiState) -> Result<&SettingsStore, ServerError> {
    s.settings.as_deref().ok_or_else(|| {
        ServerError::NotFound(
            "settings belong to the desktop app; `sightline serve` takes its settings as flags"
                .into(),
        )
    })
}

fn settings_json(store: &SettingsStore, restart: bool) -> serde_json::Value {
    serde_json::json!({
        "settings": store.get(),
        "file": store.path(),
        "defaultDataDir": crate::settings::default_data_dir(),
        "defaultInboxDir": crate::settings::default_inbox_dir(),
        "restart": restart,
    })
}

/// `GET /api/v1/settings`: the desktop app's settings, where they are kept, and the default
/// data directory. 404 when the engine runs without the desktop app.
async fn get_settings(State(s): State<ApiState>) -> Response {
    reply(settings_store(&s).map(|store| settings_json(store, false)))
}

/// `PATCH /api/v1/settings` with the fields to change: checked (ports free and distinct, data
/// directory writable), saved, then applied by the desktop app (`restart` says the receivers
/// are moving to new ports or data).
async fn patch_settings(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = async {
        let store = settings_store(&s)?;
        let now = store.get();
        let next = settings::merge(&now, &body)?;
        let e = &s.endpoints;
        let running = [e.otlp_grpc.port(), e.otlp_http.port(), e.ui.port()];
        let checked = next.clone();
        tokio::task::spawn_blocking(move || settings::check(&checked, &running))
            .await
            .map_err(|e| ServerError::Internal(format!("settings check failed: {e}")))??;
        let restart = now.needs_restart(&next);
        store.save(next)?;
        tracing::info!(restart, "settings saved");
        Ok(settings_json(store, restart))
    }
    .await;
    reply(result)
}

async fn stats(State(s): State<ApiState>) -> Response {
    match read(s.readers, |conn, r| views::stats(conn, r.path())).await {
        Ok(stats) => Json(stats).into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/demo`: whether the demo storefront runs, and where.
async fn demo_state(State(s): State<ApiState>) -> Response {
    Json(s.demo.view().await).into_response()
}

/// `POST /api/v1/demo`: starts the demo storefront (on a free port when its own is taken) and
/// says where it is; a running demo is left as it is.
async fn start_demo(State(s): State<ApiState>) -> Response {
    reply(s.demo.start(true).await.map(|v| serde_json::json!(v)))
}

/// `POST /api/v1/sql` `{"sql": "…"}`: one read-only statement over the documented views.
async fn run_sql(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = async {
        let request: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ServerError::BadRequest(format!("the body must be JSON: {e}")))?;
        let statement = request
            .get("sql")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ServerError::BadRequest("the body must be {\"sql\": \"…\"}".into()))?
            .to_owned();
        let path = s.readers.path().to_owned();
        let (limit, cap) = (s.limits.sql_time_limit, s.limits.sql_row_cap);
        tokio::task::spawn_blocking(move || {
            let conn = sql::open(&path)?;
            // The watchdog interrupts the statement at the time limit; dropping the sender
            // when the statement ends stops the watchdog.
            let interrupt = conn.get_interrupt_handle();
            let (done, stop) = std::sync::mpsc::channel::<()>();
            let watchdog = std::thread::spawn(move || {
                if stop.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    interrupt.interrupt();
                }
            });
            let started = Instant::now();
            let result = sql::run(&conn, &statement, cap);
            drop(done);
            let _ = watchdog.join();
            result.map(|rows| (rows, started.elapsed()))
        })
        .await
        .map_err(|e| ServerError::Internal(format!("query task failed: {e}")))?
        .map_err(|e| match e {
            sightline_store::StoreError::Interrupted => ServerError::BadRequest(format!(
                "the statement ran past the {} ms limit and was stopped",
                limit.as_millis()
            )),
            other => ServerError::from(other),
        })
    }
    .await;
    match result {
        Ok((rows, elapsed)) => Json(serde_json::json!({
            "columns": rows.columns,
            "rows": rows.rows,
            "truncated": rows.truncated,
            "elapsedMs": elapsed_ms(elapsed),
        }))
        .into_response(),
        Err(e) => e.to_api(),
    }
}

fn elapsed_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Sessions a page holds by default, and at most.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

type Params = HashMap<String, String>;

fn param<T: std::str::FromStr>(
    p: &Params,
    key: &str,
    what: &str,
) -> Result<Option<T>, ServerError> {
    p.get(key)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| ServerError::BadRequest(format!("{key}={v:?} is not {what}")))
        })
        .transpose()
}

/// A text parameter; empty counts as absent.
fn text(p: &Params, key: &str) -> Option<String> {
    p.get(key).filter(|v| !v.is_empty()).cloned()
}

/// `attribute=key=value`.
fn attribute_param(p: &Params) -> Result<Option<(String, String)>, ServerError> {
    text(p, "attribute")
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
            None => Err(ServerError::BadRequest(format!(
                "attribute={kv:?} must be key=value"
            ))),
        })
        .transpose()
}

/// `limit`, checked against the page bounds.
fn page_size(p: &Params) -> Result<usize, ServerError> {
    let limit: usize = param(p, "limit", "a page size")?.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ServerError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )))
    }
}

/// A JSON answer, or the error as the API reports errors.
fn reply(result: Result<serde_json::Value, ServerError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.to_api(),
    }
}

/// Cursors are opaque to clients: hex of "first_seen_ms.session_id".
fn encode_cursor((first, id): (i64, String)) -> String {
    hex::encode(format!("{first}.{id}"))
}

fn decode_cursor(text: &str) -> Result<(i64, String), ServerError> {
    let bad = || ServerError::BadRequest(format!("cursor {text:?} is not one this API gave out"));
    let raw = String::from_utf8(hex::decode(text).map_err(|_| bad())?).map_err(|_| bad())?;
    let (first, id) = raw.split_once('.').ok_or_else(bad)?;
    Ok((first.parse().map_err(|_| bad())?, id.to_owned()))
}

/// `incident=ID` or `incident=any`: what was captured in that incident window, or in any.
fn incident_param(p: &Params) -> Option<views::IncidentFilter> {
    text(p, "incident").map(|v| match v.as_str() {
        "any" => views::IncidentFilter::Any,
        _ => views::IncidentFilter::Id(v),
    })
}

/// `GET /api/v1/sessions`: newest first, filtered, a page at a time.
async fn sessions(State(s): State<ApiState>, Query(p): Query<Params>) -> Response {
    let result = async {
        let filter = views::SessionFilter {
            user: text(&p, "user"),
            url: text(&p, "url"),
            has_error: param(&p, "hasError", "true or false")?,
            min_frustration: param(&p, "minFrustration", "a number")?,
            has_backend_traces: param(&p, "hasBackendTraces", "true or false")?,
            from_ms: param(&p, "fromMs", "Unix milliseconds")?,
            to_ms: param(&p, "toMs", "Unix milliseconds")?,
            text: text(&p, "q"),
            incident: incident_param(&p),
        };
        let limit = page_size(&p)?;
        let cursor = p.get("cursor").map(|c| decode_cursor(c)).transpose()?;
        // Facets describe the whole filtered set, so the first page carries them and later
        // pages (same filters) do not repeat the work.
        let want_facets =
            cursor.is_none() && param::<bool>(&p, "facets", "true or false")?.unwrap_or(true);
        let (page, next, facets) = read(s.readers, move |conn, _| {
            let (page, next) = views::list_sessions(conn, &filter, cursor, limit)?;
            let facets = if want_facets {
                Some(views::session_facets(conn, &filter)?)
            } else {
                None
            };
            Ok((page, next, facets))
        })
        .await?;
        let mut answer = serde_json::json!({
            "sessions": page,
            "nextCursor": next.map(encode_cursor),
        });
        if let Some(facets) = facets {
            answer["facets"] = facets;
        }
        Ok::<_, ServerError>(answer)
    }
    .await;
    reply(result)
}

/// `GET /api/v1/sessions/{id}`: the summary, its pages and its frustration signals.
async fn session(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    let lookup = id.clone();
    let result = read(s.readers, move |conn, _| {
        let Some(mut view) = views::session_view(conn, &lookup)? else {
            return Ok(None);
        };
        view["frustrationSignals"] =
            serde_json::Value::Array(views::frustration_signals(conn, &lookup)?);
        Ok(Some(view))
    })
    .await
    .and_then(|v| v.ok_or_else(|| ServerError::NotFound(format!("no session {id} is stored"))));
    match result {
        Ok(view) => Json(view).into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/sessions/{id}/replay?fromMs=&toMs=`: the events a player needs for that
/// range, starting at the nearest full snapshot (so seeking decodes little). Without a range,
/// the whole session.
async fn session_replay(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let result = async {
        let from: i64 = param(&p, "fromMs", "Unix milliseconds")?.unwrap_or(0);
        let to: i64 = param(&p, "toMs", "Unix milliseconds")?.unwrap_or(i64::MAX);
        if to < from {
            return Err(ServerError::BadRequest("toMs is before fromMs".into()));
        }
        let lookup = id.clone();
        read(s.readers, move |conn, _| {
            if views::session_view(conn, &lookup)?.is_none() {
                return Ok(None);
            }
            views::replay_window(conn, &lookup, from, to).map(Some)
        })
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("no session {id} is stored")))
    }
    .await;
    match result {
        Ok(w) => Json(serde_json::json!({
            "checkpointMs": w.checkpoint_ms,
            "chunksDecoded": w.chunks_decoded,
            "events": w.events,
        }))
        .into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/sessions/{id}/timeline`: everything that happened in the session, in order.
async fn session_timeline(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    let lookup = id.clone();
    match read(s.readers, move |conn, _| {
        views::session_timeline(conn, &lookup)
    })
    .await
    .and_then(|t| t.ok_or_else(|| ServerError::NotFound(format!("no session {id} is stored"))))
    {
        Ok(timeline) => Json(timeline).into_response(),
        Err(e) => e.to_api(),
    }
}

/// `POST /api/v1/sessions/{id}/pin` `{note?}`: kept whatever the retention policy, until
/// unpinned (`DELETE`).
async fn pin_session(State(s): State<ApiState>, Path(id): Path<String>, body: Bytes) -> Response {
    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Pin {
        #[serde(default)]
        note: Option<String>,
    }
    let result = async {
        let pin: Pin = if body.is_empty() {
            Pin::default()
        } else {
            json_body(&body, "{\"note\": \"…\"} or nothing")?
        };
        let note = pin.note.unwrap_or_default();
        if note.chars().count() > 2_000 || note.contains('\n') {
            return Err(ServerError::BadRequest(
                "a pin's note is one line, at most 2000 characters".into(),
            ));
        }
        set_pin(&s, &id, Some(note)).await
    }
    .await;
    reply(result)
}

async fn unpin_session(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    reply(set_pin(&s, &id, None).await)
}

async fn set_pin(
    s: &ApiState,
    id: &str,
    pin: Option<String>,
) -> Result<serde_json::Value, ServerError> {
    let lookup = id.to_owned();
    let exists = read(s.readers.clone(), move |conn, _| {
        views::session_view(conn, &lookup)
    })
    .await?;
    if exists.is_none() {
        return Err(ServerError::NotFound(format!("no session {id} is stored")));
    }
    let pinned = pin.is_some();
    s.writer
        .write(sightline_store::Batch {
            pins: vec![sightline_store::model::PinChange {
                session_id: id.to_owned(),
                pin,
                at_ms: crate::now_ms(),
            }],
            ..Default::default()
        })
        .await?;
    Ok(serde_json::json!({ "sessionId": id, "pinned": pinned }))
}

/// `GET /api/v1/sessions/{id}/report[?format=markdown]`: the session as a bug report (steps to
/// reproduce, failing requests with their failing span, error logs, a link back), as JSON or
/// as Markdown to paste into a ticket.
async fn session_report(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let markdown = match p.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("markdown") | Some("md") => true,
        Some(other) => {
            return ServerError::BadRequest(format!("format={other:?} must be json or markdown"))
                .to_api()
        }
    };
    let lookup = id.clone();
    let report = read(s.readers, move |conn, _| {
        sightline_store::report::session_report(conn, &lookup)
    })
    .await
    .and_then(|r| r.ok_or_else(|| ServerError::NotFound(format!("no session {id} is stored"))));
    match report {
        Ok(r) if markdown => (
            [(http::header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            r.to_markdown(),
        )
            .into_response(),
        Ok(r) => Json(r).into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/sessions/{id}/events/{event}`: one recorded event with everything captured
/// for it (a request's headers and bodies recorded in an incident window).
async fn session_event(
    State(s): State<ApiState>,
    Path((id, event)): Path<(String, String)>,
) -> Response {
    let Ok(event_id) = event.parse::<i64>() else {
        return ServerError::BadRequest(format!("event id must be an integer, not {event:?}"))
            .to_api();
    };
    let lookup = id.clone();
    match read(s.readers, move |conn, _| {
        views::session_event(conn, &lookup, event_id)
    })
    .await
    .and_then(|e| {
        e.ok_or_else(|| ServerError::NotFound(format!("session {id} has no event {event_id}")))
    }) {
        Ok(event) => Json(event).into_response(),
        Err(e) => e.to_api(),
    }
}

/// Cursors for time-ordered pages (traces, logs) are opaque: hex of "time_ns.row".
fn encode_pair_cursor((start, id): (i64, i64)) -> String {
    hex::encode(format!("{start}.{id}"))
}

fn decode_pair_cursor(text: &str) -> Result<(i64, i64), ServerError> {
    let bad = || ServerError::BadRequest(format!("cursor {text:?} is not one this API gave out"));
    let raw = String::from_utf8(hex::decode(text).map_err(|_| bad())?).map_err(|_| bad())?;
    let (start, id) = raw.split_once('.').ok_or_else(bad)?;
    Ok((
        start.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// `GET /api/v1/traces`: trace search, newest first.
async fn traces(State(s): State<ApiState>, Query(p): Query<Params>) -> Response {
    let result = async {
        let attribute = attribute_param(&p)?;
        let error = match p.get("status").map(String::as_str) {
            None | Some("") | Some("any") => None,
            Some("error") => Some(true),
            Some("ok") => Some(false),
            Some(other) => {
                return Err(ServerError::BadRequest(format!(
                    "status={other:?} must be error, ok or any"
                )))
            }
        };
        let filter = views::TraceFilter {
            service: text(&p, "service"),
            span_name: text(&p, "name"),
            error,
            min_duration_ms: param(&p, "minDurationMs", "a number of milliseconds")?,
            max_duration_ms: param(&p, "maxDurationMs", "a number of milliseconds")?,
            attribute,
            session: text(&p, "session"),
            from_ms: param(&p, "fromMs", "Unix milliseconds")?,
            to_ms: param(&p, "toMs", "Unix milliseconds")?,
            incident: incident_param(&p),
        };
        let limit = page_size(&p)?;
        let cursor = p.get("cursor").map(|c| decode_pair_cursor(c)).transpose()?;
        let (page, next) = read(s.readers, move |conn, _| {
            views::search_traces(conn, &filter, cursor, limit)
        })
        .await?;
        Ok::<_, ServerError>(serde_json::json!({
            "traces": page,
            "nextCursor": next.map(encode_pair_cursor),
        }))
    }
    .await;
    reply(result)
}

/// `GET /api/v1/services`: span counts and error rates per service.
async fn services(State(s): State<ApiState>) -> Response {
    match read(s.readers, |conn, _| views::services(conn)).await {
        Ok(list) => Json(serde_json::json!({ "services": list })).into_response(),
        Err(e) => e.to_api(),
    }
}

/// `GET /api/v1/service-map?fromMs=`: calls between services in traces since `fromMs`
/// (default: all).
async fn service_map(State(s): State<ApiState>, Query(p): Query<Params>) -> Response {
    let result = async {
        let from_ms: i64 = param(&p, "fromMs", "Unix milliseconds")?.unwrap_or(0);
        read(s.readers, move |conn, _| {
            views::service_map(conn, from_ms.saturating_mul(1_000_000))
        })
        .await
    }
    .await;
    match result {
        Ok(edges) => Json(serde_json::json!({ "edges": edges })).into_response(),
        Err(e) => e.to_api(),
    }
}

fn event(kind: &str, data: serde_json::Value) -> Event {
    Event::default().event(kind).data(data.to_string())
}

/// One coalesced burst of changes as events: `sessions` {new, updated}, `traces` {spans,
/// traces}, `logs` {logs}; `resync` when changes were missed (the client refetches).
fn events_for(change: &Change, lagged: bool) -> Vec<Event> {
    let mut out = Vec::new();
    if lagged {
        out.push(event("resync", serde_json::json!({})));
    }
    if !change.new_sessions.is_empty() || !change.updated_sessions.is_empty() {
        out.push(event(
            "sessions",
            serde_json::json!({ "new": change.new_sessions, "updated": change.updated_sessions }),
        ));
    }
    if change.spans > 0 {
        out.push(event(
            "traces",
            serde_json::json!({ "spans": change.spans, "traces": change.traces }),
        ));
    }
    if change.logs > 0 {
        out.push(event("logs", serde_json::json!({ "logs": change.logs })));
    }
    out
}

/// `GET /api/v1/stream`: Server-Sent Events announcing what changed, coalesced, so the UI can
/// refresh without polling. Ends when the engine shuts down.
async fn live(
    State(s): State<ApiState>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let state = (
        s.changes.subscribe(),
        s.stop.clone(),
        s.control.watch_paused(),
        s.incidents.watch(),
    );
    let batches = stream::unfold(
        state,
        |(mut rx, mut stop, mut paused, mut incidents)| async move {
            enum Woke {
                Data(Change, bool),
                Paused,
                Incidents,
            }
            let woke = tokio::select! {
                got = rx.recv() => match got {
                    Ok(change) => Woke::Data(change, false),
                    Err(RecvError::Lagged(_)) => Woke::Data(Change::default(), true),
                    Err(RecvError::Closed) => return None,
                },
                flipped = paused.changed() => match flipped {
                    Ok(()) => Woke::Paused,
                    Err(_) => return None,
                },
                changed = incidents.changed() => match changed {
                    Ok(()) => Woke::Incidents,
                    Err(_) => return None,
                },
                _ = stop.wait_for(|stopped| *stopped) => return None,
            };
            let (first, mut lagged) = match woke {
                Woke::Data(change, lagged) => (change, lagged),
                // A pause switch goes out at once, alone: the UI's banner should not wait for data.
                Woke::Paused => {
                    let now = *paused.borrow_and_update();
                    let events = vec![event("ingest", serde_json::json!({ "paused": now }))];
                    return Some((events, (rx, stop, paused, incidents)));
                }
                // Windows started, extended or stopped (from anywhere): the UI refetches them.
                Woke::Incidents => {
                    incidents.borrow_and_update();
                    let events = vec![event("incidents", serde_json::json!({}))];
                    return Some((events, (rx, stop, paused, incidents)));
                }
            };
            let mut merged = first;
            tokio::time::sleep(STREAM_COALESCE).await;
            loop {
                match rx.try_recv() {
                    Ok(change) => merged.merge(change),
                    Err(TryRecvError::Lagged(_)) => lagged = true,
                    Err(_) => break,
                }
            }
            Some((events_for(&merged, lagged), (rx, stop, paused, incidents)))
        },
    );
    Sse::new(batches.flat_map(|events| stream::iter(events.into_iter().map(Ok))))
        .keep_alive(KeepAlive::default())
}

/// Severity names as OTLP numbers them (the first number of each range).
fn severity(text: &str) -> Result<i32, ServerError> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "trace" => 1,
        "debug" => 5,
        "info" => 9,
        "warn" | "warning" => 13,
        "error" => 17,
        "fatal" => 21,
        other => other.parse().map_err(|_| {
            ServerError::BadRequest(format!(
                "minSeverity={text:?} is not a severity (trace, debug, info, warn, error, fatal or 1-24)"
            ))
        })?,
    })
}

/// `GET /api/v1/logs`: full-text and filtered log search, newest first.
async fn logs(State(s): State<ApiState>, Query(p): Query<Params>) -> Response {
    let result = async {
        let attribute = attribute_param(&p)?;
        let trace_id = p
            .get("traceId")
            .filter(|v| !v.is_empty())
            .map(|t| parse_trace_id(t))
            .transpose()?;
        let filter = views::LogFilter {
            text: p.get("q").filter(|v| !v.trim().is_empty()).cloned(),
            min_severity: p
                .get("minSeverity")
                .filter(|v| !v.is_empty())
                .map(|v| severity(v))
                .transpose()?,
            service: text(&p, "service"),
            trace_id,
            session: text(&p, "session"),
            attribute,
            from_ms: param(&p, "fromMs", "Unix milliseconds")?,
            to_ms: param(&p, "toMs", "Unix milliseconds")?,
            incident: incident_param(&p),
        };
        let limit = page_size(&p)?;
        let cursor = p.get("cursor").map(|c| decode_pair_cursor(c)).transpose()?;
        let (page, next) = read(s.readers, move |conn, _| {
            views::search_logs(conn, &filter, cursor, limit)
        })
        .await?;
        Ok::<_, ServerError>(serde_json::json!({
            "logs": page,
            "nextCursor": next.map(encode_pair_cursor),
        }))
    }
    .await;
    reply(result)
}

/// The API's description, kept true by tests: every documented path is served, every served
/// path is documented, and answers carry the fields the document requires.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /api/v1/diagnostics`: what did not link, newest first.
async fn diagnostics(State(s): State<ApiState>) -> Response {
    match read(s.readers, |conn, _| views::diagnostics(conn)).await {
        Ok(d) => Json(d).into_response(),
        Err(e) => e.to_api(),
    }
}

/// Anything that is not an API route is the UI (its files, or its page for a deep link).
async fn not_found(uri: http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ServerError::NotFound("no such API route".into()).to_api();
    }
    crate::ui::serve(uri.path())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    /// Every route the router serves is in the OpenAPI document, and nothing else is.
    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let source = include_str!("api.rs");
        let mut served: Vec<String> = source
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"'))
            .filter_map(|rest| rest.split('"').next())
            .filter(|path| path.starts_with("/api/"))
            .map(str::to_owned)
            .collect();
        served.sort();
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let mut documented: Vec<String> =
            doc["paths"].as_object().unwrap().keys().cloned().collect();
        documented.sort();
        assert_eq!(served, documented);
    }

    #[test]
    fn only_loopback_host_names_pass() {
        for ok in [
            "localhost",
            "localhost:4320",
            "127.0.0.1:4320",
            "127.8.9.10",
            "[::1]:4320",
            "app.localhost:1",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:4320",
            "10.0.0.1:4320",
            "localhost.evil.example",
            "",
            "[::2]:1",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
