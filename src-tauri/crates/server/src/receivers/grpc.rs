//! OTLP/gRPC: the Trace, Logs and Metrics `Export` services on the gRPC address.
//!
//! [`AdmitLayer`] receives a call's message first (against the pipeline's receiving budget and
//! body deadline), then admits it, exactly as for HTTP: a client trickling a message holds no
//! slot, and calls waiting to be written hold one, so memory stays bounded.
//!
//! tonic decodes and inflates (gzip, deflate) within the same limit as HTTP; its inflation stops
//! at the limit (RESOURCE_EXHAUSTED). It reports an over-long *uncompressed* message as
//! OUT_OF_RANGE and an undecodable one as INTERNAL, which [`remap_status`] turns into
//! RESOURCE_EXHAUSTED and INVALID_ARGUMENT as OTLP specifies (INTERNAL would tell a client its
//! bad data is our fault, and some retry it).

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::receivers::pipeline::Pipeline;

#[derive(Clone)]
pub struct Receiver {
    pipeline: Arc<Pipeline>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.pipeline
            .traces(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|e| e.to_grpc())
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.pipeline
            .logs(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|e| e.to_grpc())
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.pipeline
            .metrics(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|e| e.to_grpc())
    }
}

/// The three services, with the receive limit raised to the HTTP body limit (tonic's default is
/// 4 MiB) and compressed requests accepted.
pub fn services(
    pipeline: Arc<Pipeline>,
) -> (
    TraceServiceServer<Receiver>,
    LogsServiceServer<Receiver>,
    MetricsServiceServer<Receiver>,
) {
    let limit = pipeline.limits().max_body_bytes;
    let rx = Receiver { pipeline };
    (
        TraceServiceServer::new(rx.clone())
            .max_decoding_message_size(limit)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Deflate),
        LogsServiceServer::new(rx.clone())
            .max_decoding_message_size(limit)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Deflate),
        MetricsServiceServer::new(rx)
            .max_decoding_message_size(limit)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Deflate),
    )
}

/// tonic's own answer to a message it could not decode: INTERNAL with this message
/// (percent-encoded in `grpc-message`).
const DECODE_FAILURE: &[u8] = b"failed%20to%20decode";

/// OUT_OF_RANGE (11) → RESOURCE_EXHAUSTED (8): our handlers never answer OUT_OF_RANGE, so on
/// these services it only ever means tonic's "message length too large". INTERNAL (13) with
/// tonic's decode failure → INVALID_ARGUMENT (3): the data was bad, not the server.
pub fn remap_status<B>(mut resp: http::Response<B>) -> http::Response<B> {
    let status = resp.headers().get("grpc-status").map(|v| v.as_bytes());
    let decode_failure = resp
        .headers()
        .get("grpc-message")
        .is_some_and(|m| m.as_bytes().starts_with(DECODE_FAILURE));
    let remapped = match status {
        Some(b"11") => Some("8"),
        Some(b"13") if decode_failure => Some("3"),
        _ => None,
    };
    if let Some(code) = remapped {
        resp.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static(code));
    }
    resp
}

/// gRPC frames a message with a 5-byte prefix (compressed flag, length).
const GRPC_FRAME_PREFIX: usize = 5;

/// Receives each gRPC call's message, then admits it through the shared [`Pipeline`] limit,
/// before it reaches tonic; a call whose message is too slow, too large or finds no room is
/// answered at once (DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE with RetryInfo).
#[derive(Clone)]
pub struct AdmitLayer {
    pipeline: Arc<Pipeline>,
}

impl AdmitLayer {
    pub fn new(pipeline: Arc<Pipeline>) -> Self {
        Self { pipeline }
    }
}

impl<S> tower::Layer<S> for AdmitLayer {
    type Service = Admit<S>;
    fn layer(&self, inner: S) -> Admit<S> {
        Admit {
            inner,
            pipeline: self.pipeline.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Admit<S> {
    inner: S,
    pipeline: Arc<Pipeline>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ResBody> tower::Service<http::Request<tonic::body::Body>> for Admit<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        // The clone that was polled ready is the one to call; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let pipeline = self.pipeline.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let limit = pipeline.limits().max_body_bytes + GRPC_FRAME_PREFIX;
            let received = match pipeline.receive(body, limit).await {
                Ok(received) => received,
                Err(refused) => return Ok(refused.to_grpc().into_http()),
            };
            let permit = match pipeline.admit().await {
                Ok(permit) => permit,
                Err(refused) => return Ok(refused.to_grpc().into_http()),
            };
            let body = tonic::body::Body::new(http_body_util::Full::new(received.bytes.clone()));
            let response = inner.call(http::Request::from_parts(parts, body)).await;
            drop((permit, received));
            response
        })
    }
}
