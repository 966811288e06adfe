//! OTLP/HTTP: `POST /v1/{traces,logs,metrics}` on the ingest address.
//!
//! Every answer, errors included, is in the request's format (`google.rpc.Status` for errors);
//! when the format itself is unknown the error is JSON, the one a person can read. Ingest routes
//! answer CORS preflights for browser SDKs; nothing else on this port exists.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::{header, HeaderValue, Method, StatusCode};
use prost::Message;
use serde::{de::DeserializeOwned, Serialize};
use sightline_ingest::{inflate, otlp, Encoding, Format};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use crate::error::{otlp_status_response, RpcStatus, ServerError};
use crate::incidents::Incidents;
use crate::receivers::pipeline::Pipeline;
use crate::receivers::replay::{incident_mode, ops_incident_mode, recorder_script, replay};
use axum::extract::FromRef;

/// How long a browser may cache a preflight answer. Chromium caps it at 2 hours.
const CORS_MAX_AGE: Duration = Duration::from_secs(7200);

/// What the ingest routes share: the pipeline, and the incident windows the recorder and
/// backends ask about.
#[derive(Clone)]
pub struct IngestState {
    pub(super) pipeline: Arc<Pipeline>,
    pub(super) incidents: Arc<Incidents>,
}

impl FromRef<IngestState> for Arc<Pipeline> {
    fn from_ref(s: &IngestState) -> Arc<Pipeline> {
        s.pipeline.clone()
    }
}

impl FromRef<IngestState> for Arc<Incidents> {
    fn from_ref(s: &IngestState) -> Arc<Incidents> {
        s.incidents.clone()
    }
}

pub fn router(pipeline: Arc<Pipeline>, incidents: Arc<Incidents>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
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
        .route("/v1/incident-mode", axum::routing::get(incident_mode))
        .route("/ops/incident-mode", post(ops_incident_mode))
        .route("/sightline.js", axum::routing::get(recorder_script))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(cors)
        .with_state(IngestState {
            pipeline,
            incidents,
        })
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

pub(super) fn header_str(req: &Request, name: header::HeaderName) -> Option<&str> {
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
        let limit = pipeline.limits().max_body_bytes;
        let raw = pipeline.receive(req.into_body(), limit).await?;
        let _permit = pipeline.admit().await?;
        let body = inflate(raw.bytes.clone(), encoding, limit)?;
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
            "no such path {}: this port serves /v1/traces, /v1/logs, /v1/metrics, /v1/replay and /v1/incident-mode",
            req.uri().path()
        ),
    };
    otlp_status_response(StatusCode::NOT_FOUND, &body, request_format(&req), None)
}
