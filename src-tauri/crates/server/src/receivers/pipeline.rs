//! What both OTLP receivers share: admission, normalization, the write, and the response.
//!
//! A request's body is received first, against a byte budget shared by every connection and
//! a deadline, so a client trickling its body holds only the bytes it sent, never a slot.
//! Admission then is one semaphore for gRPC and HTTP together, so neither protocol can starve
//! the other, and a client that cannot be admitted in time is told to retry instead of queueing
//! without bound.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use sightline_ingest::{normalize, IngestError, Normalized};
use sightline_store::Writer;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Limits;
use crate::control::{Control, PAUSED_RETRY_AFTER};
use crate::error::{Result, ServerError};
use crate::incidents::Incidents;

/// A body received whole, holding its share of the receiving budget until dropped.
pub struct Received {
    pub bytes: Bytes,
    _lease: Option<OwnedSemaphorePermit>,
}

pub struct Pipeline {
    writer: Writer,
    slots: Arc<Semaphore>,
    /// Bytes of bodies being received, one permit a byte.
    receiving: Arc<Semaphore>,
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
            receiving: Arc::new(Semaphore::new(limits.max_receiving_bytes)),
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

    /// Reads a request's whole body: at most `limit` bytes, within the body deadline, each
    /// frame taken from the receiving budget as it arrives (a client waits at most the
    /// admission wait for room, then is told to retry). The body's share of the budget is held
    /// by the answer until it is dropped, after decoding.
    pub async fn receive<B>(&self, body: B, limit: usize) -> Result<Received>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::fmt::Display,
    {
        let deadline = tokio::time::Instant::now() + self.limits.body_timeout;
        let slow = ServerError::SlowBody {
            limit: self.limits.body_timeout,
        };
        let mut body = std::pin::pin!(body);
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut len = 0usize;
        let mut lease: Option<OwnedSemaphorePermit> = None;
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.as_mut().frame()).await {
                Err(_) => return Err(slow),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(ServerError::Body(e.to_string())),
                Ok(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing an export needs.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if len + data.len() > limit {
                return Err(IngestError::TooLarge { limit }.into());
            }
            if data.is_empty() {
                continue;
            }
            let wait = deadline.min(tokio::time::Instant::now() + self.limits.admission_wait);
            let n = u32::try_from(data.len()).map_err(|_| IngestError::TooLarge { limit })?;
            let permit =
                match tokio::time::timeout_at(wait, self.receiving.clone().acquire_many_owned(n))
                    .await
                {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) | Err(_) => {
                        return Err(ServerError::Overloaded {
                            retry_after: self.limits.retry_after,
                        })
                    }
                };
            match &mut lease {
                Some(held) => held.merge(permit),
                None => lease = Some(permit),
            }
            len += data.len();
            chunks.push(data);
        }
        // Most bodies arrive in one frame: that one is the body, without a copy.
        let bytes = if chunks.len() == 1 {
            chunks.swap_remove(0)
        } else {
            let mut whole = BytesMut::with_capacity(len);
            for c in &chunks {
                whole.extend_from_slice(c);
            }
            whole.freeze()
        };
        Ok(Received {
            bytes,
            _lease: lease,
        })
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
