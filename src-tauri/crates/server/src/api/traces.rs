//! Traces and services: trace search, one trace, the services and the calls between them, and
//! what did not link.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sightline_store::views;
use utoipa::{IntoParams, ToSchema};

use super::params::{
    attribute_param, decode_pair_cursor, encode_pair_cursor, incident_param, page_size, param,
    parse_trace_id, read, reply, text, PageQuery, RangeQuery, Q,
};
use super::{ApiError, ApiState};
use crate::error::ServerError;

/// Trace search filters; each may be left out.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TraceQuery {
    /// Traces with a span of this service.
    service: Option<String>,
    /// Traces with a span of this name.
    name: Option<String>,
    /// `error`, `ok` or `any` (the default).
    status: Option<String>,
    #[param(value_type = Option<f64>)]
    min_duration_ms: Option<String>,
    #[param(value_type = Option<f64>)]
    max_duration_ms: Option<String>,
    /// `key=value`: a span attribute.
    attribute: Option<String>,
    /// Traces of this session.
    session: Option<String>,
    /// An incident window's id, or `any`: traces with a span captured in it.
    incident: Option<String>,
}

/// A page of traces, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraceList {
    pub traces: Vec<views::TraceListItem>,
    pub next_cursor: Option<String>,
}

/// Trace search, newest first.
#[utoipa::path(get, path = "/api/v1/traces", tag = "traces", params(TraceQuery, RangeQuery, PageQuery),
    responses((status = 200, body = TraceList), (status = 400, body = ApiError)))]
pub(super) async fn traces(
    State(s): State<ApiState>,
    Q(p): Q<TraceQuery>,
    Q(range): Q<RangeQuery>,
    Q(page): Q<PageQuery>,
) -> Response {
    let result = async {
        let attribute = attribute_param(&p.attribute)?;
        let error = match p.status.as_deref() {
            None | Some("") | Some("any") => None,
            Some("error") => Some(true),
            Some("ok") => Some(false),
            Some(other) => {
                return Err(ServerError::BadRequest(format!(
                    "status={other:?} must be error, ok or any"
                )))
            }
        };
        let filter = views::TraceFilter {
            service: text(&p.service),
            span_name: text(&p.name),
            error,
            min_duration_ms: param(
                &p.min_duration_ms,
                "minDurationMs",
                "a number of milliseconds",
            )?,
            max_duration_ms: param(
                &p.max_duration_ms,
                "maxDurationMs",
                "a number of milliseconds",
            )?,
            attribute,
            session: text(&p.session),
            from_ms: param(&range.from_ms, "fromMs", "Unix milliseconds")?,
            to_ms: param(&range.to_ms, "toMs", "Unix milliseconds")?,
            incident: incident_param(&p.incident),
        };
        let limit = page_size(&page.limit)?;
        let cursor = page.cursor.as_deref().map(decode_pair_cursor).transpose()?;
        let (traces, next) = read(s.readers, move |conn, _| {
            views::search_traces(conn, &filter, cursor, limit)
        })
        .await?;
        Ok::<_, ServerError>(TraceList {
            traces,
            next_cursor: next.map(encode_pair_cursor),
        })
    }
    .await;
    reply(result)
}

/// One trace: its spans, each resource once, its logs, and the sessions it belongs to with
/// their replay offsets.
#[utoipa::path(get, path = "/api/v1/traces/{trace_id}", tag = "traces",
    params(("trace_id" = String, Path, description = "32 hexadecimal digits")),
    responses((status = 200, body = views::TraceView), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn trace(State(s): State<ApiState>, Path(trace_id): Path<String>) -> Response {
    let result = async {
        let id = parse_trace_id(&trace_id)?;
        read(s.readers, move |conn, _| views::trace_view(conn, &id))
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("no trace {trace_id} is stored")))
    }
    .await;
    reply(result)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<views::Service>,
}

/// Services with their span counts and error rates.
#[utoipa::path(get, path = "/api/v1/services", tag = "traces",
    responses((status = 200, body = ServiceList)))]
pub(super) async fn services(State(s): State<ApiState>) -> Response {
    reply(
        read(s.readers, |conn, _| views::services(conn))
            .await
            .map(|services| ServiceList { services }),
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ServiceMapQuery {
    /// Calls in traces since this (Unix ms); all when left out.
    #[param(value_type = Option<i64>)]
    from_ms: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceMap {
    pub edges: Vec<views::ServiceEdge>,
}

/// Calls between services.
#[utoipa::path(get, path = "/api/v1/service-map", tag = "traces", params(ServiceMapQuery),
    responses((status = 200, body = ServiceMap), (status = 400, body = ApiError)))]
pub(super) async fn service_map(State(s): State<ApiState>, Q(p): Q<ServiceMapQuery>) -> Response {
    let result = async {
        let from_ms: i64 = param(&p.from_ms, "fromMs", "Unix milliseconds")?.unwrap_or(0);
        read(s.readers, move |conn, _| {
            views::service_map(conn, from_ms.saturating_mul(1_000_000))
        })
        .await
    }
    .await;
    reply(result.map(|edges| ServiceMap { edges }))
}

/// What did not link, newest first: requests whose trace never arrived, traces naming a
/// session that has no replay, spans whose parent is missing.
#[utoipa::path(get, path = "/api/v1/diagnostics", tag = "traces",
    responses((status = 200, body = views::Diagnostics)))]
pub(super) async fn diagnostics(State(s): State<ApiState>) -> Response {
    reply(read(s.readers, |conn, _| views::diagnostics(conn)).await)
}
