//! Sharing: a selection out as a `.sightline` bundle, and a bundle in.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::params::reply;
use super::{ApiError, ApiState};
use crate::error::ServerError;
use crate::share::Imported;

/// What to export: sessions, an incident window, or a time range (Unix ms).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query, which is read as repeated pairs
pub struct ExportQuery {
    /// A session id; repeat for more.
    session: Option<Vec<String>>,
    incident: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

/// A selection as a `.sightline` bundle (a SQLite file; see the README): sessions by id
/// (repeat `session`), an incident window's capture, or a time range.
#[utoipa::path(get, path = "/api/v1/export", tag = "share", params(ExportQuery),
    responses(
        (status = 200, description = "The bundle, as a download",
            content_type = "application/vnd.sightline.bundle+sqlite3", body = Vec<u8>,
            headers(("x-sightline-counts" = String,
                description = "What the bundle holds, as JSON `Counts`"))),
        (status = 400, body = ApiError), (status = 422, body = ApiError)))]
pub(super) async fn export_bundle(
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
                    serde_json::to_string(&counts).unwrap_or_default(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => e.to_api(),
    }
}

/// Imports a `.sightline` bundle (the body; `X-File-Name` names it for the user): stored
/// once, all or nothing; `imported: false` when it was imported before.
#[utoipa::path(post, path = "/api/v1/import", tag = "share",
    request_body(content = Vec<u8>, content_type = "application/vnd.sightline.bundle+sqlite3"),
    params(("x-file-name" = Option<String>, Header, description = "The file's name, for the user")),
    responses((status = 200, body = Imported), (status = 400, body = ApiError),
        (status = 422, body = ApiError)))]
pub(super) async fn import_bundle(
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
    reply(result)
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
