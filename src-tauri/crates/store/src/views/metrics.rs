//! Metrics: the instruments stored (one per service and name), and one instrument's series over
//! a time range cut into buckets for a chart — gauges and up-down sums averaged, monotonic sums
//! as rates per second, histograms (explicit and exponential, cumulative or delta) as
//! percentiles, observation rates, means and a heatmap, summaries as their reported quantiles —
//! plus the exemplars that link a point to its trace, and per service the HTTP server's rate,
//! errors and p95 from `http.server.request.duration`.
//!
//! Cumulative streams are turned into deltas point to point within one stream (same metric row,
//! attributes and start time); a stream whose start time changes or whose count goes down was
//! reset, and its new value counts from the new start. The bucket before the range is read for
//! the baseline only, so a rate over the range's first bucket has what came just before it.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, number_data_point, ExponentialHistogramDataPoint, HistogramDataPoint,
    NumberDataPoint, SummaryDataPoint,
};
use prost::Message;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::error::Result;

use super::{corrupt, parse_json};

/// Lines one chart can show and a reader can tell apart; the busiest are kept.
pub const MAX_SERIES: usize = 20;
/// Buckets a chart holds at most (a pixel column each at worst on a wide screen), and by default.
pub const MAX_BUCKETS: usize = 1_000;
pub const DEFAULT_BUCKETS: usize = 120;
/// Points read for one chart: a minute of a busy exporter is a few hundred; this bounds memory
/// and time of one question (`truncated` says when it was reached).
pub const CHART_READ_LIMIT: usize = 500_000;
/// Rows of a histogram's heatmap: more are merged into log-spaced rows.
pub const MAX_HEATMAP_ROWS: usize = 48;
/// Exemplars an answer carries (the latest), of at most this many read.
pub const MAX_EXEMPLARS: usize = 100;
const EXEMPLARS_READ: usize = 10_000;
/// Values listed per attribute key for the filters; `valueCount` says how many there were.
pub const MAX_KEY_VALUES: usize = 30;
/// Attribute sets tracked for one chart's filters and series: beyond this a series' attributes
/// are still counted into the groups, but no new set is listed.
const MAX_ATTRIBUTE_SETS: usize = 10_000;
/// Series (groups) one question builds at most: each holds a vector per bucket, so a group-by
/// on a per-user attribute must not build 100,000 of them; the rest are counted as `other`.
pub const MAX_GROUPS: usize = 200;
/// Value ranges kept of one histogram point: SDKs send at most 160 exponential buckets; a
/// hostile point of millions is merged down to this many neighbouring ranges.
pub const MAX_POINT_RANGES: usize = 320;
/// How far before the range a cumulative stream's previous point is looked for: SDKs export
/// every 10–60 s, so the point before the first one in range is within this.
const BASELINE_LOOKBACK_NS: i64 = 5 * 60 * 1_000_000_000;
/// The OTLP data point flag saying the point carries no recorded value (a staleness marker).
const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// The percentiles drawn for a distribution.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// The HTTP server duration instrument of the semantic conventions (seconds), and its older
/// name (milliseconds), read for the Services view.
pub const HTTP_SERVER_DURATION: &str = "http.server.request.duration";
const HTTP_SERVER_DURATION_OLD: &str = "http.server.duration";

/// A metric instrument as one service reports it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Instrument {
    pub name: String,
    pub service_name: Option<String>,
    pub description: String,
    pub unit: String,
    /// `gauge`, `sum`, `histogram`, `exponential_histogram`, `summary`, or `empty` (a metric
    /// with no data).
    pub kind: String,
    /// `cumulative`, `delta` or `unspecified` (gauges, summaries).
    pub temporality: String,
    pub monotonic: bool,
    /// Points in the range asked for.
    pub point_count: i64,
    /// Unix nanoseconds of the latest point ever stored, as a string.
    pub last_unix_nano: Option<String>,
}

/// One instrument's chart over a range.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricChart {
    pub instrument: Instrument,
    /// What a series' `values` are: `average` (gauges, up-down sums), `per second` (monotonic
    /// sums), `observations per second` (histograms, summaries).
    pub measure: String,
    /// Start of the first bucket and each bucket's width, Unix nanoseconds as strings.
    pub from_unix_nano: String,
    pub step_nano: String,
    pub buckets: usize,
    /// The busiest series first, at most [`MAX_SERIES`].
    pub series: Vec<ChartSeries>,
    /// Series there were before the cut.
    pub series_count: usize,
    /// Keys of the points' attributes, with their most common values (for group-by and filters).
    pub attribute_keys: Vec<AttributeKey>,
    /// Histograms: counts per value range (rows) and bucket, over every series shown.
    pub heatmap: Vec<HeatRow>,
    /// The latest exemplars: a measurement with the trace it was taken in.
    pub exemplars: Vec<MetricExemplar>,
    pub points_read: usize,
    /// [`CHART_READ_LIMIT`] points were read and the rest of the range was not.
    pub truncated: bool,
}

/// One line (or group of lines) of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChartSeries {
    /// The grouped attribute's value, or the attribute set as `k=v, …`, or `all`.
    pub label: String,
    /// The attributes the series has in common (its group).
    #[schema(value_type = Object)]
    pub attributes: Json,
    /// One value per bucket, `null` where the bucket had no data; see [`MetricChart::measure`].
    pub values: Vec<Option<f64>>,
    /// Distributions: percentile lines (histograms, from their buckets; summaries, as reported).
    pub quantiles: Vec<QuantileLine>,
    /// Distributions: the mean (sum / count) per bucket.
    pub means: Vec<Option<f64>>,
    /// Over the range: the increase of a sum, the observations of a distribution, the mean of a
    /// gauge.
    pub total: Option<f64>,
    /// The last value the series reported (a gauge's level, a cumulative sum's count).
    pub last: Option<f64>,
    pub point_count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuantileLine {
    /// 0 to 1 (0.95 is p95).
    pub quantile: f64,
    pub values: Vec<Option<f64>>,
    /// Over the whole range.
    pub overall: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeKey {
    pub key: String,
    /// The most common values first, at most [`MAX_KEY_VALUES`].
    pub values: Vec<String>,
    pub value_count: usize,
}

/// Observations between `lower` (exclusive) and `upper` (inclusive) per bucket; `null` bounds
/// are infinite.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeatRow {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricExemplar {
    pub time_unix_nano: String,
    pub value: Option<f64>,
    /// 32 and 16 hexadecimal digits; empty when the exemplar names no trace.
    pub trace_id: String,
    pub span_id: String,
}

/// Per service, its HTTP server's requests from the duration histogram.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHttp {
    pub service_name: String,
    pub requests: f64,
    pub per_second: f64,
    /// Requests answered with a 5xx status or naming an `error.type`, 0 to 1.
    pub error_rate: f64,
    /// Seconds, interpolated in the histogram's buckets.
    pub p95_seconds: Option<f64>,
    /// Observations per second, one per bucket of the range (a sparkline).
    pub trend: Vec<Option<f64>>,
}

