//! Incident windows: list, start, extend, stop, and the browser requests a window caught.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sightline_store::incident::Incident;
use sightline_store::views;
use utoipa::ToSchema;

use super::params::{json_body, read, reply};
use super::{ApiError, ApiState};
use crate::error::ServerError;
use crate::incidents::StartRequest;

/// An incident window, and whether it captures now.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentAnswer {
    #[serde(flatten)]
    pub incident: Incident,
    pub active: bool,
}

fn answer(incident: Incident) -> IncidentAnswer {
    let active = incident.active_at(crate::now_ms());
    IncidentAnswer { incident, active }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentAnswer>,
}

/// Incident windows, newest first (the last 500), each with `active`.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    responses((status = 200, body = IncidentList)))]
pub(super) async fn list_incidents(State(s): State<ApiState>) -> Response {
    let result = s.incidents.history().await.map(|all| IncidentList {
        incidents: all.into_iter().map(answer).collect(),
    });
    reply(result)
}

/// Starts a window: `minutes` (1-1440) or `seconds` (5-86400); `user`, `session` or `url` to
/// narrow it (none: everyone); a `label` and `ticketUrl`.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = StartRequest,
    responses((status = 201, body = IncidentAnswer), (status = 400, body = ApiError)))]
pub(super) async fn start_incident(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = async {
        let req: StartRequest = json_body(&body, "a window: {\"minutes\": 15, …}")?;
        let started = s.incidents.start(req, crate::now_ms()).await?;
        Ok::<_, ServerError>(answer(started))
    }
    .await;
    match result {
        Ok(v) => (http::StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => e.to_api(),
    }
}

/// One window.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path)),
    responses((status = 200, body = IncidentAnswer), (status = 404, body = ApiError)))]
pub(super) async fn get_incident(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    reply(s.incidents.get(&id).await.map(answer))
}

/// How much later a window ends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    minutes: i64,
}

/// Moves the end `minutes` later (an ended window cannot be extended).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/extend", tag = "incidents",
    params(("id" = String, Path)), request_body = ExtendRequest,
    responses((status = 200, body = IncidentAnswer), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn extend_incident(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let req: ExtendRequest = json_body(&body, "{\"minutes\": N}")?;
        let window = s
            .incidents
            .extend(&id, req.minutes, crate::now_ms())
            .await?;
        Ok(answer(window))
    }
    .await;
    reply(result)
}

/// Ends capture now.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/stop", tag = "incidents",
    params(("id" = String, Path)),
    responses((status = 200, body = IncidentAnswer), (status = 404, body = ApiError)))]
pub(super) async fn stop_incident(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    reply(s.incidents.stop(&id, crate::now_ms()).await.map(answer))
}

/// Requests listed per incident: an incident page shows them in one table, failing first.
const MAX_INCIDENT_REQUESTS: usize = 1000;

/// What a window caught: its browser requests in time order.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentRequests {
    pub requests: Vec<views::IncidentRequest>,
    /// More than 1000: the rest were left out.
    pub truncated: bool,
}

/// The browser requests recorded in the window (at most 1000, in time order).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/requests", tag = "incidents",
    params(("id" = String, Path)),
    responses((status = 200, body = IncidentRequests), (status = 404, body = ApiError)))]
pub(super) async fn incident_requests(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        // Unknown ids are a 404, not an empty list.
        s.incidents.get(&id).await?;
        let (requests, truncated) = read(s.readers, move |conn, _| {
            views::incident_requests(conn, &id, MAX_INCIDENT_REQUESTS)
        })
        .await?;
        Ok::<_, ServerError>(IncidentRequests {
            requests,
            truncated,
        })
    }
    .await;
    reply(result)
}
