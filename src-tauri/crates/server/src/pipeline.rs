//! What both OTLP receivers share: admission, normalization, the write, and the response.
//!
//! Admission is one semaphore for gRPC and HTTP together, so neither protocol can starve the
//! other, and a client that cannot be admitted in time is told to retry instead of queueing
//! without bound.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use sightline_ingest::{normalize, Normalized};
use sightline_store::Writer;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Limits;
use crate::control::{Control, PAUSED_RETRY_AFTER};
use crate::error::{Result, ServerError};
use crate::incidents::Incidents;

pub struct Pipeline {
    writer: Writer,
    slots: Arc<Semaphore>,
    limits: Limits,
    control: Arc<Control>,
    incidents: Arc<Incidents>,
}

impl Pipeline {
    pub fn new(
        writer: Writer,
        limits: Limits,
        control: Arc<Control>,
        incidents: Arc<Incidents>,
    ) -> Self {
        Self {
            writer,
            slots: Arc::new(Semaphore::new(limits.max_inflight_requests)),
            limits,
            control,
            incidents,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Waits (bounded) for a slot; the permit is held until the response is ready. Refused at
    /// once while ingest is paused: nothing is read, so a paused engine costs clients little.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit> {
        if self.control.paused() {
            self.control.refuse();
            return Err(ServerError::Paused {
                retry_after: PAUSED_RETRY_AFTER,
            });
        }
        let overloaded = ServerError::Overloaded {
            retry_after: self.limits.retry_after,
        };
        match tokio::time::timeout(
            self.limits.admission_wait,
            self.slots.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(overloaded),
        }
    }

    async fn store(&self, normalized: Normalized) -> Result<Normalized> {
        let Normalized {
            mut batch,
            rejected,
            first_rejection,
        } = normalized;
        self.incidents.tag(&mut batch, crate::now_ms()).await?;
        if !batch.is_empty() {
            self.writer.write(batch).await?;
        }
        Ok(Normalized {
            batch: Default::default(),
            rejected,
            first_rejection,
        })
    }

    pub async fn traces(
        &self,
        req: ExportTraceServiceRequest,
    ) -> Result<ExportTraceServiceResponse> {
        let done = self.store(normalize::traces(&req)).await?;
        Ok(ExportTraceServiceResponse {
            partial_success: (done.rejected > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: done.rejected,
                error_message: done.rejection_message("spans"),
            }),
        })
    }

    pub async fn logs(&self, req: ExportLogsServiceRequest) -> Result<ExportLogsServiceResponse> {
        let done = self.store(normalize::logs(&req, crate::now_ms())).await?;
        Ok(ExportLogsServiceResponse {
            partial_success: (done.rejected > 0).then(|| ExportLogsPartialSuccess {
                rejected_log_records: done.rejected,
                error_message: done.rejection_message("log records"),
            }),
        })
    }

    /// Stores one recorder batch (idempotent on its session and batch number).
    pub async fn replay(&self, chunk: sightline_store::model::ReplayChunkRow) -> Result<()> {
        let batch = sightline_store::Batch {
            replay: vec![chunk],
            ..Default::default()
        };
        self.writer.write(batch).await?;
        Ok(())
    }

    pub async fn metrics(
        &self,
        req: ExportMetricsServiceRequest,
    ) -> Result<ExportMetricsServiceResponse> {
        let done = self.store(normalize::metrics(&req)).await?;
        Ok(ExportMetricsServiceResponse {
            partial_success: (done.rejected > 0).then(|| ExportMetricsPartialSuccess {
                rejected_data_points: done.rejected,
                error_message: done.rejection_message("data points"),
            }),
        })
    }
}