/// What one chart asks.
#[derive(Debug, Clone, Default)]
pub struct MetricQuery {
    pub name: String,
    pub service: Option<String>,
    pub from_ns: i64,
    pub to_ns: i64,
    pub buckets: usize,
    /// An attribute key: one series per value.
    pub group_by: Option<String>,
    /// `key=value` filters on the points' attributes, all required.
    pub filters: Vec<(String, String)>,
}

fn temporality(t: i32) -> &'static str {
    match t {
        1 => "delta",
        2 => "cumulative",
        _ => "unspecified",
    }
}

/// Every instrument stored, by service and name, with its points in `[from_ns, to_ns]`.
pub fn instruments(conn: &Connection, from_ns: i64, to_ns: i64) -> Result<Vec<Instrument>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.service_name, m.name, m.description, m.unit, m.type,
                m.aggregation_temporality, m.is_monotonic,
                (SELECT count(*) FROM metric_points p
                  WHERE p.metric_id = m.id AND p.time_unix_nano BETWEEN ?1 AND ?2),
                (SELECT max(time_unix_nano) FROM metric_points p WHERE p.metric_id = m.id)
           FROM metrics m",
    )?;
    let mut by: BTreeMap<(Option<String>, String), Instrument> = BTreeMap::new();
    let mut rows = stmt.query([from_ns, to_ns])?;
    while let Some(r) = rows.next()? {
        let service: Option<String> = r.get(0)?;
        let name: String = r.get(1)?;
        let points: i64 = r.get(7)?;
        let last: Option<i64> = r.get(8)?;
        let kind: Option<String> = r.get(4)?;
        let entry = by
            .entry((service.clone(), name.clone()))
            .or_insert_with(|| Instrument {
                name,
                service_name: service,
                description: String::new(),
                unit: String::new(),
                kind: "empty".into(),
                temporality: "unspecified".into(),
                monotonic: false,
                point_count: 0,
                last_unix_nano: None,
            });
        // Several rows (one per resource and scope) make one instrument; the ones with data
        // say what it is.
        if kind.is_some() && (entry.kind == "empty" || points > 0) {
            entry.kind = kind.unwrap_or_default();
            entry.temporality = temporality(r.get(5)?).into();
            entry.monotonic = r.get(6)?;
        }
        let description: String = r.get(2)?;
        if entry.description.is_empty() {
            entry.description = description;
        }
        let unit: String = r.get(3)?;
        if entry.unit.is_empty() {
            entry.unit = unit;
        }
        entry.point_count += points;
        let newest = entry
            .last_unix_nano
            .as_deref()
            .and_then(|v| v.parse::<i64>().ok());
        if last > newest {
            entry.last_unix_nano = last.map(|v| v.to_string());
        }
    }
    Ok(by.into_values().collect())
}

/// A distribution being summed: observations per value range `(lower, upper]`, keyed by the
/// upper bound (`f64::INFINITY` for the overflow bucket), with what points said of min and max.
#[derive(Debug, Clone, Default)]
struct Dist {
    ranges: BTreeMap<OrdF64, (f64, u64)>,
    count: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
#[allow(clippy::derive_ord_xor_partial_ord)]
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Dist {
    fn add_range(&mut self, lower: f64, upper: f64, n: u64) {
        if n == 0 {
            return;
        }
        let e = self.ranges.entry(OrdF64(upper)).or_insert((lower, 0));
        e.0 = e.0.min(lower);
        e.1 = e.1.saturating_add(n);
    }

    fn merge(&mut self, other: &Dist) {
        for (upper, (lower, n)) in &other.ranges {
            self.add_range(*lower, upper.0, *n);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum += other.sum;
        self.min = min_opt(self.min, other.min);
        self.max = max_opt(self.max, other.max);
    }

    /// The `q` quantile, interpolated linearly inside its range; an open range is closed by the
    /// recorded min or max, else by the neighbouring bound (as Prometheus does).
    fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self
            .ranges
            .values()
            .fold(0u64, |t, (_, n)| t.saturating_add(*n));
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut seen = 0u64;
        let mut previous_upper: Option<f64> = None;
        for (upper, (lower, n)) in &self.ranges {
            let before = seen;
            seen = seen.saturating_add(*n);
            if (seen as f64) < rank {
                previous_upper = Some(upper.0);
                continue;
            }
            let mut lo = *lower;
            let mut hi = upper.0;
            if !lo.is_finite() {
                lo = self.min.unwrap_or(if hi > 0.0 { 0.0 } else { hi });
            }
            if !hi.is_finite() {
                hi = self.max.unwrap_or(previous_upper.unwrap_or(lo).max(lo));
            }
            if let Some(min) = self.min {
                lo = lo.max(min.min(hi));
            }
            if let Some(max) = self.max {
                hi = hi.min(max.max(lo));
            }
            let within = if *n == 0 {
                0.0
            } else {
                (rank - before as f64) / *n as f64
            };
            return Some(lo + (hi - lo) * within.clamp(0.0, 1.0));
        }
        self.max.or(previous_upper)
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// An explicit-bounds histogram point's buckets as ranges.
fn explicit_ranges(bounds: &[f64], counts: &[u64]) -> Vec<(f64, f64, u64)> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let lower = if i == 0 {
                f64::NEG_INFINITY
            } else {
                bounds.get(i - 1).copied().unwrap_or(f64::INFINITY)
            };
            let upper = bounds.get(i).copied().unwrap_or(f64::INFINITY);
            (lower, upper, n)
        })
        .collect()
}

/// An exponential histogram point's buckets as ranges: at scale `s` bucket `i` covers
/// `(base^i, base^(i+1)]` with `base = 2^(2^-s)`; negatives mirror it; the zero bucket is
/// `[-threshold, threshold]`.
fn exponential_ranges(p: &ExponentialHistogramDataPoint) -> Vec<(f64, f64, u64)> {
    // Scales outside the spec's range (-10..=20) would make bounds meaningless.
    let scale = p.scale.clamp(-10, 20);
    let base = 2f64.powf(2f64.powi(-scale));
    let bound = |i: i64| base.powf(i as f64);
    let mut out = Vec::new();
    if let Some(neg) = &p.negative {
        for (k, &n) in neg.bucket_counts.iter().enumerate() {
            let i = neg.offset as i64 + k as i64;
            out.push((-bound(i + 1), -bound(i), n));
        }
    }
    if p.zero_count > 0 {
        let t = if p.zero_threshold.is_finite() {
            p.zero_threshold.abs()
        } else {
            0.0
        };
        out.push((-t, t, p.zero_count));
    }
    if let Some(pos) = &p.positive {
        for (k, &n) in pos.bucket_counts.iter().enumerate() {
            let i = pos.offset as i64 + k as i64;
            out.push((bound(i), bound(i + 1), n));
        }
    }
    out
}

