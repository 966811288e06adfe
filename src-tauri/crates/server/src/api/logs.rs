//! Logs: full-text and filtered log search.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sightline_store::views;
use utoipa::{IntoParams, ToSchema};

use super::params::{
    attribute_params, decode_pair_cursor, encode_pair_cursor, incident_param, page_size, param,
    parse_trace_id, read, reply, severity, text, PageQuery, RangeQuery, Q,
};
use super::{ApiError, ApiState};
use crate::error::ServerError;

/// Log search filters; each may be left out.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Full text (FTS5) over body and attributes.
    q: Option<String>,
    /// `trace`, `debug`, `info`, `warn`, `error`, `fatal` or 1-24.
    min_severity: Option<String>,
    service: Option<String>,
    /// 32 hexadecimal digits.
    trace_id: Option<String>,
    session: Option<String>,
    /// `key=value`: a log attribute; repeat it for several (all must match).
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>)]
    attribute: Vec<String>,
    /// An incident window's id, or `any`.
    incident: Option<String>,
}

/// A page of log records, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogList {
    pub logs: Vec<views::LogView>,
    pub next_cursor: Option<String>,
}

/// Log search (FTS5 full text and filters), newest first.
#[utoipa::path(get, path = "/api/v1/logs", tag = "logs", params(LogQuery, RangeQuery, PageQuery),
    responses((status = 200, body = LogList), (status = 400, body = ApiError)))]
pub(super) async fn logs(
    State(s): State<ApiState>,
    Q(p): Q<LogQuery>,
    Q(range): Q<RangeQuery>,
    Q(page): Q<PageQuery>,
) -> Response {
    let result = async {
        let attributes = attribute_params(&p.attribute)?;
        let trace_id = text(&p.trace_id).map(|t| parse_trace_id(&t)).transpose()?;
        let filter = views::LogFilter {
            text: p.q.clone().filter(|v| !v.trim().is_empty()),
            min_severity: text(&p.min_severity).map(|v| severity(&v)).transpose()?,
            service: text(&p.service),
            trace_id,
            session: text(&p.session),
            attributes,
            from_ms: param(&range.from_ms, "fromMs", "Unix milliseconds")?,
            to_ms: param(&range.to_ms, "toMs", "Unix milliseconds")?,
            incident: incident_param(&p.incident),
        };
        let limit = page_size(&page.limit)?;
        let cursor = page.cursor.as_deref().map(decode_pair_cursor).transpose()?;
        let (logs, next) = read(s.readers, move |conn, _| {
            views::search_logs(conn, &filter, cursor, limit)
        })
        .await?;
        Ok::<_, ServerError>(LogList {
            logs,
            next_cursor: next.map(encode_pair_cursor),
        })
    }
    .await;
    reply(result)
}
