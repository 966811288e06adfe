//! Traces and services: trace search, one trace, the services and the calls between them, and
//! what did not link.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sightline_store::views;
use utoipa::{IntoParams, ToSchema};

use super::params::{
    attribute_params, decode_pair_cursor, encode_pair_cursor, incident_param, page_size, param,
    parse_span_id, parse_trace_id, read, reply, text, PageQuery, RangeQuery, Q,
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
    /// `key=value`: a span attribute; repeat it for several (all must match).
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>)]
    attribute: Vec<String>,
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
        let attributes = attribute_params(&p.attribute)?;
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
            attributes,
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

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OutlineQuery {
    /// Spans in the page, 1-500 (default 20).
    #[param(value_type = Option<u32>)]
    max_spans: Option<String>,
    /// `nextSpanCursor` of the previous answer.
    span_cursor: Option<String>,
}

/// A trace in brief, never an unbounded dump: its root, services, error spans with their
/// messages, the critical path, the spans with the most time of their own, its sessions with
/// the replay offset, the traces of the same services that overlapped it, and a page of its
/// spans in tree order.
#[utoipa::path(get, path = "/api/v1/traces/{trace_id}/outline", tag = "traces",
    params(("trace_id" = String, Path, description = "32 hexadecimal digits"), OutlineQuery),
    responses((status = 200, body = views::TraceOutline), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn trace_outline(
    State(s): State<ApiState>,
    Path(trace_id): Path<String>,
    Q(p): Q<OutlineQuery>,
) -> Response {
    let result = async {
        let id = parse_trace_id(&trace_id)?;
        let max: usize = param(&p.max_spans, "maxSpans", "a number of spans")?
            .unwrap_or(views::DEFAULT_OUTLINE_SPANS);
        if !(1..=views::MAX_OUTLINE_SPANS).contains(&max) {
            return Err(ServerError::BadRequest(format!(
                "maxSpans must be between 1 and {}",
                views::MAX_OUTLINE_SPANS
            )));
        }
        let from: usize = param(&p.span_cursor, "spanCursor", "a nextSpanCursor")?.unwrap_or(0);
        read(s.readers, move |conn, _| {
            views::trace_outline(conn, &id, max, from)
        })
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("no trace {trace_id} is stored")))
    }
    .await;
    reply(result)
}

/// One span in full: attributes, events, links, its resource, its logs and its children.
#[utoipa::path(get, path = "/api/v1/traces/{trace_id}/spans/{span_id}", tag = "traces",
    params(("trace_id" = String, Path, description = "32 hexadecimal digits"),
        ("span_id" = String, Path, description = "16 hexadecimal digits")),
    responses((status = 200, body = views::SpanDetail), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn span(
    State(s): State<ApiState>,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let trace = parse_trace_id(&trace_id)?;
        let span = parse_span_id(&span_id)?;
        read(s.readers, move |conn, _| {
            views::span_detail(conn, &trace, &span)
        })
        .await?
        .ok_or_else(|| {
            ServerError::NotFound(format!("no span {span_id} of trace {trace_id} is stored"))
        })
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
