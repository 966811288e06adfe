//! OTLP/gRPC: the Trace, Logs and Metrics `Export` services on the gRPC address.
//!
//! tonic decodes and inflates (gzip, deflate) within the same limit as HTTP; its inflation stops
//! at the limit (RESOURCE_EXHAUSTED). It reports an over-long *uncompressed* message as
//! OUT_OF_RANGE, which [`remap_too_large`] turns into RESOURCE_EXHAUSTED as OTLP specifies.

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
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::pipeline::Pipeline;

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
        let _permit = self.pipeline.admit().await.map_err(|e| e.to_grpc())?;
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
        let _permit = self.pipeline.admit().await.map_err(|e| e.to_grpc())?;
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
        let _permit = self.pipeline.admit().await.map_err(|e| e.to_grpc())?;
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

/// OUT_OF_RANGE (11) → RESOURCE_EXHAUSTED (8). Our handlers never answer OUT_OF_RANGE, so on
/// these services it only ever means tonic's "message length too large".
pub fn remap_too_large<B>(mut resp: http::Response<B>) -> http::Response<B> {
    if resp.headers().get("grpc-status").map(|v| v.as_bytes()) == Some(b"11") {
        resp.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    resp
}