/// One decoded point, as the accumulation needs it.
enum Reading {
    Number(f64),
    Dist {
        ranges: Vec<(f64, f64, u64)>,
        count: u64,
        sum: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    Summary {
        count: u64,
        sum: f64,
        quantiles: Vec<(f64, f64)>,
    },
}

fn number(p: &NumberDataPoint) -> Option<f64> {
    match p.value {
        Some(number_data_point::Value::AsDouble(d)) => Some(d),
        Some(number_data_point::Value::AsInt(i)) => Some(i as f64),
        None => None,
    }
}

fn exemplars_of(
    out: &mut Vec<MetricExemplar>,
    list: &[opentelemetry_proto::tonic::metrics::v1::Exemplar],
) {
    for e in list {
        if out.len() >= EXEMPLARS_READ {
            return;
        }
        out.push(MetricExemplar {
            time_unix_nano: e.time_unix_nano.to_string(),
            value: match e.value {
                Some(exemplar::Value::AsDouble(d)) => Some(d),
                Some(exemplar::Value::AsInt(i)) => Some(i as f64),
                None => None,
            },
            trace_id: if e.trace_id.len() == 16 {
                hex::encode(&e.trace_id)
            } else {
                String::new()
            },
            span_id: if e.span_id.len() == 8 {
                hex::encode(&e.span_id)
            } else {
                String::new()
            },
        });
    }
}

/// `ranges` merged pairwise with their neighbours until at most [`MAX_POINT_RANGES`] remain.
fn capped(mut ranges: Vec<(f64, f64, u64)>) -> Vec<(f64, f64, u64)> {
    while ranges.len() > MAX_POINT_RANGES {
        ranges = ranges
            .chunks(2)
            .map(|c| {
                let last = c[c.len() - 1];
                (
                    c[0].0,
                    last.1,
                    c.iter().fold(0u64, |t, r| t.saturating_add(r.2)),
                )
            })
            .collect();
    }
    ranges
}

/// A point as the chart reads it; `None` for one that says nothing: no value, a staleness
/// marker (`FLAG_NO_RECORDED_VALUE`), or a value that is not a finite number.
fn decode(kind: &str, blob: &[u8], exemplars: &mut Vec<MetricExemplar>) -> Result<Option<Reading>> {
    let finite = |v: f64| v.is_finite().then_some(v);
    Ok(match kind {
        "gauge" | "sum" => {
            let p = NumberDataPoint::decode(blob).map_err(|e| corrupt("a number point", e))?;
            if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
                return Ok(None);
            }
            exemplars_of(exemplars, &p.exemplars);
            number(&p).and_then(finite).map(Reading::Number)
        }
        "histogram" => {
            let p =
                HistogramDataPoint::decode(blob).map_err(|e| corrupt("a histogram point", e))?;
            if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
                return Ok(None);
            }
            exemplars_of(exemplars, &p.exemplars);
            Some(Reading::Dist {
                ranges: capped(explicit_ranges(&p.explicit_bounds, &p.bucket_counts)),
                count: p.count,
                sum: p.sum.and_then(finite).unwrap_or(0.0),
                min: p.min.and_then(finite),
                max: p.max.and_then(finite),
            })
        }
        "exponential_histogram" => {
            let p = ExponentialHistogramDataPoint::decode(blob)
                .map_err(|e| corrupt("an exponential histogram point", e))?;
            if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
                return Ok(None);
            }
            exemplars_of(exemplars, &p.exemplars);
            Some(Reading::Dist {
                ranges: capped(exponential_ranges(&p)),
                count: p.count,
                sum: p.sum.and_then(finite).unwrap_or(0.0),
                min: p.min.and_then(finite),
                max: p.max.and_then(finite),
            })
        }
        "summary" => {
            let p = SummaryDataPoint::decode(blob).map_err(|e| corrupt("a summary point", e))?;
            if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
                return Ok(None);
            }
            Some(Reading::Summary {
                count: p.count,
                sum: finite(p.sum).unwrap_or(0.0),
                quantiles: p
                    .quantile_values
                    .iter()
                    .filter(|q| q.value.is_finite() && q.quantile.is_finite())
                    .take(MAX_POINT_RANGES)
                    .map(|q| (q.quantile, q.value))
                    .collect(),
            })
        }
        _ => None,
    })
}

/// What a cumulative stream said last, to take the next point's delta from.
enum Previous {
    Number(f64),
    Dist(Vec<(f64, f64, u64)>, u64, f64),
    Summary(u64, f64),
}

/// One group's numbers per bucket.
#[derive(Default)]
struct Group {
    attributes: Map<String, Json>,
    /// Gauges: (sum, n) per bucket; sums: the increase; distributions: unused.
    values: Vec<(f64, u32)>,
    dists: Vec<Dist>,
    /// Summaries: per quantile, (sum, n) per bucket.
    summary: BTreeMap<OrdF64, Vec<(f64, u32)>>,
    /// Distribution means: (sum, count) per bucket.
    means: Vec<(f64, u64)>,
    last: Option<(i64, f64)>,
    points: usize,
}

