//! Metrics: the instruments stored, one instrument's chart over a range, and the HTTP servers'
//! rate, errors and p95 per service (the Services view).

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sightline_store::views;
use utoipa::{IntoParams, ToSchema};

use super::params::{attribute_params, param, read, reply, text, RangeQuery, Q};
use super::ApiState;
use crate::error::ServerError;

/// The range a metrics question covers when it names none: the last hour, as the Aspire
/// dashboard opens.
const DEFAULT_RANGE_MS: i64 = 60 * 60 * 1000;
/// The longest range one chart covers: its points are read one by one (bounded by
/// `CHART_READ_LIMIT` as well).
const MAX_RANGE_MS: i64 = 31 * 24 * 60 * 60 * 1000;

/// `[fromMs, toMs]` as nanoseconds, defaulting to the last hour up to now.
fn range_ns(range: &RangeQuery) -> Result<(i64, i64), ServerError> {
    let (from, to) = range.parse()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to.saturating_sub(DEFAULT_RANGE_MS));
    // Nanoseconds must fit an i64 (until the year 2262), and so must their difference.
    let most = i64::MAX / 1_000_000;
    if !(0..=most).contains(&from) || !(0..=most).contains(&to) {
        return Err(ServerError::BadRequest(format!(
            "fromMs and toMs must be Unix milliseconds between 0 and {most}"
        )));
    }
    if from >= to {
        return Err(ServerError::BadRequest(format!(
            "fromMs ({from}) must be before toMs ({to})"
        )));
    }
    if to - from > MAX_RANGE_MS {
        return Err(ServerError::BadRequest(format!(
            "a metrics range covers at most 31 days, not {} days",
            (to - from) / 86_400_000
        )));
    }
    Ok((from.saturating_mul(1_000_000), to.saturating_mul(1_000_000)))
}

/// The instruments stored, by service and name.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentList {
    pub instruments: Vec<views::Instrument>,
    /// The range `pointCount` counts, Unix ms.
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Every instrument stored, with its points in the range (the last hour by default).
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", params(RangeQuery),
    responses((status = 200, body = InstrumentList), (status = 400, body = super::ApiError)))]
pub(super) async fn instruments(State(s): State<ApiState>, Q(range): Q<RangeQuery>) -> Response {
    let result = async {
        let (from, to) = range_ns(&range)?;
        let instruments =
            read(s.readers, move |conn, _| views::instruments(conn, from, to)).await?;
        Ok::<_, ServerError>(InstrumentList {
            instruments,
            from_ms: from / 1_000_000,
            to_ms: to / 1_000_000,
        })
    }
    .await;
    reply(result)
}

/// Which instrument to chart, and how.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// The instrument's name.
    name: Option<String>,
    /// Its service; every service's when left out.
    service: Option<String>,
    /// Buckets across the range, 1-1000 (default 120).
    #[param(value_type = Option<usize>)]
    buckets: Option<String>,
    /// An attribute key: one series per value.
    group_by: Option<String>,
    /// `key=value`: a point attribute; repeat it for several (all must match).
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>)]
    attribute: Vec<String>,
}

/// One instrument's series over the range, bucketed: gauges averaged, monotonic sums as rates,
/// histograms as percentiles, rates and a heatmap.
#[utoipa::path(get, path = "/api/v1/metrics/chart", tag = "metrics", params(ChartQuery, RangeQuery),
    responses((status = 200, body = views::MetricChart), (status = 400, body = super::ApiError),
        (status = 404, body = super::ApiError)))]
pub(super) async fn chart(
    State(s): State<ApiState>,
    Q(p): Q<ChartQuery>,
    Q(range): Q<RangeQuery>,
) -> Response {
    let result = async {
        let name = text(&p.name)
            .ok_or_else(|| ServerError::BadRequest("name (the instrument) is required".into()))?;
        let (from_ns, to_ns) = range_ns(&range)?;
        let buckets =
            param(&p.buckets, "buckets", "a whole number")?.unwrap_or(views::DEFAULT_BUCKETS);
        if !(1..=views::MAX_BUCKETS).contains(&buckets) {
            return Err(ServerError::BadRequest(format!(
                "buckets must be between 1 and {}",
                views::MAX_BUCKETS
            )));
        }
        let q = views::MetricQuery {
            name: name.clone(),
            service: text(&p.service),
            from_ns,
            to_ns,
            buckets,
            group_by: text(&p.group_by),
            filters: attribute_params(&p.attribute)?,
        };
        read(s.readers, move |conn, _| views::metric_chart(conn, &q))
            .await?
            .ok_or_else(|| ServerError::NotFound(format!("no metric {name:?} is stored")))
    }
    .await;
    reply(result)
}

/// The HTTP servers' requests per service, from `http.server.request.duration`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHttpList {
    pub services: Vec<views::ServiceHttp>,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Buckets of a service's trend line.
const TREND_BUCKETS: usize = 30;

/// Rate, errors and p95 of each service's HTTP server over the range (the last hour by default),
/// from its `http.server.request.duration` histogram.
#[utoipa::path(get, path = "/api/v1/metrics/http-servers", tag = "metrics", params(RangeQuery),
    responses((status = 200, body = ServiceHttpList), (status = 400, body = super::ApiError)))]
pub(super) async fn http_servers(State(s): State<ApiState>, Q(range): Q<RangeQuery>) -> Response {
    let result = async {
        let (from, to) = range_ns(&range)?;
        let services = read(s.readers, move |conn, _| {
            views::service_http(conn, from, to, TREND_BUCKETS)
        })
        .await?;
        Ok::<_, ServerError>(ServiceHttpList {
            services,
            from_ms: from / 1_000_000,
            to_ms: to / 1_000_000,
        })
    }
    .await;
    reply(result)
}
