//! Metrics as Sightline says them are what the SDKs recorded: the official JS SDK with delta
//! temporality and exponential histograms, the official Rust SDK with cumulative explicit-bucket
//! histograms (the two ways a chart goes wrong: summing cumulative points, or bucket bounds
//! misread), through the API and then the Metrics and Services views in Debian's Chromium. And
//! the chart API refuses what it should, in words.
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use std::path::Path;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::Resource;
use serde_json::Value;
use sightline_tests::{eventually, node_client, Engine};

fn close(actual: &Value, expected: f64, tolerance: f64, what: &str) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    assert!(
        (a - expected).abs() <= expected.abs() * tolerance,
        "{what}: {a}, expected {expected} ± {}%",
        tolerance * 100.0
    );
}

fn quantile(series: &Value, q: f64) -> &Value {
    &series["quantiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| (l["quantile"].as_f64().unwrap() - q).abs() < 1e-9)
        .unwrap_or_else(|| panic!("no p{q} in {series}"))["overall"]
}

fn series<'a>(chart: &'a Value, label: &str) -> &'a Value {
    chart["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == label)
        .unwrap_or_else(|| panic!("no series {label:?} in {chart}"))
}

/// Three exports of a cumulative histogram and counter through the Rust SDK: 40 quick
/// requests, then 10 more, then 10 slow ones. The points say 40, 50, 60 observations; the chart
/// must say 60, not 150.
fn cumulative_workload(e: &Engine) {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(e.otlp_url("/v1/metrics"))
        .build()
        .expect("metric exporter");
    let provider = SdkMeterProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("rust-orders")
                .build(),
        )
        .with_reader(
            PeriodicReader::builder(exporter)
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build();
    let meter = provider.meter("rust-orders-http");
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_boundaries(vec![0.01, 0.05, 0.1, 0.5, 1.0, 5.0])
        .build();
    let orders = meter.u64_counter("orders.placed").build();
    let ok = [KeyValue::new("http.response.status_code", 200)];
    let failed = [
        KeyValue::new("http.response.status_code", 500),
        KeyValue::new("error.type", "500"),
    ];
    for round in 0..3 {
        let (n, value, attrs) = match round {
            0 => (40, 0.03, &ok[..]),
            1 => (10, 0.03, &ok[..]),
            _ => (10, 3.0, &failed[..]),
        };
        for _ in 0..n {
            duration.record(value, attrs);
        }
        orders.add(n, &[]);
        provider.force_flush().expect("metric export");
    }
    provider.shutdown().expect("metric export");
}

