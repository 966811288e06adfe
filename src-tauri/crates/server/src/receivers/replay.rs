//! The recorder's side of the HTTP port: its script (`/sightline.js`), its replay batches
//! (`/v1/replay`), and the poll that tells it of incident windows (`/v1/incident-mode`).

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use sightline_ingest::{inflate, replay, Encoding};
use sightline_store::incident::Who;

use super::http::{header_str, IngestState};
use crate::error::ServerError;
use crate::incidents::Incidents;

/// What a client says about itself when asking whether a window covers it.
fn who(
    q: &std::collections::HashMap<String, String>,
) -> (Option<&str>, Option<&str>, Option<&str>) {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    (get("user"), get("session"), get("url"))
}

/// `GET /v1/incident-mode?session=&user=&url=`: `{active, id, until, scope}` for that client
/// (everyone-scoped windows cover a client that says nothing).
pub(super) async fn incident_mode(
    State(incidents): State<Arc<Incidents>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let (user, session, url) = who(&q);
    let who = Who {
        user,
        session,
        urls: url.into_iter().collect(),
    };
    let window = incidents.covering(&who, crate::now_ms());
    axum::Json(crate::incidents::status_json(window.as_ref())).into_response()
}

/// `POST /ops/incident-mode?minutes=N`: the common backend pattern; starts a window for
/// everyone and answers `{ok, incidentModeExpiresAt}`. Browsers are refused (they send
/// `Origin`; backends do not), so a web page cannot switch verbose capture on.
pub(super) async fn ops_incident_mode(
    State(incidents): State<Arc<Incidents>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: http::HeaderMap,
) -> Response {
    let result = async {
        if headers.contains_key(header::ORIGIN) {
            return Err(ServerError::Forbidden(
                "incident mode is started by backends, the CLI or the UI, not by web pages".into(),
            ));
        }
        let minutes = match q.get("minutes") {
            Some(m) => m
                .parse()
                .map_err(|_| ServerError::BadRequest(format!("minutes={m:?} is not a number")))?,
            None => 15,
        };
        let req = crate::incidents::StartRequest {
            minutes: Some(minutes),
            seconds: None,
            user: None,
            session: None,
            url: None,
            label: q.get("label").cloned(),
            ticket_url: None,
            started_by: Some(sightline_store::incident::Origin::Api),
        };
        incidents.start(req, crate::now_ms()).await
    }
    .await;
    match result {
        Ok(w) => axum::Json(serde_json::json!({
            "ok": true,
            "id": w.id,
            "incidentModeExpiresAt": w.until_ms,
        }))
        .into_response(),
        Err(e) => e.to_api(),
    }
}

/// How long browsers may reuse the recorder script: short, so a new Sightline build reaches
/// pages after a reload or two.
const RECORDER_MAX_AGE_SECS: u32 = 300;

/// `GET /sightline.js`: the recorder a storefront loads with one script tag.
pub(super) async fn recorder_script() -> Response {
    match crate::embedded::RECORDER_JS {
        Some(js) => (
            [
                (header::CONTENT_TYPE, "application/javascript; charset=utf-8".to_owned()),
                (header::CACHE_CONTROL, format!("public, max-age={RECORDER_MAX_AGE_SECS}")),
            ],
            js,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/javascript; charset=utf-8")],
            "console.error('Sightline: this build has no recorder. Build it with `npm ci && npm run build` in ui/, then rebuild Sightline.');",
        )
            .into_response(),
    }
}

/// `POST /v1/replay`: one recorder batch. Errors are `{"error": …}` JSON, like the API's,
/// since the recorder is not an OTLP client.
pub(super) async fn replay(State(s): State<IngestState>, req: Request) -> Response {
    let p = s.pipeline;
    let result = async {
        replay::check_content_type(header_str(&req, header::CONTENT_TYPE))?;
        let encoding = Encoding::from_header(header_str(&req, header::CONTENT_ENCODING))?;
        // A replay body is parsed whole into JSON values (about ten times its size): its
        // limit is its own, below the OTLP receive limit, before and after inflation.
        let limit = p.limits().max_replay_body_bytes;
        let raw = p.receive(req.into_body(), limit).await?;
        let _permit = p.admit().await?;
        let body = inflate(raw.bytes.clone(), encoding, limit)?;
        let mut window = None;
        if let Some(mut chunk) = replay::decode(&body, crate::now_ms())? {
            let who = Who {
                user: chunk.meta.user_id.as_deref(),
                session: Some(chunk.session_id.as_str()),
                urls: chunk.meta.url.as_deref().into_iter().collect(),
            };
            window = s.incidents.covering(&who, crate::now_ms());
            if chunk.index.iter().any(|e| e.incident_id.is_some()) {
                s.incidents.check_stamps(&mut chunk).await?;
            }
            if let Some(w) = &window {
                crate::incidents::stamp_events(&mut chunk, w);
            }
            p.replay(chunk).await?;
        }
        Ok::<_, ServerError>(window)
    }
    .await;
    match result {
        // The recorder learns whether a window covers its session with every batch.
        Ok(window) => axum::Json(serde_json::json!({
            "ok": true,
            "incidentMode": crate::incidents::status_json(window.as_ref()),
        }))
        .into_response(),
        Err(e) => e.to_api(),
    }
}
