//! Sessions: the list with its filters and facets, one session, its replay, timeline, events,
//! bug report, and pinning.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sightline_store::views;
use utoipa::{IntoParams, ToSchema};

use super::params::{
    decode_cursor, encode_cursor, incident_param, json_body, page_size, param, read, reply, text,
    PageQuery, RangeQuery, Q,
};
use super::{ApiError, ApiState};
use crate::error::ServerError;

/// Filters of the session list; each may be left out.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// A user id or email, exactly.
    user: Option<String>,
    /// Sessions that visited a page whose URL contains this.
    url: Option<String>,
    /// Sessions with (or without) errors: a page error, a failed request or a failing trace.
    #[param(value_type = Option<bool>)]
    has_error: Option<String>,
    /// Frustration score at least this.
    #[param(value_type = Option<f64>)]
    min_frustration: Option<String>,
    /// Sessions with (or without) linked backend traces.
    #[param(value_type = Option<bool>)]
    has_backend_traces: Option<String>,
    /// Free text over user, email, session id and pages.
    q: Option<String>,
    /// Whether the first page carries the facets (default true).
    #[param(value_type = Option<bool>)]
    facets: Option<String>,
    /// An incident window's id, or `any`: sessions with something captured in it.
    incident: Option<String>,
}

/// A page of sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub sessions: Vec<views::SessionListItem>,
    /// For the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// On the first page (unless `facets=false`): what the whole filtered set has in common.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<views::SessionFacets>,
}

/// Sessions, newest first, filtered, a page at a time.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(SessionQuery, RangeQuery, PageQuery),
    responses((status = 200, body = SessionList), (status = 400, body = ApiError)))]
pub(super) async fn sessions(
    State(s): State<ApiState>,
    Q(p): Q<SessionQuery>,
    Q(range): Q<RangeQuery>,
    Q(page): Q<PageQuery>,
) -> Response {
    let result = async {
        let filter = views::SessionFilter {
            user: text(&p.user),
            url: text(&p.url),
            has_error: param(&p.has_error, "hasError", "true or false")?,
            min_frustration: param(&p.min_frustration, "minFrustration", "a number")?,
            has_backend_traces: param(&p.has_backend_traces, "hasBackendTraces", "true or false")?,
            from_ms: param(&range.from_ms, "fromMs", "Unix milliseconds")?,
            to_ms: param(&range.to_ms, "toMs", "Unix milliseconds")?,
            text: text(&p.q),
            incident: incident_param(&p.incident),
        };
        let limit = page_size(&page.limit)?;
        let cursor = page.cursor.as_deref().map(decode_cursor).transpose()?;
        // Facets describe the whole filtered set, so the first page carries them and later
        // pages (same filters) do not repeat the work.
        let want_facets = cursor.is_none()
            && param::<bool>(&p.facets, "facets", "true or false")?.unwrap_or(true);
        let (sessions, next, facets) = read(s.readers, move |conn, _| {
            let (page, next) = views::list_sessions(conn, &filter, cursor, limit)?;
            let facets = if want_facets {
                Some(views::session_facets(conn, &filter)?)
            } else {
                None
            };
            Ok((page, next, facets))
        })
        .await?;
        Ok::<_, ServerError>(SessionList {
            sessions,
            next_cursor: next.map(encode_cursor),
            facets,
        })
    }
    .await;
    reply(result)
}

fn no_session(id: &str) -> ServerError {
    ServerError::NotFound(format!("no session {id} is stored"))
}

/// One session: its summary, pages and frustration signals.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}", tag = "sessions",
    params(("session_id" = String, Path)),
    responses((status = 200, body = views::SessionDetail), (status = 404, body = ApiError)))]
pub(super) async fn session(State(s): State<ApiState>, Path(session_id): Path<String>) -> Response {
    let lookup = session_id.clone();
    let result = read(s.readers, move |conn, _| views::session_view(conn, &lookup))
        .await
        .and_then(|v| v.ok_or_else(|| no_session(&session_id)));
    reply(result)
}

/// The rrweb events a player needs for a range, starting at the nearest full snapshot (so
/// seeking decodes little). Without a range, the whole session.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/replay", tag = "sessions",
    params(("session_id" = String, Path), RangeQuery),
    responses((status = 200, body = views::ReplayWindow), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn session_replay(
    State(s): State<ApiState>,
    Path(session_id): Path<String>,
    Q(range): Q<RangeQuery>,
) -> Response {
    let result = async {
        let (from, to) = range.parse()?;
        let (from, to) = (from.unwrap_or(0), to.unwrap_or(i64::MAX));
        if to < from {
            return Err(ServerError::BadRequest("toMs is before fromMs".into()));
        }
        let lookup = session_id.clone();
        read(s.readers, move |conn, _| {
            if !views::session_exists(conn, &lookup)? {
                return Ok(None);
            }
            views::replay_window(conn, &lookup, from, to).map(Some)
        })
        .await?
        .ok_or_else(|| no_session(&session_id))
    }
    .await;
    reply(result)
}

/// Everything that happened in the session, in order, with offsets from its start.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/timeline", tag = "sessions",
    params(("session_id" = String, Path)),
    responses((status = 200, body = views::Timeline), (status = 404, body = ApiError)))]
