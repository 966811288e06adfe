//! The Metrics view's questions on a day of metrics: 8 services each exporting every 10 s for
//! 24 hours a cumulative `http.server.request.duration` histogram (15 buckets) over 6 routes and
//! 3 status codes (18 series), and a delta counter over the same attributes — 2.49M points in
//! all, as a busy local stack would leave. Timed through the API (release engine):
//! the instrument list, one service's histogram over the last hour and the whole day (the day
//! reads 155,520 points, within `CHART_READ_LIMIT`), grouped by route, filtered on two
//! attributes, the counter, and the Services view's HTTP summary over the hour and the day.
//!
//!     cargo bench --bench metrics -- [--rounds 20]

use std::time::Instant;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sightline_tests::Engine;
use workload::summary;

#[allow(dead_code)]
mod workload;

const SERVICES: usize = 8;
const ROUTES: [&str; 6] = [
    "/api/cart",
    "/api/products",
    "/api/checkout",
    "/api/promo",
    "/api/orders",
    "/health",
];
const STATUSES: [i64; 3] = [200, 404, 500];
const EVERY_S: u64 = 10;
const DAY_S: u64 = 24 * 3600;
const BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

fn kv(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

/// One export of one service at `t` (s after the start): its running histograms and the
/// interval's counts.
fn export(service: usize, start_ns: u64, t: u64) -> Vec<u8> {
    let now = start_ns + t * 1_000_000_000;
    let mut hist = Vec::new();
    let mut sums = Vec::new();
    for (r, route) in ROUTES.iter().enumerate() {
        for (c, code) in STATUSES.iter().enumerate() {
            let attrs = vec![
                kv("http.route", any_value::Value::StringValue((*route).into())),
                kv(
                    "http.response.status_code",
                    any_value::Value::IntValue(*code),
                ),
            ];
            // A rate per series that differs by route and code; a running total since start.
            let per_export = (1 + r as u64 * 2 + (2 - c as u64) * 3) * (1 + service as u64 % 3);
            let n = per_export * (t / EVERY_S + 1);
            let mut counts = vec![0u64; BOUNDS.len() + 1];
            for (i, slot) in counts.iter_mut().enumerate() {
                *slot = n * (((i + r + c) % 5) as u64 + 1) / 15;
            }
            let count: u64 = counts.iter().sum();
            hist.push(HistogramDataPoint {
                attributes: attrs.clone(),
                start_time_unix_nano: start_ns,
                time_unix_nano: now,
                count,
                sum: Some(count as f64 * 0.08),
                bucket_counts: counts,
                explicit_bounds: BOUNDS.to_vec(),
                ..Default::default()
            });
            sums.push(NumberDataPoint {
                attributes: attrs,
                start_time_unix_nano: now - EVERY_S * 1_000_000_000,
                time_unix_nano: now,
                value: Some(number_data_point::Value::AsInt(per_export as i64)),
                ..Default::default()
            });
        }
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv(
                    "service.name",
                    any_value::Value::StringValue(format!("svc-{service}")),
                )],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "http.server.request.duration".into(),
                        unit: "s".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: hist,
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "http.server.requests".into(),
                        unit: "{request}".into(),
                        data: Some(metric::Data::Sum(Sum {
                            data_points: sums,
                            aggregation_temporality: 1,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let rounds: usize = argv
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let e = Engine::start();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let start_ns = (now_ms - DAY_S * 1000) * 1_000_000;
    let loading = Instant::now();
    let mut points = 0usize;
    // Several services' exports in one request, as a collector batches them.
    for t in (0..DAY_S).step_by(EVERY_S as usize) {
        for service in 0..SERVICES {
            e.post_protobuf("/v1/metrics", export(service, start_ns, t));
            points += ROUTES.len() * STATUSES.len() * 2;
        }
    }
    println!(
        "loaded {points} points in {:.1} s ({:.0} points/s)",
        loading.elapsed().as_secs_f64(),
        points as f64 / loading.elapsed().as_secs_f64()
    );
    let hour = format!("fromMs={}&toMs={now_ms}", now_ms - 3_600_000);
    let day = format!("fromMs={}&toMs={now_ms}", now_ms - DAY_S * 1000);
    let questions = [
        ("instrument list, 24 h", format!("/api/v1/metrics?{day}")),
        ("histogram, 1 h", format!("/api/v1/metrics/chart?name=http.server.request.duration&service=svc-3&{hour}")),
        ("histogram, 24 h", format!("/api/v1/metrics/chart?name=http.server.request.duration&service=svc-3&{day}")),
        ("histogram by route, 24 h", format!("/api/v1/metrics/chart?name=http.server.request.duration&service=svc-3&groupBy=http.route&{day}")),
        ("histogram, 2 filters, 24 h", format!("/api/v1/metrics/chart?name=http.server.request.duration&service=svc-3&attribute=http.route=/api/checkout&attribute=http.response.status_code=500&{day}")),
        ("histogram, all services, 1 h", format!("/api/v1/metrics/chart?name=http.server.request.duration&{hour}")),
        ("delta counter, 24 h", format!("/api/v1/metrics/chart?name=http.server.requests&service=svc-3&{day}")),
        ("Services' HTTP summary, 1 h", format!("/api/v1/metrics/http-servers?{hour}")),
        ("Services' HTTP summary, 24 h", format!("/api/v1/metrics/http-servers?{day}")),
    ];
    println!("{:<32} {:>9} {:>9}  latency", "question", "points", "bytes");
    for (what, path) in questions {
        let mut ms = Vec::new();
        let mut bytes = 0;
        let mut read = String::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let (status, body) = e.api(&path);
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(status, 200, "{what}: {body}");
            bytes = body.to_string().len();
            read = body["pointsRead"].as_u64().map_or("—".into(), |p| {
                format!("{p}{}", if body["truncated"] == true { "+" } else { "" })
            });
        }
        println!("{what:<32} {read:>9} {bytes:>9}  {}", summary(ms));
    }
}
