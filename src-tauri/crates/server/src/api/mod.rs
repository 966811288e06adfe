//! The query API on the UI address, under `/api/v1`: one module per resource, each handler
//! annotated with the shape of its answers, so the router and the OpenAPI document
//! ([`doc`]) are built from the same list and cannot drift.
//!
//! Same-origin only: no CORS headers, so pages on other origins cannot read what Sightline has
//! stored; and only requests addressed to a loopback host name are answered, so a hostile page
//! cannot reach it through DNS rebinding either. With a token (required when the address is not
//! loopback), every request must carry the token instead ([`guard`]).

use std::sync::Arc;

use axum::middleware;
use axum::response::Response;
use axum::Router;
use sightline_store::{Change, Readers};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Limits;
use crate::control::Control;
use crate::error::ServerError;
use crate::incidents::Incidents;
use crate::settings::SettingsStore;

pub use crate::error::ApiError;

pub mod doc;
mod engine;
mod guard;
mod incidents;
mod logs;
mod metrics;
mod params;
mod sessions;
mod settings;
mod share;
mod sql;
mod stream;
mod traces;

/// What every handler reads from.
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

/// Every route of the API, each with its OpenAPI operation.
fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(doc::base())
        .routes(routes!(engine::status))
        .routes(routes!(engine::stats))
        .routes(routes!(engine::activity))
        .routes(routes!(engine::ingest_state, engine::set_ingest))
        .routes(routes!(engine::demo_state, engine::start_demo))
        .routes(routes!(engine::openapi))
        .routes(routes!(stream::live))
        .routes(routes!(settings::get_settings, settings::patch_settings))
        .routes(routes!(
            incidents::list_incidents,
            incidents::start_incident
        ))
        .routes(routes!(incidents::get_incident))
        .routes(routes!(incidents::extend_incident))
        .routes(routes!(incidents::stop_incident))
        .routes(routes!(incidents::incident_requests))
        .routes(routes!(sql::run_sql))
        .routes(routes!(share::export_bundle))
        .routes(routes!(share::import_bundle))
        .routes(routes!(sessions::sessions))
        .routes(routes!(sessions::session))
        .routes(routes!(sessions::session_replay))
        .routes(routes!(sessions::session_timeline))
        .routes(routes!(sessions::session_event))
        .routes(routes!(sessions::session_report))
        .routes(routes!(sessions::pin_session, sessions::unpin_session))
        .routes(routes!(traces::traces))
        .routes(routes!(traces::trace))
        .routes(routes!(traces::trace_outline))
        .routes(routes!(traces::span))
        .routes(routes!(traces::services))
        .routes(routes!(traces::service_map))
        .routes(routes!(traces::diagnostics))
        .routes(routes!(logs::logs))
        .routes(routes!(logs::log))
        .routes(routes!(metrics::instruments))
        .routes(routes!(metrics::chart))
        .routes(routes!(metrics::http_servers))
}

/// The OpenAPI document of every route, as [`routes`] builds it (paths and schemas are kept
/// in name order, so the text is the same from build to build).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
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
    let ui = endpoints.ui;
    let (router, _) = routes().split_for_parts();
    let api = router.fallback(not_found).with_state(ApiState {
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
    });
    // MCP over Streamable HTTP, behind the same guard: its tools call the API routes above in
    // process, as a request the guard has already admitted.
    let mcp = crate::mcp::http_service(crate::mcp::Engine::local(api.clone(), ui));
    api.route_service("/mcp", mcp)
        .layer(middleware::from_fn_with_state(
            guard::Access {
                token: token.map(Arc::from),
            },
            guard::guard,
        ))
}

/// Anything that is not an API route is the UI (its files, or its page for a deep link).
async fn not_found(uri: http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ServerError::NotFound("no such API route".into()).to_api();
    }
    crate::ui::serve(uri.path())
}
