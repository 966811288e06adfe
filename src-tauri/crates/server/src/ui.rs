//! The UI's files on the UI address: `/` and any path that is not a file is `index.html` (the
//! UI routes by URL fragment), `/assets/…` are the bundle's hashed files.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::embedded::UI_FILES;

/// Hashed asset names change with their content, so browsers may keep them.
const ASSET_MAX_AGE_SECS: u32 = 365 * 24 * 3600;

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

pub(crate) fn serve(path: &str) -> Response {
    let wanted = path.trim_start_matches('/');
    if let Some((name, bytes)) = UI_FILES.iter().find(|(name, _)| *name == wanted) {
        let cache = if name.starts_with("assets/") {
            format!("public, max-age={ASSET_MAX_AGE_SECS}, immutable")
        } else {
            "no-cache".to_owned()
        };
        return (
            [
                (header::CONTENT_TYPE, content_type(name).to_owned()),
                (header::CACHE_CONTROL, cache),
            ],
            *bytes,
        )
            .into_response();
    }
    if wanted.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    match UI_FILES.iter().find(|(name, _)| *name == "index.html") {
        Some((_, html)) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *html,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "This Sightline build has no UI. Build it with `make ui` (npm ci && npm run build in \
             ui/), then rebuild Sightline. The API is at /api/v1/.",
        )
            .into_response(),
    }
}
