//! The server's one error type, and the one place it becomes each protocol's answer:
//! a gRPC `Status` ([`ServerError::to_grpc`]), an OTLP/HTTP `google.rpc.Status` response
//! ([`ServerError::to_otlp_http`]), or an API JSON error ([`ServerError::to_api`]).

use std::net::SocketAddr;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use sightline_ingest::{Format, IngestError};
use sightline_store::StoreError;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "cannot listen on {addr} for {what}: the port is already in use (another Sightline or an \
         OpenTelemetry Collector?). Choose another with {flag} ADDR (port 0 picks a free one)."
    )]
    PortInUse {
        what: &'static str,
        flag: &'static str,
        addr: SocketAddr,
    },
    #[error("cannot listen on {addr} for {what} ({flag}): {source}")]
    Bind {
        what: &'static str,
        flag: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("Sightline is receiving more than it can write; retry after {retry_after:?}")]
    Overloaded { retry_after: Duration },
    #[error("ingest is paused in Sightline (resume it from the tray or the UI); retry after {retry_after:?}")]
    Paused { retry_after: Duration },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the body could not be read: {0}")]
    Body(String),
    #[error("the request's body did not arrive within {limit:?}; send it whole, at once")]
    SlowBody { limit: Duration },
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0}")]
    Forbidden(String),
    /// A bounded resource is taken (say, every SQL slot): try again shortly.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error(transparent)]
    Demo(#[from] sightline_demo::DemoError),
    #[error(
        "the UI and API would listen on {addr}, which other machines can reach: pass a token with \
         --token (or SIGHTLINE_TOKEN), at least {min} characters of A-Z a-z 0-9 - _ . ~, which every API request must \
         then carry; or keep the default 127.0.0.1"
    )]
    TokenRequired { addr: SocketAddr, min: usize },
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;

/// `google.rpc.Status`, the body of every OTLP error. `details` is never sent.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

impl ServerError {
    /// Whether the client may succeed by retrying the same request later.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ServerError::Overloaded { retry_after } | ServerError::Paused { retry_after } => {
                Some(*retry_after)
            }
            ServerError::Store(e) if e.is_retryable() => Some(Duration::from_secs(1)),
            ServerError::Busy(_) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    fn grpc_code(&self) -> Code {
        match self {
            ServerError::Ingest(IngestError::TooLarge { .. }) => Code::ResourceExhausted,
            ServerError::Ingest(_) | ServerError::BadRequest(_) | ServerError::Body(_) => {
                Code::InvalidArgument
            }
            ServerError::NotFound(_) => Code::NotFound,
            ServerError::SlowBody { .. } => Code::DeadlineExceeded,
            _ if self.retry_after().is_some() => Code::Unavailable,
            _ => Code::Internal,
        }
    }

    fn http_status(&self) -> StatusCode {
        match self {
            ServerError::Ingest(IngestError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::Ingest(IngestError::UnsupportedMediaType(_))
            | ServerError::Ingest(IngestError::UnsupportedReplayMediaType(_))
            | ServerError::Ingest(IngestError::UnsupportedEncoding(_)) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ServerError::Ingest(_) | ServerError::BadRequest(_) | ServerError::Body(_) => {
                StatusCode::BAD_REQUEST
            }
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::SlowBody { .. } => StatusCode::REQUEST_TIMEOUT,
            ServerError::Store(StoreError::Sql(_) | StoreError::Interrupted) => {
                StatusCode::BAD_REQUEST
            }
            // A bundle that is not one, damaged, or from a newer Sightline: the file's fault.
            ServerError::Store(StoreError::Bundle(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::Demo(sightline_demo::DemoError::PortInUse { .. }) => StatusCode::CONFLICT,
            _ if self.retry_after().is_some() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The gRPC answer; retryable errors carry `RetryInfo` so SDKs back off by what we ask.
    pub fn to_grpc(&self) -> tonic::Status {
        let code = self.grpc_code();
        match self.retry_after() {
            Some(delay) => tonic::Status::with_error_details(
                code,
                self.to_string(),
                ErrorDetails::with_retry_info(Some(delay)),
            ),
            None => tonic::Status::new(code, self.to_string()),
        }
    }

    /// The OTLP/HTTP answer: a `google.rpc.Status` body in the request's format.
    pub fn to_otlp_http(&self, format: Format) -> Response {
        let status = self.http_status();
        let body = RpcStatus {
            code: self.grpc_code() as i32,
            message: self.to_string(),
        };
        otlp_status_response(status, &body, format, self.retry_after())
    }

    /// The query API's answer: `{"error": code, "message": what happened}` with the status
    /// that fits; `code` is stable for programs, `message` is for people.
    pub fn to_api(&self) -> Response {
        let status = self.http_status();
        if status.is_server_error() {
            tracing::error!(error = %self, "API request failed");
        }
        let code = match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            StatusCode::UNPROCESSABLE_ENTITY => "bad_bundle",
            StatusCode::CONFLICT => "conflict",
            StatusCode::REQUEST_TIMEOUT => "timeout",
            _ => "internal",
        };
        let body = ApiError {
            error: code.to_owned(),
            message: self.to_string(),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(delay) = self.retry_after() {
            set_retry_after(&mut resp, delay);
        }
        resp
    }
}

/// How the query API says no.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// Stable, for programs: `bad_request`, `not_found`, `forbidden`, `unauthorized`,
    /// `too_large`, `unavailable`, `bad_bundle`, `conflict`, `timeout`, `internal`, …
    pub error: String,
    /// For people.
    pub message: String,
}

/// A `google.rpc.Status` response for errors found before a request reaches a handler (404, 405).
pub fn otlp_status_response(
    status: StatusCode,
    body: &RpcStatus,
    format: Format,
    retry_after: Option<Duration>,
) -> Response {
    let bytes = match format {
        Format::Protobuf => prost::Message::encode_to_vec(body),
        Format::Json => serde_json::to_vec(body).unwrap_or_default(),
    };
    let mut resp = (status, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Some(delay) = retry_after {
        set_retry_after(&mut resp, delay);
    }
    resp
}

fn set_retry_after(resp: &mut Response, delay: Duration) {
    let secs = delay.as_secs().max(1);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
}