/// A cumulative counter that has run since yesterday, exported as an SDK does: its running
/// totals must show as their changes, never as one bucket's rate.
fn long_running_counter(e: &Engine, now_ms: u64) {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue as Kv};
    use opentelemetry_proto::tonic::metrics::v1::{
        metric, number_data_point, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message;
    let ns = |ms: u64| ms * 1_000_000;
    let start = ns(now_ms - 86_400_000);
    // 1,000,000 since yesterday; then a reset (a restart that kept its start time) to 5 and 8.
    let points = [
        (90_000, 1_000_000.0),
        (60_000, 1_000_010.0),
        (40_000, 5.0),
        (20_000, 8.0),
    ];
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![Kv {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("long-runner".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "jobs.done".into(),
                    data: Some(metric::Data::Sum(Sum {
                        aggregation_temporality: 2,
                        is_monotonic: true,
                        data_points: points
                            .iter()
                            .map(|(ago, v)| NumberDataPoint {
                                start_time_unix_nano: start,
                                time_unix_nano: ns(now_ms - ago),
                                value: Some(number_data_point::Value::AsDouble(*v)),
                                ..Default::default()
                            })
                            .collect(),
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/metrics", request.encode_to_vec());
}

#[test]
fn metrics_say_what_the_sdks_recorded() {
    let e = Engine::start();
    let truth = node_client(["metrics-sdk.mjs", &e.otlp_url("")]);
    cumulative_workload(&e);
    eventually("both SDKs' metrics are stored", || {
        let (_, list) = e.api("/api/v1/metrics");
        list["instruments"].as_array().is_some_and(|l| l.len() >= 5)
    });

    // The instruments by service, each with its kind and temporality as sent.
    let (status, list) = e.api("/api/v1/metrics");
    assert_eq!(status, 200, "{list}");
    let find = |service: &str, name: &str| -> Value {
        list["instruments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["serviceName"] == service && i["name"] == name)
            .unwrap_or_else(|| panic!("no {service} {name} in {list}"))
            .clone()
    };
    let js = find("js-checkout", "http.server.request.duration");
    assert_eq!(js["kind"], "exponential_histogram");
    assert_eq!(js["temporality"], "delta");
    assert_eq!(find("js-checkout", "queue.depth")["kind"], "gauge");
    let rust = find("rust-orders", "http.server.request.duration");
    assert_eq!(rust["kind"], "histogram");
    assert_eq!(rust["temporality"], "cumulative");

    // Delta exponential histogram: every observation once, percentiles within the buckets'
    // resolution of the values recorded.
    let (_, chart) = e.api(
        "/api/v1/metrics/chart?name=http.server.request.duration&service=js-checkout&buckets=60",
    );
    assert_eq!(chart["measure"], "observations per second");
    let all = series(&chart, "all");
    assert_eq!(all["total"].as_f64(), truth["requests"].as_f64(), "{all}");
    let (quick, slow) = (
        truth["quick"].as_f64().unwrap(),
        truth["slow"].as_f64().unwrap(),
    );
    close(quantile(all, 0.5), quick, 0.05, "JS p50");
    close(quantile(all, 0.95), slow, 0.05, "JS p95");
    let heat: u64 = chart["heatmap"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["counts"].as_array().unwrap().iter())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(heat, 100, "the heatmap holds every observation once");
    let keys: Vec<&str> = chart["attributeKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"http.route") && keys.contains(&"error.type"),
        "{keys:?}"
    );

    // Grouped by route, filtered by two attributes.
    let (_, grouped) = e.api("/api/v1/metrics/chart?name=http.server.request.duration&service=js-checkout&groupBy=http.route");
    assert_eq!(series(&grouped, "/api/cart")["total"], 90.0);
    assert_eq!(series(&grouped, "/api/checkout")["total"], 10.0);
    let (_, filtered) = e.api("/api/v1/metrics/chart?name=http.server.request.duration&service=js-checkout&attribute=http.route=/api/checkout&attribute=http.response.status_code=503");
    assert_eq!(
        filtered["series"].as_array().unwrap().len(),
        1,
        "{filtered}"
    );
    assert_eq!(filtered["series"][0]["total"], 10.0);
    let (_, none) = e.api("/api/v1/metrics/chart?name=http.server.request.duration&service=js-checkout&attribute=http.route=/api/checkout&attribute=http.response.status_code=200");
    assert_eq!(none["series"], serde_json::json!([]), "{none}");

    // Delta counter and gauge.
    let (_, orders) =
        e.api("/api/v1/metrics/chart?name=orders.placed&service=js-checkout&groupBy=outcome");
    assert_eq!(orders["measure"], "per second");
    assert_eq!(
        series(&orders, "stored")["total"],
        truth["stored"].as_f64().unwrap()
    );
    assert_eq!(
        series(&orders, "failed")["total"],
        truth["failedOrders"].as_f64().unwrap()
    );
    let (_, depth) = e.api("/api/v1/metrics/chart?name=queue.depth&service=js-checkout");
    let depths: Vec<f64> = truth["depths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_f64().unwrap())
        .collect();
    let all_depth = series(&depth, "all");
    close(
        &all_depth["total"],
        depths.iter().sum::<f64>() / depths.len() as f64,
        1e-9,
        "gauge mean",
    );
    assert_eq!(all_depth["last"], *depths.last().unwrap());

    // Cumulative explicit histogram and counter: deltas, not sums of running totals.
    let (_, cumulative) =
        e.api("/api/v1/metrics/chart?name=http.server.request.duration&service=rust-orders");
    let all = series(&cumulative, "all");
    assert_eq!(all["total"], 60.0, "60 requests, not 40 + 50 + 60: {all}");
    // 50 in (0.01, 0.05], 10 in (1, 5] with max 3.0: p50 inside the first, p95 bounded by max.
    let p50 = quantile(all, 0.5).as_f64().unwrap();
    assert!((0.01..=0.05).contains(&p50), "p50 {p50}");
    let p95 = quantile(all, 0.95).as_f64().unwrap();
    assert!(
        (1.0..=3.0).contains(&p95),
        "p95 {p95} within its bucket and the max"
    );
    let (_, counter) = e.api("/api/v1/metrics/chart?name=orders.placed&service=rust-orders");
    assert_eq!(series(&counter, "all")["total"], 60.0, "{counter}");
    assert_eq!(
        series(&counter, "all")["last"],
        60.0,
        "a cumulative count's level"
    );

    // A counter running since yesterday, the range starting after its first point: the point
    // before the range is its baseline (10 more), then a reset counts from zero (5 + 3).
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    long_running_counter(&e, now_ms);
    let (_, jobs) = e.api(&format!(
        "/api/v1/metrics/chart?name=jobs.done&service=long-runner&fromMs={}&toMs={now_ms}&buckets=120",
        now_ms - 75_000
    ));
    assert_eq!(
        series(&jobs, "all")["total"],
        18.0,
        "10 + 5 + 3, not a million: {jobs}"
    );
    // Only its last points in range, without one before: running totals, no change to show.
    let (_, late) = e.api(&format!(
        "/api/v1/metrics/chart?name=jobs.done&service=long-runner&fromMs={}&toMs={now_ms}&buckets=120",
        now_ms - 25_000
    ));
    let total = late["series"][0]["total"].as_f64().unwrap_or(0.0);
    assert!(total <= 8.0, "no lifetime total as a change: {late}");

    // The Services view's numbers: requests, errors, p95 per service.
    let (_, http) = e.api("/api/v1/metrics/http-servers");
    let svc = |name: &str| -> Value {
        http["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["serviceName"] == name)
            .unwrap_or_else(|| panic!("no {name} in {http}"))
            .clone()
    };
    let js = svc("js-checkout");
    assert_eq!(js["requests"], 100.0);
    close(&js["errorRate"], 0.1, 1e-9, "JS error rate");
    close(&js["p95Seconds"], slow, 0.05, "JS p95 seconds");
    let rust = svc("rust-orders");
    assert_eq!(rust["requests"], 60.0);
    close(&rust["errorRate"], 10.0 / 60.0, 1e-9, "Rust error rate");

    // Refused in words.
    for (query, says) in [
        ("", "name"),
        ("name=x&buckets=0", "buckets"),
        ("name=x&attribute=novalue", "key=value"),
        ("name=x&fromMs=2000&toMs=1000", "before"),
        ("name=x&fromMs=0&toMs=99999999999", "31 days"),
        (
            "name=x&attribute=a=1&attribute=b=1&attribute=c=1&attribute=d=1&attribute=e=1&attribute=f=1&attribute=g=1&attribute=h=1&attribute=i=1",
            "at most 8",
        ),
    ] {
        let (status, body) = e.api(&format!("/api/v1/metrics/chart?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{query}: {body}");
    }
    let (status, body) = e.api("/api/v1/metrics/chart?name=no.such.metric");
    assert_eq!(status, 404, "{body}");

    // The views, in Chromium.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("metrics-screenshots");
    let seen = node_client([
        "ui-metrics.mjs",
        &format!("http://{}", e.ui),
        shots.to_str().unwrap(),
    ]);
    assert_eq!(seen["failedApiRequests"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["pageErrors"], serde_json::json!([]), "{seen}");
    assert!(
        seen["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "js-checkout"),
        "{seen}"
    );
    // Series, observations, p50, p95, p99, points.
    let row = &seen["histogramRows"][0];
    assert_eq!(row[0], "all");
    assert_eq!(row[1], "100");
    assert_eq!(row[2], "20 ms");
    assert_eq!(row[3], "1.5 s");
    let routes: Vec<&str> = seen["groupedRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert_eq!(routes, ["/api/cart", "/api/checkout"]);
    assert_eq!(seen["filteredRows"], seen["filteredAfterReload"]);
    assert_eq!(seen["filteredRows"][0][1], "10");
    // j: the next instrument of the list (the service's next, by name).
    assert!(
        seen["afterJ"]
            .as_str()
            .unwrap()
            .contains("name=orders.placed"),
        "{seen}"
    );
    assert_eq!(seen["relativeLabel"], "Last 15 minutes ▾");
    assert_eq!(seen["customRows"][0][1], "100");
    assert_eq!(seen["rangeError"], "The end must be after the start.");
    assert_eq!(seen["emptyState"], "No points in this range");
    assert_eq!(seen["missingState"], "No instrument “no.such.metric”");
    for view in ["sessions", "traces", "logs"] {
        let l = &seen["lists"][view];
        assert!(
            l["hash"].as_str().unwrap().contains("range=6h"),
            "{view}: {l}"
        );
        assert_eq!(l["spanMs"], 6 * 3_600_000, "{view}: {l}");
        assert_eq!(l["label"], "Last 6 hours ▾", "{view}: {l}");
    }
    // Services: js-checkout sends no spans, only its HTTP metric, and is listed for it.
    let row = seen["servicesTable"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "js-checkout")
        .unwrap_or_else(|| panic!("{seen}"));
    // Service, spans, errors, error rate, requests, HTTP errors, p95.
    assert_eq!(row[1], "—");
    assert_eq!(row[4], "100");
    assert_eq!(row[5], "10.0%");
    assert_eq!(row[6], "1.5 s");
}