pub(super) async fn session_timeline(
    State(s): State<ApiState>,
    Path(session_id): Path<String>,
) -> Response {
    let lookup = session_id.clone();
    let result = read(s.readers, move |conn, _| {
        views::session_timeline(conn, &lookup)
    })
    .await
    .and_then(|t| t.ok_or_else(|| no_session(&session_id)));
    reply(result)
}

/// One recorded event with everything captured for it (a request's headers and bodies
/// recorded in an incident window).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/events/{event_id}", tag = "sessions",
    params(("session_id" = String, Path), ("event_id" = i64, Path)),
    responses((status = 200, body = views::SessionEvent), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn session_event(
    State(s): State<ApiState>,
    Path((session_id, event)): Path<(String, String)>,
) -> Response {
    let Ok(event_id) = event.parse::<i64>() else {
        return ServerError::BadRequest(format!("event id must be an integer, not {event:?}"))
            .to_api();
    };
    let lookup = session_id.clone();
    let result = read(s.readers, move |conn, _| {
        views::session_event(conn, &lookup, event_id)
    })
    .await
    .and_then(|e| {
        e.ok_or_else(|| {
            ServerError::NotFound(format!("session {session_id} has no event {event_id}"))
        })
    });
    reply(result)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `json` (the default) or `markdown`.
    format: Option<String>,
}

/// The session as a bug report (environment, steps to reproduce, failing requests with their
/// failing span, error logs, a link back), as JSON or as Markdown to paste into a ticket.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/report", tag = "sessions",
    params(("session_id" = String, Path), ReportQuery),
    responses((status = 200, content(
            (sightline_store::report::Report = "application/json"),
            (String = "text/markdown"))),
        (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn session_report(
    State(s): State<ApiState>,
    Path(session_id): Path<String>,
    Q(p): Q<ReportQuery>,
) -> Response {
    let markdown = match p.format.as_deref() {
        None | Some("json") => false,
        Some("markdown") | Some("md") => true,
        Some(other) => {
            return ServerError::BadRequest(format!("format={other:?} must be json or markdown"))
                .to_api()
        }
    };
    let lookup = session_id.clone();
    let report = read(s.readers, move |conn, _| {
        sightline_store::report::session_report(conn, &lookup)
    })
    .await
    .and_then(|r| r.ok_or_else(|| no_session(&session_id)));
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

/// A pin's note (optional; the body may be empty).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// One line, at most 2000 characters.
    #[serde(default)]
    note: Option<String>,
}

/// Whether a session is pinned now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PinAnswer {
    pub session_id: String,
    pub pinned: bool,
}

/// Pins a session: kept whatever the retention policy, until unpinned.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/pin", tag = "sessions",
    params(("session_id" = String, Path)), request_body(content = Option<PinRequest>),
    responses((status = 200, body = PinAnswer), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn pin_session(
    State(s): State<ApiState>,
    Path(session_id): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let pin: PinRequest = if body.is_empty() {
            PinRequest::default()
        } else {
            json_body(&body, "{\"note\": \"…\"} or nothing")?
        };
        let note = pin.note.unwrap_or_default();
        if note.chars().count() > 2_000 || note.contains('\n') {
            return Err(ServerError::BadRequest(
                "a pin's note is one line, at most 2000 characters".into(),
            ));
        }
        set_pin(&s, &session_id, Some(note)).await
    }
    .await;
    reply(result)
}

/// Unpins a session: the retention policy applies again.
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}/pin", tag = "sessions",
    params(("session_id" = String, Path)),
    responses((status = 200, body = PinAnswer), (status = 404, body = ApiError)))]
pub(super) async fn unpin_session(
    State(s): State<ApiState>,
    Path(session_id): Path<String>,
) -> Response {
    reply(set_pin(&s, &session_id, None).await)
}

async fn set_pin(s: &ApiState, id: &str, pin: Option<String>) -> Result<PinAnswer, ServerError> {
    let lookup = id.to_owned();
    let exists = read(s.readers.clone(), move |conn, _| {
        views::session_exists(conn, &lookup)
    })
    .await?;
    if !exists {
        return Err(no_session(id));
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
    Ok(PinAnswer {
        session_id: id.to_owned(),
        pinned,
    })
}