/// An attribute value as a filter or label reads it.
fn value_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn label_of(attrs: &Map<String, Json>) -> String {
    if attrs.is_empty() {
        return "all".into();
    }
    attrs
        .iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How points are grouped into series.
enum Grouping<'a> {
    /// Each attribute set its own series (gauges and sums without a group-by).
    EachSet,
    /// Every point into one series (distributions without a group-by).
    All,
    ByKey(&'a str),
    /// By a function of the attributes (the Services view's ok/error split).
    By(&'a dyn Fn(&Map<String, Json>) -> String),
}

struct Accumulated {
    groups: HashMap<String, Group>,
    keys: BTreeMap<String, HashMap<String, usize>>,
    exemplars: Vec<MetricExemplar>,
    points_read: usize,
    truncated: bool,
}

/// A point read and kept: its time, its protobuf, its attribute set's entry, and how many rows
/// of its stream it stands for (a cumulative stream's last row of a bucket stands for all).
struct Point {
    time: i64,
    bucket: Option<usize>,
    blob: Vec<u8>,
    set: Rc<SetEntry>,
    rows: usize,
    /// The stored copy of its value (sums) or count (distributions), to see a reset without
    /// decoding the point.
    level: Option<f64>,
}

/// One attribute set as the accumulation uses it: parsed once, with the group it goes to.
struct SetEntry {
    attrs: Map<String, Json>,
    group: String,
    group_attrs: Map<String, Json>,
}

/// What adds points into groups, for one metric row (stream state) of one question.
struct Sink<'a> {
    acc: &'a mut Accumulated,
    previous: HashMap<(Rc<str>, i64), Previous>,
    kind: &'a str,
    buckets: usize,
    distribution: bool,
    rate: bool,
    cumulative: bool,
    to_delta: bool,
    /// Where the points read start (the baseline before the range included): a stream first
    /// seen after this that started before it has no point to take its first delta from.
    read_from: i64,
}

impl Sink<'_> {
    fn apply(&mut self, stream: (Rc<str>, i64), p: Point) -> Result<()> {
        let mut sink = Vec::new();
        let exemplars = if p.bucket.is_some() {
            &mut self.acc.exemplars
        } else {
            &mut sink
        };
        let Some(reading) = decode(self.kind, &p.blob, exemplars)? else {
            return Ok(());
        };
        // A level to report: a gauge's, an up-down sum's, a cumulative count's (a delta
        // count's last value is only its last interval's).
        let raw_last = match &reading {
            Reading::Number(v) if self.cumulative || !self.rate => Some(*v),
            _ => None,
        };
        // A cumulative count becomes the change since the stream's previous point (an up-down
        // sum is a level, taken as it is).
        let reading = if self.to_delta {
            let prev = self.previous.get(&stream);
            // Without a point before it, a stream that started before the points read has a
            // running total, not a change: it is only the baseline for the next point.
            let delta = if prev.is_none() && stream.1 < self.read_from {
                None
            } else {
                delta_of(prev, &reading)
            };
            self.previous.insert(stream, remember(&reading));
            delta
        } else {
            Some(reading)
        };
        let Some(bucket) = p.bucket else {
            return Ok(()); // the baseline before the range
        };
        if self.acc.keys.len() < 200 {
            for (k, v) in &p.set.attrs {
                let values = self.acc.keys.entry(k.clone()).or_default();
                if values.len() < MAX_ATTRIBUTE_SETS {
                    *values.entry(value_text(v)).or_default() += p.rows;
                }
            }
        }
        let (buckets, distribution) = (self.buckets, self.distribution);
        // Past [`MAX_GROUPS`] series, new ones are summed as one.
        let other =
            !self.acc.groups.contains_key(&p.set.group) && self.acc.groups.len() >= MAX_GROUPS;
        let (key, attributes) = if other {
            ("other".to_owned(), Map::new())
        } else {
            (p.set.group.clone(), p.set.group_attrs.clone())
        };
        let g = self.acc.groups.entry(key).or_insert_with(|| Group {
            attributes,
            values: vec![(0.0, 0); buckets],
            dists: if distribution {
                vec![Dist::default(); buckets]
            } else {
                Vec::new()
            },
            means: vec![(0.0, 0); buckets],
            ..Group::default()
        });
        g.points += p.rows;
        if let Some(v) = raw_last {
            if g.last.is_none_or(|(t, _)| t <= p.time) {
                g.last = Some((p.time, v));
            }
        }
        let Some(reading) = reading else {
            return Ok(());
        };
        match reading {
            Reading::Number(v) => {
                let slot = &mut g.values[bucket];
                slot.0 += v;
                slot.1 = if self.rate { 1 } else { slot.1 + 1 };
            }
            Reading::Dist {
                ranges,
                count,
                sum,
                min,
                max,
            } => {
                let d = &mut g.dists[bucket];
                for (lo, hi, n) in ranges {
                    d.add_range(lo, hi, n);
                }
                d.count = d.count.saturating_add(count);
                d.sum += sum;
                d.min = min_opt(d.min, min);
                d.max = max_opt(d.max, max);
                g.means[bucket].0 += sum;
                g.means[bucket].1 = g.means[bucket].1.saturating_add(count);
                g.values[bucket].0 += count as f64;
                g.values[bucket].1 = 1;
            }
            Reading::Summary {
                count,
                sum,
                quantiles,
            } => {
                for (q, v) in quantiles {
                    let line = g
                        .summary
                        .entry(OrdF64(q))
                        .or_insert_with(|| vec![(0.0, 0); buckets]);
                    line[bucket].0 += v;
                    line[bucket].1 += 1;
                }
                g.means[bucket].0 += sum;
                g.means[bucket].1 = g.means[bucket].1.saturating_add(count);
                g.values[bucket].0 += count as f64;
                g.values[bucket].1 = 1;
            }
        }
        Ok(())
    }
}

/// The group an attribute set goes to, and what the group has in common.
fn group_of(grouping: &Grouping, attrs: &Map<String, Json>) -> (String, Map<String, Json>) {
    match grouping {
        Grouping::EachSet => (label_of(attrs), attrs.clone()),
        Grouping::All => ("all".to_owned(), Map::new()),
        Grouping::ByKey(k) => {
            let mut m = Map::new();
            match attrs.get(*k) {
                Some(val) => {
                    m.insert((*k).to_owned(), val.clone());
                    let v = value_text(val);
                    (
                        if v.is_empty() {
                            format!("{k} not set")
                        } else {
                            v
                        },
                        m,
                    )
                }
                None => (format!("{k} not set"), m),
            }
        }
        Grouping::By(f) => (f(attrs), Map::new()),
    }
}

