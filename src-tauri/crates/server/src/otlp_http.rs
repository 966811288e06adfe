//! OTLP/HTTP: `POST /v1/{traces,logs,metrics}` on the ingest address.
//!
//! Every answer, errors included, is in the request's format (`google.rpc.Status` for errors);
//! when the format itself is unknown the error is JSON, the one a person can read. Ingest routes
//! answer CORS preflights for browser SDKs; nothing else on this port exists.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use prost::Message;
use serde::{de::DeserializeOwned, Serialize};
use sightline_ingest::{inflate, otlp, replay, Encoding, Format, IngestError};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use crate::error::{otlp_status_response, RpcStatus, ServerError};
use crate::pipeline::Pipeline;

/// How long a browser may cache a preflight answer. Chromium caps it at 2 hours.
const CORS_MAX_AGE: Duration = Duration::from_secs(7200);

pub fn router(pipeline: Arc<Pipeline>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::OPTIONS])
        // Browser exporters add their own headers (auth, session ids); reflecting what the
        // preflight asks for keeps them working without a list to maintain. Credentials are
        // never allowed, so this exposes nothing.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([header::RETRY_AFTER])
        .max_age(CORS_MAX_AGE);
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/logs", post(logs))
        .route("/v1/metrics", post(metrics))
        .route("/v1/replay", post(replay))
        .route("/sightline.js", axum::routing::get(recorder_script))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(cors)
        .with_state(pipeline)
}

async fn traces(State(p): State<Arc<Pipeline>>, req: Request) -> Response {
    export(p, req, "ExportTraceServiceRequest", |p, r| async move {
        p.traces(r).await
    })
    .await
}

async fn logs(State(p): State<Arc<Pipeline>>, req: Request) -> Response {
    export(p, req, "ExportLogsServiceRequest", |p, r| async move {
        p.logs(r).await
    })
    .await
}

async fn metrics(State(p): State<Arc<Pipeline>>, req: Request) -> Response {
    export(p, req, "ExportMetricsServiceRequest", |p, r| async move {
        p.metrics(r).await
    })
    .await
}

/// How long browsers may reuse the recorder script: short, so a new Sightline build reaches
/// pages after a reload or two.
const RECORDER_MAX_AGE_SECS: u32 = 300;

/// `GET /sightline.js`: the recorder a storefront loads with one script tag.
async fn recorder_script() -> Response {
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
async fn replay(State(p): State<Arc<Pipeline>>, req: Request) -> Response {
    let result = async {
        replay::check_content_type(header_str(&req, header::CONTENT_TYPE))?;
        let encoding = Encoding::from_header(header_str(&req, header::CONTENT_ENCODING))?;
        let _permit = p.admit().await?;
        let limit = p.limits().max_body_bytes;
        let raw = read_body(req.into_body(), limit).await?;
        let body = inflate(raw, encoding, limit)?;
        if let Some(chunk) = replay::decode(&body, crate::now_ms())? {
            p.replay(chunk).await?;
        }
        Ok::<_, ServerError>(())
    }
    .await;
    match result {
        Ok(()) => axum::Json(serde_json::json!({ "ok": true })).into_response(),
        Err(e) => e.to_api(),
    }
}

fn header_str(req: &Request, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The whole exchange for one signal: negotiate, admit, read (capped), inflate (capped),
/// decode, store, answer.
async fn export<Req, Resp, F, Fut>(
    pipeline: Arc<Pipeline>,
    req: Request,
    message: &'static str,
    handle: F,
) -> Response
where
    Req: Message + DeserializeOwned + Default,
    Resp: Message + Serialize,
    F: FnOnce(Arc<Pipeline>, Req) -> Fut,
    Fut: Future<Output = Result<Resp, ServerError>>,
{
    let format = match Format::from_content_type(header_str(&req, header::CONTENT_TYPE)) {
        Ok(f) => f,
        Err(e) => return ServerError::from(e).to_otlp_http(Format::Json),
    };
    let result = async {
        let encoding = Encoding::from_header(header_str(&req, header::CONTENT_ENCODING))?;
        let _permit = pipeline.admit().await?;
        let limit = pipeline.limits().max_body_bytes;
        let raw = read_body(req.into_body(), limit).await?;
        let body = inflate(raw, encoding, limit)?;
        let decoded: Req = otlp::decode(&body, format, message)?;
        drop(body);
        handle(pipeline.clone(), decoded).await
    }
    .await;
    match result {
        Ok(resp) => {
            let mut r = (StatusCode::OK, otlp::encode(&resp, format)).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            r
        }
        Err(e) => {
            if !matches!(e, ServerError::Ingest(_) | ServerError::Body(_)) {
                tracing::warn!(error = %e, message, "OTLP/HTTP export failed");
            }
            e.to_otlp_http(format)
        }
    }
}

/// Reads at most `limit` bytes of body; the compressed body is capped like the inflated one.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ServerError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(IngestError::TooLarge { limit }.into())
        }
        Err(e) => Err(ServerError::Body(e.to_string())),
    }
}

fn request_format(req: &Request) -> Format {
    Format::from_content_type(header_str(req, header::CONTENT_TYPE)).unwrap_or(Format::Json)
}

async fn method_not_allowed(req: Request) -> Response {
    let body = RpcStatus {
        code: tonic::Code::Unimplemented as i32,
        message: format!(
            "{} is not allowed here: OTLP/HTTP accepts POST",
            req.method()
        ),
    };
    let mut resp = otlp_status_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &body,
        request_format(&req),
        None,
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    resp
}

async fn not_found(req: Request) -> Response {
    let body = RpcStatus {
        code: tonic::Code::NotFound as i32,
        message: format!(
            "no such path {}: this port serves /v1/traces, /v1/logs, /v1/metrics and /v1/replay",
            req.uri().path()
        ),
    };
    otlp_status_response(StatusCode::NOT_FOUND, &body, request_format(&req), None)
}
