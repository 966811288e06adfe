//! The engine itself: its status and counts, what arrived today, the ingest switch, the demo
//! storefront beside it, and this API's own description.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sightline_store::views;
use utoipa::{IntoParams, ToSchema};

use super::params::{json_body, param, read, reply, Q};
use super::{ApiError, ApiState};
use crate::control::Control;
use crate::demo::DemoView;
use crate::error::ServerError;

/// Counts per signal and the database size.
#[utoipa::path(get, path = "/api/v1/stats", tag = "engine",
    responses((status = 200, body = views::Stats)))]
pub(super) async fn stats(State(s): State<ApiState>) -> Response {
    reply(read(s.readers, |conn, r| views::stats(conn, r.path())).await)
}

/// The engine: version, where it listens and keeps its data, its counts and switches.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusAnswer {
    pub version: String,
    /// `host:port` of each listener.
    pub otlp_grpc: String,
    pub otlp_http: String,
    pub ui: String,
    #[schema(value_type = String)]
    pub data_dir: std::path::PathBuf,
    /// The SQLite file.
    #[schema(value_type = String)]
    pub database: std::path::PathBuf,
    pub stats: views::Stats,
    pub ingest: IngestState,
    /// Whether `/api/v1/settings` exists (the desktop app), so the UI need not probe.
    pub settings: bool,
    /// How a coding agent reaches this engine over MCP.
    pub mcp: McpSetup,
}

/// The MCP server's two ways in, as the setup snippets name them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct McpSetup {
    /// Streamable HTTP: `http://{ui}/mcp`.
    pub url: String,
    /// stdio: this engine's own executable (`sightline`, or the desktop app's, which runs the
    /// same commands), and its arguments.
    pub command: String,
    pub args: Vec<String>,
}

/// The UI's default address: `sightline mcp` needs no `--ui` for it.
const DEFAULT_UI: &str = "127.0.0.1:4320";

fn mcp_setup(ui: std::net::SocketAddr) -> McpSetup {
    let local = crate::mcp::reachable(ui);
    let mut args = vec!["mcp".to_owned()];
    if local.to_string() != DEFAULT_UI {
        args.extend(["--ui".to_owned(), local.to_string()]);
    }
    McpSetup {
        url: format!("http://{local}/mcp"),
        // Inside an AppImage the executable is in a mount that changes every launch; the
        // AppImage itself is what the agent can run.
        command: std::env::var_os("APPIMAGE")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::current_exe().ok())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "sightline".into()),
        args,
    }
}

/// Version, listening addresses, data location and counts.
#[utoipa::path(get, path = "/api/v1/status", tag = "engine",
    responses((status = 200, body = StatusAnswer)))]
pub(super) async fn status(State(s): State<ApiState>) -> Response {
    let endpoints = s.endpoints.clone();
    let result = read(s.readers, |conn, r| {
        let stats = views::stats(conn, r.path())?;
        Ok((stats, r.path().to_owned()))
    })
    .await;
    reply(result.map(|(stats, database)| StatusAnswer {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        otlp_grpc: endpoints.otlp_grpc.to_string(),
        otlp_http: endpoints.otlp_http.to_string(),
        ui: endpoints.ui.to_string(),
        data_dir: endpoints.data_dir.clone(),
        database,
        stats,
        ingest: ingest_state_of(&s.control),
        settings: s.settings.is_some(),
        mcp: mcp_setup(endpoints.ui),
    }))
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Since when (Unix ms): the caller picks "today" in its own time zone; the last 24 hours
    /// without it.
    #[param(value_type = Option<i64>)]
    since_ms: Option<String>,
}

/// Recorded sessions, traces and failing traces that started since then.
#[utoipa::path(get, path = "/api/v1/activity", tag = "engine", params(ActivityQuery),
    responses((status = 200, body = views::Activity), (status = 400, body = ApiError)))]
pub(super) async fn activity(State(s): State<ApiState>, Q(p): Q<ActivityQuery>) -> Response {
    let result = async {
        let since = param(&p.since_ms, "sinceMs", "Unix milliseconds")?
            .unwrap_or_else(|| crate::now_ms() - DAY_MS);
        read(s.readers, move |conn, _| views::activity_since(conn, since)).await
    }
    .await;
    reply(result)
}

/// Whether the receivers take data, and how many requests a pause has turned away since the
/// engine started.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestState {
    pub paused: bool,
    pub refused: u64,
}

fn ingest_state_of(control: &Control) -> IngestState {
    IngestState {
        paused: control.paused(),
        refused: control.refused(),
    }
}

/// Whether the receivers take data.
#[utoipa::path(get, path = "/api/v1/ingest", tag = "engine",
    responses((status = 200, body = IngestState)))]
pub(super) async fn ingest_state(State(s): State<ApiState>) -> Response {
    reply(Ok(ingest_state_of(&s.control)))
}

/// The ingest switch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestRequest {
    paused: bool,
}

/// Pauses or resumes ingest (the tray's switch): paused receivers answer 503 with
/// `Retry-After`, so clients keep their data and retry.
#[utoipa::path(put, path = "/api/v1/ingest", tag = "engine", request_body = IngestRequest,
    responses((status = 200, body = IngestState), (status = 400, body = ApiError)))]
pub(super) async fn set_ingest(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = json_body::<IngestRequest>(&body, "{\"paused\": true|false}").map(|b| {
        if s.control.set_paused(b.paused) {
            tracing::info!(paused = b.paused, "ingest switched from the API");
        }
        ingest_state_of(&s.control)
    });
    reply(result)
}

/// Whether the demo storefront runs, and where.
#[utoipa::path(get, path = "/api/v1/demo", tag = "engine",
    responses((status = 200, body = DemoView)))]
pub(super) async fn demo_state(State(s): State<ApiState>) -> Response {
    reply(Ok::<_, ServerError>(s.demo.view().await))
}

/// Starts the demo storefront (`sightline demo`'s shop and its four services, exporting
/// here), on a free port when its own is taken; a running demo is left as it is.
#[utoipa::path(post, path = "/api/v1/demo", tag = "engine",
    responses((status = 200, body = DemoView), (status = 500, body = ApiError)))]
pub(super) async fn start_demo(State(s): State<ApiState>) -> Response {
    reply(s.demo.start(true).await)
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "engine",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub(super) async fn openapi() -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        super::doc::document_json(),
    )
        .into_response()
}