/// Reads the points of `metric_ids` (all of `kind`) in range and sums them into groups.
///
/// The points of a cumulative stream are only decoded as the last of their bucket: the deltas
/// between the points of one bucket add up to the delta between its last point and the last
/// point before it, so one point a stream a bucket is enough (a 24-hour chart of 10-second
/// exports decodes one point in 72). Exemplars then come from those points only.
#[allow(clippy::too_many_arguments)]
fn accumulate(
    conn: &Connection,
    metric_ids: &[(i64, i32, bool)],
    kind: &str,
    from_ns: i64,
    step: i64,
    buckets: usize,
    grouping: &Grouping,
    filters: &[(String, String)],
) -> Result<Accumulated> {
    let to_ns = from_ns.saturating_add(step.saturating_mul(buckets as i64));
    let mut acc = Accumulated {
        groups: HashMap::new(),
        keys: BTreeMap::new(),
        exemplars: Vec::new(),
        points_read: 0,
        truncated: false,
    };
    // Attribute sets by their text, parsed once with their group; beyond the bound, new sets
    // are still parsed, just not kept.
    let mut sets: HashMap<Rc<str>, Rc<SetEntry>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT time_unix_nano, start_time_unix_nano, attributes, point, coalesce(value, count)
           FROM metric_points
          WHERE metric_id = ?1 AND time_unix_nano >= ?2 AND time_unix_nano < ?3
          ORDER BY time_unix_nano, id",
    )?;
    let distribution = matches!(kind, "histogram" | "exponential_histogram");
    for &(id, temporality_code, monotonic) in metric_ids {
        let cumulative = temporality_code == 2;
        let rate = kind == "sum" && monotonic;
        // Summaries are cumulative by definition (OTLP carries no temporality for them).
        let to_delta = (cumulative && (monotonic || kind != "sum")) || kind == "summary";
        let read_from = from_ns.saturating_sub(step.max(BASELINE_LOOKBACK_NS));
        let mut pending: HashMap<(Rc<str>, i64), Point> = HashMap::new();
        let mut sink = Sink {
            acc: &mut acc,
            previous: HashMap::new(),
            kind,
            buckets,
            distribution,
            rate,
            cumulative,
            to_delta,
            read_from,
        };
        let mut rows = stmt.query(rusqlite::params![id, read_from, to_ns])?;
        while let Some(r) = rows.next()? {
            if sink.acc.points_read >= CHART_READ_LIMIT {
                sink.acc.truncated = true;
                break;
            }
            sink.acc.points_read += 1;
            let time: i64 = r.get(0)?;
            let start: i64 = r.get(1)?;
            let text = r
                .get_ref(2)?
                .as_str()
                .map_err(|e| corrupt("point attributes", e))?;
            let (text, set) = match sets.get_key_value(text) {
                Some((t, e)) => (t.clone(), e.clone()),
                None => {
                    let attrs = match parse_json(text) {
                        Json::Object(m) => m,
                        _ => Map::new(),
                    };
                    let (group, group_attrs) = group_of(grouping, &attrs);
                    let entry = Rc::new(SetEntry {
                        attrs,
                        group,
                        group_attrs,
                    });
                    let t: Rc<str> = Rc::from(text);
                    if sets.len() < MAX_ATTRIBUTE_SETS {
                        sets.insert(t.clone(), entry.clone());
                    }
                    (t, entry)
                }
            };
            if !filters
                .iter()
                .all(|(k, v)| set.attrs.get(k).map(value_text).as_deref() == Some(v.as_str()))
            {
                continue;
            }
            let point = Point {
                time,
                bucket: (time >= from_ns)
                    .then(|| (((time - from_ns) / step.max(1)) as usize).min(buckets - 1)),
                blob: r.get(3)?,
                set,
                rows: 1,
                level: r.get(4)?,
            };
            let stream = (text, start);
            if !to_delta {
                sink.apply(stream, point)?;
                continue;
            }
            match pending.get_mut(&stream) {
                // A later point of the same bucket supersedes the one kept, unless the stream
                // went down in between (a reset): then the kept one's change counts first.
                Some(kept) if kept.bucket == point.bucket => {
                    if point
                        .level
                        .zip(kept.level)
                        .is_some_and(|(now, was)| now < was)
                    {
                        let done = std::mem::replace(kept, point);
                        sink.apply(stream, done)?;
                    } else {
                        let rows = kept.rows + 1;
                        *kept = point;
                        kept.rows = rows;
                    }
                }
                Some(_) => {
                    if let Some(done) = pending.insert(stream.clone(), point) {
                        sink.apply(stream, done)?;
                    }
                }
                None => {
                    pending.insert(stream, point);
                }
            }
        }
        for (stream, point) in pending {
            sink.apply(stream, point)?;
        }
        if acc.truncated {
            break;
        }
    }
    Ok(acc)
}

fn reading_clone(r: &Reading) -> Reading {
    match r {
        Reading::Number(v) => Reading::Number(*v),
        Reading::Dist {
            ranges,
            count,
            sum,
            min,
            max,
        } => Reading::Dist {
            ranges: ranges.clone(),
            count: *count,
            sum: *sum,
            min: *min,
            max: *max,
        },
        Reading::Summary {
            count,
            sum,
            quantiles,
        } => Reading::Summary {
            count: *count,
            sum: *sum,
            quantiles: quantiles.clone(),
        },
    }
}

fn remember(r: &Reading) -> Previous {
    match r {
        Reading::Number(v) => Previous::Number(*v),
        Reading::Dist {
            ranges, count, sum, ..
        } => Previous::Dist(ranges.clone(), *count, *sum),
        Reading::Summary { count, sum, .. } => Previous::Summary(*count, *sum),
    }
}

/// The change from `prev` to `now` within one cumulative stream; a first point, or one that
/// went down (a reset), counts whole. Min and max of a cumulative point cover its whole life,
/// so they still bound the delta's (no observation of the delta is below the life's min or
/// above its max): they are kept as bounds. Summaries' quantiles are kept as reported.
fn delta_of(prev: Option<&Previous>, now: &Reading) -> Option<Reading> {
    match (prev, now) {
        (Some(Previous::Number(p)), Reading::Number(v)) if v >= p => Some(Reading::Number(v - p)),
        (
            Some(Previous::Dist(pr, pc, ps)),
            Reading::Dist {
                ranges,
                count,
                sum,
                min,
                max,
            },
        ) if count >= pc => match subtract(pr, ranges) {
            Some(ranges) => Some(Reading::Dist {
                ranges,
                count: count - pc,
                sum: sum - ps,
                min: *min,
                max: *max,
            }),
            // Fewer observations in a range than before: the stream was reset.
            None => Some(reading_clone(now)),
        },
        (
            Some(Previous::Summary(pc, ps)),
            Reading::Summary {
                count,
                sum,
                quantiles,
            },
        ) if count >= pc => Some(Reading::Summary {
            count: count - pc,
            sum: sum - ps,
            quantiles: quantiles.clone(),
        }),
        (_, r) => Some(reading_clone(r)),
    }
}

/// `now − prev` range by range. Bounds may have moved between the two points (an exponential
/// histogram grows its range or lowers its scale as values arrive): each range of `prev` is
/// taken from the range of `now` that holds it. `None` when one has nowhere to go or would go
/// below zero (a reset).
fn subtract(prev: &[(f64, f64, u64)], now: &[(f64, f64, u64)]) -> Option<Vec<(f64, f64, u64)>> {
    let by =
        |a: &(f64, f64, u64), b: &(f64, f64, u64)| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1));
    let mut out = now.to_vec();
    out.sort_by(by);
    let mut before = prev.to_vec();
    before.sort_by(by);
    // Bounds computed at two scales differ in their last bits.
    let le = |a: f64, b: f64| a <= b || (b.is_finite() && a <= b + b.abs() * 1e-9);
    let mut j = 0;
    for (lo, hi, n) in before {
        if n == 0 {
            continue;
        }
        while j < out.len() && !le(hi, out[j].1) {
            j += 1;
        }
        let slot = out.get_mut(j)?;
        if !(le(slot.0, lo) && le(hi, slot.1)) {
            return None;
        }
        slot.2 = slot.2.checked_sub(n)?;
    }
    Some(out)
}

/// One metric row: a stream of the instrument from one resource and scope.
struct MetricStream {
    id: i64,
    kind: String,
    temporality: i32,
    monotonic: bool,
    description: String,
    unit: String,
    service: Option<String>,
}

