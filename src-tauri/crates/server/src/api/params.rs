//! What every resource's handlers share: the blocking read, query parameters and their
//! errors, JSON bodies, page sizes and cursors, and how an answer or an error goes out.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sightline_store::{views, Connection, Readers};

use crate::error::ServerError;

/// Runs a read on a blocking thread with a pooled read-only connection.
pub(super) async fn read<T: Send + 'static>(
    readers: Readers,
    f: impl FnOnce(&Connection, &Readers) -> sightline_store::Result<T> + Send + 'static,
) -> Result<T, ServerError> {
    let r = readers.clone();
    readers
        .read(move |conn| f(conn, &r))
        .await
        .map_err(ServerError::from)
}

/// A JSON answer, or the error as the API reports errors.
pub(super) fn reply<T: Serialize>(result: Result<T, ServerError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.to_api(),
    }
}

pub(super) fn json_body<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ServerError> {
    serde_json::from_slice(body)
        .map_err(|e| ServerError::BadRequest(format!("the body must be {what}: {e}")))
}

/// Query parameters as a resource's typed struct (every field text, so any value is taken
/// and checked by the handler with the parameter's own words; unknown keys are ignored).
pub(super) struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        // A repeated key takes its last value, as the API always has, except the repeatable
        // ones (filters), which become lists: read the pairs into a map, then into the struct.
        let mut pairs = serde_json::Map::new();
        for (k, v) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            let v = serde_json::Value::String(v.into_owned());
            if REPEATABLE.contains(&k.as_ref()) {
                match pairs
                    .entry(k.into_owned())
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()))
                {
                    serde_json::Value::Array(list) => list.push(v),
                    other => *other = v,
                }
            } else {
                pairs.insert(k.into_owned(), v);
            }
        }
        serde_json::from_value(serde_json::Value::Object(pairs))
            .map(Q)
            .map_err(|e| {
                ServerError::BadRequest(format!("the query is not one this API takes: {e}"))
                    .to_api()
            })
    }
}

/// A time range (Unix ms), shared by the lists: what overlaps it, or started in it.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct RangeQuery {
    /// At or after this (Unix ms).
    #[param(value_type = Option<i64>)]
    pub(super) from_ms: Option<String>,
    /// At or before this (Unix ms).
    #[param(value_type = Option<i64>)]
    pub(super) to_ms: Option<String>,
}

impl RangeQuery {
    pub(super) fn parse(&self) -> Result<(Option<i64>, Option<i64>), ServerError> {
        Ok((
            param(&self.from_ms, "fromMs", "Unix milliseconds")?,
            param(&self.to_ms, "toMs", "Unix milliseconds")?,
        ))
    }
}

/// A page of a list: its size and where the previous page ended.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// Page size, 1-500 (default 50).
    #[param(value_type = Option<usize>)]
    pub(super) limit: Option<String>,
    /// `nextCursor` of the previous page.
    pub(super) cursor: Option<String>,
}

/// A parameter parsed as `T`; empty counts as absent.
pub(super) fn param<T: std::str::FromStr>(
    value: &Option<String>,
    key: &str,
    what: &str,
) -> Result<Option<T>, ServerError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| ServerError::BadRequest(format!("{key}={v:?} is not {what}")))
        })
        .transpose()
}

/// A text parameter; empty counts as absent.
pub(super) fn text(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.is_empty()).cloned()
}

/// Query keys that may be given more than once, each time adding a value (a list field).
const REPEATABLE: &[&str] = &["attribute"];

/// Attribute filters one question takes: each is a JSON lookup per row, and a person filters
/// by a handful.
pub(super) const MAX_ATTRIBUTE_FILTERS: usize = 8;

/// `attribute=key=value`, repeatable: every filter, checked.
pub(super) fn attribute_params(values: &[String]) -> Result<Vec<(String, String)>, ServerError> {
    let given: Vec<&String> = values.iter().filter(|v| !v.is_empty()).collect();
    if given.len() > MAX_ATTRIBUTE_FILTERS {
        return Err(ServerError::BadRequest(format!(
            "at most {MAX_ATTRIBUTE_FILTERS} attribute filters at once, not {}",
            given.len()
        )));
    }
    given
        .into_iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(ServerError::BadRequest(format!(
                "attribute={kv:?} must be key=value"
            ))),
        })
        .collect()
}

/// Rows a page holds by default, and at most.
pub(super) const DEFAULT_PAGE: usize = 50;
pub(super) const MAX_PAGE: usize = 500;

/// `limit`, checked against the page bounds.
pub(super) fn page_size(value: &Option<String>) -> Result<usize, ServerError> {
    let limit: usize = param(value, "limit", "a page size")?.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ServerError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )))
    }
}

/// `incident=ID` or `incident=any`: what was captured in that incident window, or in any.
pub(super) fn incident_param(value: &Option<String>) -> Option<views::IncidentFilter> {
    text(value).map(|v| match v.as_str() {
        "any" => views::IncidentFilter::Any,
        _ => views::IncidentFilter::Id(v),
    })
}

pub(super) fn parse_trace_id(text: &str) -> Result<[u8; 16], ServerError> {
    let bad = || {
        ServerError::BadRequest(format!(
            "{text:?} is not a trace id: expected 32 hexadecimal digits"
        ))
    };
    let bytes = hex::decode(text).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

pub(super) fn parse_span_id(text: &str) -> Result<[u8; 8], ServerError> {
    let bad = || {
        ServerError::BadRequest(format!(
            "{text:?} is not a span id: expected 16 hexadecimal digits"
        ))
    };
    let bytes = hex::decode(text).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// Cursors are opaque to clients: hex of "first_seen_ms.session_id".
pub(super) fn encode_cursor((first, id): (i64, String)) -> String {
    hex::encode(format!("{first}.{id}"))
}

pub(super) fn decode_cursor(text: &str) -> Result<(i64, String), ServerError> {
    let bad = || ServerError::BadRequest(format!("cursor {text:?} is not one this API gave out"));
    let raw = String::from_utf8(hex::decode(text).map_err(|_| bad())?).map_err(|_| bad())?;
    let (first, id) = raw.split_once('.').ok_or_else(bad)?;
    Ok((first.parse().map_err(|_| bad())?, id.to_owned()))
}

/// Cursors for time-ordered pages (traces, logs) are opaque: hex of "time_ns.row".
pub(super) fn encode_pair_cursor((start, id): (i64, i64)) -> String {
    hex::encode(format!("{start}.{id}"))
}

pub(super) fn decode_pair_cursor(text: &str) -> Result<(i64, i64), ServerError> {
    let bad = || ServerError::BadRequest(format!("cursor {text:?} is not one this API gave out"));
    let raw = String::from_utf8(hex::decode(text).map_err(|_| bad())?).map_err(|_| bad())?;
    let (start, id) = raw.split_once('.').ok_or_else(bad)?;
    Ok((
        start.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// Severity names as OTLP numbers them (the first number of each range).
pub(super) fn severity(text: &str) -> Result<i32, ServerError> {
    Ok(match text.to_ascii_lowercase().as_str() {
        "trace" => 1,
        "debug" => 5,
        "info" => 9,
        "warn" | "warning" => 13,
        "error" => 17,
        "fatal" => 21,
        other => other.parse().map_err(|_| {
            ServerError::BadRequest(format!(
                "minSeverity={text:?} is not a severity (trace, debug, info, warn, error, fatal or 1-24)"
            ))
        })?,
    })
}
