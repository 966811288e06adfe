//! Logs: full-text and filtered log search, and one record in detail.

use axum::extract::{Path, State};
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
    /// Free text over body and attributes: every term must match.
    q: Option<String>,
    /// How `q` matches: `words` (whole words, the default), `prefix` (words starting with each
    /// term: `lock` finds "locked"), `substring` (anywhere, ASCII case folded; reads the newest
    /// 500,000 records).
    #[serde(rename = "match")]
    #[param(rename = "match")]
    text_match: Option<String>,
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
    /// A substring search read only the newest 500,000 records.
    pub scan_limited: bool,
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
            text_match: match text(&p.text_match).as_deref() {
                None | Some("words") => views::TextMatch::Words,
                Some("prefix") => views::TextMatch::Prefix,
                Some("substring") => views::TextMatch::Substring,
                Some(other) => {
                    return Err(ServerError::BadRequest(format!(
                        "match={other:?} must be words, prefix or substring"
                    )))
                }
            },
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
        let page = read(s.readers, move |conn, _| {
            views::search_logs(conn, &filter, cursor, limit)
        })
        .await?;
        Ok::<_, ServerError>(LogList {
            logs: page.logs,
            next_cursor: page.next.map(encode_pair_cursor),
            scan_limited: page.scan_limited,
        })
    }
    .await;
    reply(result)
}

/// One log record with its resource (service, host, process) and scope (the library).
#[utoipa::path(get, path = "/api/v1/logs/{log_id}", tag = "logs",
    params(("log_id" = String, Path, description = "The record's `id` from a log list")),
    responses((status = 200, body = views::LogDetail), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn log(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    let result = async {
        let row: i64 = id
            .parse()
            .map_err(|_| ServerError::BadRequest(format!("{id:?} is not a log record's id")))?;
        read(s.readers, move |conn, _| views::log_detail(conn, row))
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("no log record {row} is stored")))
    }
    .await;
    reply(result)
}