/// The metric rows of one instrument, of the kind most of its points have.
fn instrument_rows(
    conn: &Connection,
    name: &str,
    service: Option<&str>,
) -> Result<Vec<MetricStream>> {
    conn.prepare_cached(
        "SELECT id, type, aggregation_temporality, is_monotonic, description, unit, service_name
           FROM metrics WHERE name = ?1 AND (?2 IS NULL OR service_name IS ?2) AND type IS NOT NULL
          ORDER BY id",
    )?
    .query_map(rusqlite::params![name, service], |r| {
        Ok(MetricStream {
            id: r.get(0)?,
            kind: r.get(1)?,
            temporality: r.get(2)?,
            monotonic: r.get(3)?,
            description: r.get(4)?,
            unit: r.get(5)?,
            service: r.get(6)?,
        })
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

/// Points looked at to tell how often a stream is exported.
const INTERVAL_SAMPLE: i64 = 64;

/// How often the instrument is exported (the median gap between the times of its first points
/// in range): a bucket narrower than that would hold a point every other bucket, and a rate
/// divided by the bucket's width would read twice too high in one and nothing in the next.
fn export_interval(
    conn: &Connection,
    ids: &[(i64, i32, bool)],
    from_ns: i64,
    to_ns: i64,
) -> Result<Option<i64>> {
    let Some(&(id, _, _)) = ids.first() else {
        return Ok(None);
    };
    let times: Vec<i64> = conn
        .prepare_cached(
            "SELECT DISTINCT time_unix_nano FROM metric_points
              WHERE metric_id = ?1 AND time_unix_nano BETWEEN ?2 AND ?3
              ORDER BY time_unix_nano LIMIT ?4",
        )?
        .query_map(
            rusqlite::params![id, from_ns, to_ns, INTERVAL_SAMPLE],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut gaps: Vec<i64> = times
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|g| *g > 0)
        .collect();
    gaps.sort_unstable();
    Ok(gaps.get(gaps.len() / 2).copied())
}

/// The chart's grid: `asked` buckets over the range, made wider (and fewer) when the
/// instrument is exported less often than a bucket lasts.
fn grid(
    conn: &Connection,
    ids: &[(i64, i32, bool)],
    from_ns: i64,
    to_ns: i64,
    asked: usize,
) -> Result<(i64, usize)> {
    let asked = asked.clamp(1, MAX_BUCKETS);
    let step = step_for(from_ns, to_ns, asked);
    let step = match export_interval(conn, ids, from_ns, to_ns)? {
        Some(every) if every > step => every,
        _ => return Ok((step, asked)),
    };
    let span = to_ns.saturating_sub(from_ns).max(1);
    let buckets = ((span / step) + i64::from(span % step != 0)).clamp(1, asked as i64) as usize;
    Ok((step, buckets))
}

/// The bucket width for `buckets` buckets over `[from_ns, to_ns]`, at least a millisecond.
fn step_for(from_ns: i64, to_ns: i64, buckets: usize) -> i64 {
    let span = to_ns.saturating_sub(from_ns).max(1);
    (span / buckets.max(1) as i64 + i64::from(span % buckets.max(1) as i64 != 0)).max(1_000_000)
}

/// One instrument's chart; `None` when nothing by that name (and service) is stored.
pub fn metric_chart(conn: &Connection, q: &MetricQuery) -> Result<Option<MetricChart>> {
    let rows = instrument_rows(conn, &q.name, q.service.as_deref())?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let kind = first.kind.clone();
    let ids: Vec<(i64, i32, bool)> = rows
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| (r.id, r.temporality, r.monotonic))
        .collect();
    let (step, buckets) = grid(conn, &ids, q.from_ns, q.to_ns, q.buckets)?;
    let distribution = matches!(kind.as_str(), "histogram" | "exponential_histogram");
    let grouping = match (&q.group_by, distribution || kind == "summary") {
        (Some(k), _) => Grouping::ByKey(k),
        (None, true) if kind != "summary" => Grouping::All,
        _ => Grouping::EachSet,
    };
    let acc = accumulate(
        conn, &ids, &kind, q.from_ns, step, buckets, &grouping, &q.filters,
    )?;
    let step_s = step as f64 / 1e9;
    let monotonic_sum = kind == "sum" && first.monotonic;
    let measure = match kind.as_str() {
        "gauge" => "average",
        "sum" if monotonic_sum => "per second",
        "sum" => "average",
        _ => "observations per second",
    };
    let mut heat = Dist::default();
    let mut heat_buckets: Vec<Dist> = vec![Dist::default(); if distribution { buckets } else { 0 }];
    let mut series: Vec<ChartSeries> = acc
        .groups
        .into_iter()
        .map(|(label, g)| {
            let is_rate = monotonic_sum || distribution || kind == "summary";
            let values: Vec<Option<f64>> = g
                .values
                .iter()
                .map(|&(s, n)| match (n, is_rate) {
                    (0, _) => None,
                    (_, true) => Some(s / step_s),
                    (n, false) => Some(s / n as f64),
                })
                .collect();
            let total = if is_rate {
                Some(g.values.iter().map(|v| v.0).sum())
            } else {
                let (s, n) = g
                    .values
                    .iter()
                    .fold((0.0, 0u32), |(s, n), v| (s + v.0, n + v.1));
                (n > 0).then(|| s / n as f64)
            };
            let mut quantiles = Vec::new();
            if distribution {
                let mut all = Dist::default();
                for (i, d) in g.dists.iter().enumerate() {
                    all.merge(d);
                    heat_buckets[i].merge(d);
                }
                heat.merge(&all);
                quantiles = QUANTILES
                    .iter()
                    .map(|&qq| QuantileLine {
                        quantile: qq,
                        values: g.dists.iter().map(|d| d.quantile(qq)).collect(),
                        overall: all.quantile(qq),
                    })
                    .collect();
            } else if kind == "summary" {
                quantiles = g
                    .summary
                    .iter()
                    .map(|(qq, line)| {
                        let (s, n) = line
                            .iter()
                            .fold((0.0, 0u32), |(s, n), v| (s + v.0, n + v.1));
                        QuantileLine {
                            quantile: qq.0,
                            values: line
                                .iter()
                                .map(|&(s, n)| (n > 0).then(|| s / n as f64))
                                .collect(),
                            overall: (n > 0).then(|| s / n as f64),
                        }
                    })
                    .collect();
            }
            let means = if distribution || kind == "summary" {
                g.means
                    .iter()
                    .map(|&(s, n)| (n > 0).then(|| s / n as f64))
                    .collect()
            } else {
                Vec::new()
            };
            ChartSeries {
                label,
                attributes: Json::Object(g.attributes),
                values,
                quantiles,
                means,
                total,
                last: g.last.map(|(_, v)| v),
                point_count: g.points,
            }
        })
        .collect();
    series.sort_by(|a, b| {
        b.point_count
            .cmp(&a.point_count)
            .then_with(|| a.label.cmp(&b.label))
    });
    let series_count = series.len();
    series.truncate(MAX_SERIES);
    let mut attribute_keys: Vec<AttributeKey> = acc
        .keys
        .into_iter()
        .map(|(key, values)| {
            let value_count = values.len();
            let mut v: Vec<(String, usize)> = values.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            AttributeKey {
                key,
                values: v.into_iter().take(MAX_KEY_VALUES).map(|(s, _)| s).collect(),
                value_count,
            }
        })
        .collect();
    attribute_keys.sort_by(|a, b| a.key.cmp(&b.key));
    let heatmap = if distribution {
        heat_rows(&heat, &heat_buckets)
    } else {
        Vec::new()
    };
    let mut exemplars = acc.exemplars;
    exemplars.sort_by_key(|e| std::cmp::Reverse(e.time_unix_nano.parse::<u64>().unwrap_or(0)));
    exemplars.truncate(MAX_EXEMPLARS);
    let instrument = Instrument {
        name: q.name.clone(),
        service_name: q.service.clone().or_else(|| first.service.clone()),
        description: first.description.clone(),
        unit: first.unit.clone(),
        kind: kind.clone(),
        temporality: temporality(first.temporality).into(),
        monotonic: first.monotonic,
        point_count: acc.points_read as i64,
        last_unix_nano: None,
    };
    Ok(Some(MetricChart {
        instrument,
        measure: measure.into(),
        from_unix_nano: q.from_ns.to_string(),
        step_nano: step.to_string(),
        buckets,
        series,
        series_count,
        attribute_keys,
        heatmap,
        exemplars,
        points_read: acc.points_read,
        truncated: acc.truncated,
    }))
}

/// Heatmap rows from the ranges observed: as they are when few, else merged into log-spaced
/// rows (positive values) or even rows.
fn heat_rows(all: &Dist, per_bucket: &[Dist]) -> Vec<HeatRow> {
    let ranges: Vec<(f64, f64)> = all.ranges.iter().map(|(u, (l, _))| (*l, u.0)).collect();
    if ranges.is_empty() {
        return Vec::new();
    }
    let rows: Vec<(f64, f64)> = if ranges.len() <= MAX_HEATMAP_ROWS {
        ranges
    } else {
        let finite = |v: f64| v.is_finite();
        let lo = ranges
            .iter()
            .flat_map(|r| [r.0, r.1])
            .filter(|v| finite(*v))
            .fold(f64::INFINITY, f64::min);
        let hi = ranges
            .iter()
            .flat_map(|r| [r.0, r.1])
            .filter(|v| finite(*v))
            .fold(f64::NEG_INFINITY, f64::max);
        let n = MAX_HEATMAP_ROWS;
        if lo > 0.0 && hi > lo {
            let ratio = (hi / lo).powf(1.0 / n as f64);
            (0..n)
                .map(|i| (lo * ratio.powi(i as i32), lo * ratio.powi(i as i32 + 1)))
                .collect()
        } else {
            let w = (hi - lo).max(f64::MIN_POSITIVE) / n as f64;
            (0..n)
                .map(|i| (lo + w * i as f64, lo + w * (i as f64 + 1.0)))
                .collect()
        }
    };
    let row_of = |lower: f64, upper: f64| -> usize {
        // A range goes to the row holding its upper bound (its lower if the upper is open).
        if let Some(i) = rows.iter().position(|r| r.0 == lower && r.1 == upper) {
            return i;
        }
        if upper.is_finite() {
            rows.iter().position(|r| upper <= r.1)
        } else {
            // An open range starts at `lower`: the row above it, not the one ending there.
            rows.iter().position(|r| lower < r.1)
        }
        .unwrap_or(rows.len() - 1)
    };
    let mut out: Vec<HeatRow> = rows
        .iter()
        .map(|&(l, u)| HeatRow {
            lower: l.is_finite().then_some(l),
            upper: u.is_finite().then_some(u),
            counts: vec![0; per_bucket.len()],
        })
        .collect();
    for (b, d) in per_bucket.iter().enumerate() {
        for (u, (l, n)) in &d.ranges {
            let cell = &mut out[row_of(*l, u.0)].counts[b];
            *cell = cell.saturating_add(*n);
        }
    }
    out
}

/// Is this HTTP server observation a failure (5xx, or an `error.type`)?
fn http_failed(attrs: &Map<String, Json>) -> bool {
    if attrs.get("error.type").is_some_and(|v| !v.is_null()) {
        return true;
    }
    ["http.response.status_code", "http.status_code"]
        .iter()
        .filter_map(|k| attrs.get(*k))
        .any(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .is_some_and(|c| c >= 500)
        })
}

/// Per service, the HTTP server's requests over `[from_ns, to_ns]` from its duration histogram.
pub fn service_http(
    conn: &Connection,
    from_ns: i64,
    to_ns: i64,
    buckets: usize,
) -> Result<Vec<ServiceHttp>> {
    let services: Vec<(Option<String>, String)> = conn
        .prepare_cached(
            "SELECT DISTINCT service_name, name FROM metrics
              WHERE name IN (?1, ?2) AND type IN ('histogram', 'exponential_histogram')
              ORDER BY service_name, name = ?1 DESC",
        )?
        .query_map([HTTP_SERVER_DURATION, HTTP_SERVER_DURATION_OLD], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<ServiceHttp> = Vec::new();
    for (service, name) in services {
        let Some(service) = service else { continue };
        // The current name wins over the old one for a service that sends both.
        if out.iter().any(|s| s.service_name == service) {
            continue;
        }
        let rows = instrument_rows(conn, &name, Some(&service))?;
        let Some(first) = rows.first() else { continue };
        let kind = first.kind.clone();
        let ids: Vec<(i64, i32, bool)> = rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| (r.id, r.temporality, r.monotonic))
            .collect();
        let classify = |a: &Map<String, Json>| {
            if http_failed(a) {
                "error".to_owned()
            } else {
                "ok".to_owned()
            }
        };
        let (step, buckets) = grid(conn, &ids, from_ns, to_ns, buckets)?;
        let acc = accumulate(
            conn,
            &ids,
            &kind,
            from_ns,
            step,
            buckets,
            &Grouping::By(&classify),
            &[],
        )?;
        let mut all = Dist::default();
        let mut trend = vec![0.0; buckets];
        let mut failed = 0u64;
        for (label, g) in &acc.groups {
            for (i, d) in g.dists.iter().enumerate() {
                all.merge(d);
                trend[i] += d.count as f64;
            }
            if label == "error" {
                failed = g
                    .dists
                    .iter()
                    .fold(failed, |t, d| t.saturating_add(d.count));
            }
        }
        if all.count == 0 && acc.groups.is_empty() {
            continue;
        }
        // The old instrument is in milliseconds.
        let scale = if first.unit == "ms" || name == HTTP_SERVER_DURATION_OLD {
            1e-3
        } else {
            1.0
        };
        let span_s = (to_ns.saturating_sub(from_ns).max(1)) as f64 / 1e9;
        let step_s = step as f64 / 1e9;
        out.push(ServiceHttp {
            service_name: service,
            requests: all.count as f64,
            per_second: all.count as f64 / span_s,
            error_rate: if all.count > 0 {
                failed as f64 / all.count as f64
            } else {
                0.0
            },
            p95_seconds: all.quantile(0.95).map(|v| v * scale),
            trend: trend.iter().map(|&c| Some(c / step_s)).collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;

    fn dist(bounds: &[f64], counts: &[u64]) -> Dist {
        let mut d = Dist::default();
        for (l, u, n) in explicit_ranges(bounds, counts) {
            d.add_range(l, u, n);
        }
        d.count = counts.iter().fold(0u64, |t, n| t.saturating_add(*n));
        d
    }

    #[test]
    fn percentiles_interpolate_inside_buckets() {
        // 100 observations: 50 in (0, 10], 40 in (10, 20], 10 in (20, 40].
        let d = dist(&[10.0, 20.0, 40.0], &[50, 40, 10, 0]);
        assert_eq!(d.quantile(0.5), Some(10.0));
        assert_eq!(d.quantile(0.7), Some(15.0));
        assert_eq!(d.quantile(0.95), Some(30.0));
        // Overflow only: the open bucket is closed by the last bound, or by max when known.
        let mut over = dist(&[10.0], &[0, 4]);
        assert_eq!(over.quantile(0.5), Some(10.0));
        over.max = Some(30.0);
        assert_eq!(over.quantile(0.5), Some(20.0));
        assert_eq!(Dist::default().quantile(0.5), None);
    }

    #[test]
    fn exponential_buckets_cover_their_ranges() {
        // Scale 0: base 2, bucket i is (2^i, 2^(i+1)].
        let p = ExponentialHistogramDataPoint {
            scale: 0,
            zero_count: 1,
            positive: Some(Buckets {
                offset: 1,
                bucket_counts: vec![3, 0, 2],
            }),
            negative: Some(Buckets {
                offset: 0,
                bucket_counts: vec![1],
            }),
            ..Default::default()
        };
        let r = exponential_ranges(&p);
        assert_eq!(
            r,
            vec![
                (-2.0, -1.0, 1),
                (0.0, 0.0, 1),
                (2.0, 4.0, 3),
                (4.0, 8.0, 0),
                (8.0, 16.0, 2)
            ]
        );
    }

    #[test]
    fn cumulative_points_become_deltas_and_resets_count_whole() {
        let prev = Previous::Number(10.0);
        assert!(
            matches!(delta_of(Some(&prev), &Reading::Number(15.0)), Some(Reading::Number(v)) if v == 5.0)
        );
        // Went down: a reset, the new value is all since the new start.
        assert!(
            matches!(delta_of(Some(&prev), &Reading::Number(3.0)), Some(Reading::Number(v)) if v == 3.0)
        );
        let before = Previous::Dist(explicit_ranges(&[1.0], &[2, 1]), 3, 4.0);
        let now = Reading::Dist {
            ranges: explicit_ranges(&[1.0], &[5, 1]),
            count: 6,
            sum: 7.0,
            min: Some(0.1),
            max: Some(9.0),
        };
        match delta_of(Some(&before), &now) {
            Some(Reading::Dist {
                ranges,
                count,
                sum,
                min,
                ..
            }) => {
                assert_eq!(ranges.iter().map(|r| r.2).collect::<Vec<_>>(), vec![3, 0]);
                // The life's min and max still bound the delta.
                assert_eq!((count, sum, min), (3, 3.0, Some(0.1)));
            }
            _ => panic!("not a distribution"),
        }
    }

    #[test]
    fn a_cumulative_exponential_histogram_that_rescales_still_gives_its_change() {
        // Scale 1 → 0: (1, √2], (√2, 2] merge into (1, 2]; the new point also reaches (2, 4].
        let s2 = 2f64.sqrt();
        let before = Previous::Dist(vec![(1.0, s2, 3), (s2, 2.0, 2)], 5, 7.0);
        let now = Reading::Dist {
            ranges: vec![(1.0, 2.0, 6), (2.0, 4.0, 4)],
            count: 10,
            sum: 20.0,
            min: None,
            max: None,
        };
        match delta_of(Some(&before), &now) {
            Some(Reading::Dist { ranges, count, .. }) => {
                assert_eq!(count, 5);
                assert_eq!(ranges, vec![(1.0, 2.0, 1), (2.0, 4.0, 4)]);
            }
            _ => panic!("not a distribution"),
        }
        // A range that lost observations: a reset, the new point counts whole.
        let fewer = Reading::Dist {
            ranges: vec![(1.0, 2.0, 4), (2.0, 4.0, 9)],
            count: 13,
            sum: 30.0,
            min: None,
            max: None,
        };
        assert!(matches!(
            delta_of(Some(&before), &fewer),
            Some(Reading::Dist { count: 13, .. })
        ));
        // Explicit bounds with the open first bucket.
        let b = Previous::Dist(explicit_ranges(&[1.0], &[2, 1]), 3, 0.0);
        let n = Reading::Dist {
            ranges: explicit_ranges(&[1.0], &[3, 1]),
            count: 4,
            sum: 0.0,
            min: None,
            max: None,
        };
        assert!(matches!(
            delta_of(Some(&b), &n),
            Some(Reading::Dist { count: 1, .. })
        ));
    }

    #[test]
    fn the_overflow_bucket_has_its_own_heatmap_row() {
        let d = dist(&[10.0, 20.0, 40.0], &[50, 40, 10, 5]);
        let rows = heat_rows(&d, std::slice::from_ref(&d));
        let last = rows.last().unwrap();
        assert_eq!(
            (last.lower, last.upper, last.counts[0]),
            (Some(40.0), None, 5)
        );
        assert_eq!(rows.iter().map(|r| r.counts[0]).sum::<u64>(), 105);
    }

    #[test]
    fn hostile_points_are_bounded() {
        let many: Vec<(f64, f64, u64)> = (0..100_000)
            .map(|i| (i as f64, i as f64 + 1.0, 1))
            .collect();
        let c = capped(many);
        assert!(c.len() <= MAX_POINT_RANGES);
        assert_eq!(c.iter().map(|r| r.2).sum::<u64>(), 100_000);
        let huge = dist(&[1.0], &[u64::MAX, u64::MAX]);
        assert!(huge.quantile(0.99).is_some());
    }

    #[test]
    fn http_failures_are_5xx_or_an_error_type() {
        let m = |j: Json| j.as_object().unwrap().clone();
        assert!(http_failed(&m(
            serde_json::json!({"http.response.status_code": 503})
        )));
        assert!(http_failed(&m(
            serde_json::json!({"error.type": "timeout"})
        )));
        assert!(!http_failed(&m(
            serde_json::json!({"http.response.status_code": 404})
        )));
        assert!(!http_failed(&m(serde_json::json!({}))));
    }

    #[test]
    fn many_ranges_merge_into_a_bounded_heatmap() {
        let mut all = Dist::default();
        let mut one = Dist::default();
        for i in 0..500 {
            let lo = 1.0 + i as f64;
            one.add_range(lo, lo + 1.0, 1);
        }
        all.merge(&one);
        let rows = heat_rows(&all, &[one]);
        assert_eq!(rows.len(), MAX_HEATMAP_ROWS);
        assert_eq!(rows.iter().map(|r| r.counts[0]).sum::<u64>(), 500);
    }
}
