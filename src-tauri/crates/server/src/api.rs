//! The query API on the UI address, under `/api/v1`. Same-origin only: no CORS headers, so
//! pages on other origins cannot read what Sightline has stored.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sightline_store::{queries, Connection, Readers};

use crate::error::ServerError;

pub fn router(readers: Readers) -> Router {
    Router::new()
        .route("/api/v1/traces/{trace_id}", get(trace))
        .route("/api/v1/stats", get(stats))
        .fallback(not_found)
        .with_state(readers)
}

/// Runs a read on a blocking thread with a pooled read-only connection.
async fn read<T: Send + 'static>(
    readers: Readers,
    f: impl FnOnce(&Connection, &Readers) -> sightline_store::Result<T> + Send + 'static,
) -> Result<T, ServerError> {
    let r = readers.clone();
    tokio::task::spawn_blocking(move || r.with_conn(|conn| f(conn, &readers)))
        .await
        .map_err(|e| ServerError::Internal(format!("query task failed: {e}")))?
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

async fn trace(State(readers): State<Readers>, Path(trace_id): Path<String>) -> Response {
    let result = async {
        let id = parse_trace_id(&trace_id)?;
        read(readers, move |conn, _| queries::trace_view(conn, &id))
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("no trace {trace_id} is stored")))
    }
    .await;
    match result {
        Ok(view) => Json(view).into_response(),
        Err(e) => e.to_api(),
    }
}

async fn stats(State(readers): State<Readers>) -> Response {
    match read(readers, |conn, r| queries::stats(conn, r.path())).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => e.to_api(),
    }
}

async fn not_found() -> Response {
    ServerError::NotFound("no such API route".into()).to_api()
}
