//! The UI end to end in Debian's Chromium: a real browser session (the served recorder, a rage
//! click, a checkout the backend declines, traced with the official OpenTelemetry Rust SDK and
//! logged over OTLP) is then explored in Sightline's own UI, step by step, each step checked on
//! screen and saved as a screenshot (in `CARGO_TARGET_TMPDIR/ui-screenshots`).
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use sightline_server::settings::{Settings, SettingsStore};
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use prost::Message;
use serde_json::{json, Value};
use sightline_tests::{node_client, Engine, HeaderCarrier};

struct Shop {
    engine_http: std::net::SocketAddr,
    traces: SdkTracerProvider,
    /// (trace id, span id) of the failing charge, for its log.
    declined: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
}

async fn page(State(shop): State<Arc<Shop>>) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>
<script src="http://{engine}/sightline.js" data-user-id="shopper-7" data-user-email="ada@example.com"></script>
<style>body{{font:15px system-ui;margin:40px}}.fake-button{{display:inline-block;padding:8px 16px;background:#2563eb;color:#fff;border-radius:6px;cursor:pointer}}</style>
</head><body><h1>Checkout</h1>
<p><label for="password">Password</label> <input id="password" type="password"></p>
<p><label for="card">Card number</label> <input id="card" autocomplete="cc-number"></p>
<p><label for="note">Delivery note</label> <input id="note" type="text"></p>
<p><span id="rage" class="fake-button" aria-label="Apply coupon">Apply coupon</span></p>
<p><button id="checkout">Place order</button></p><p id="result"></p>
<script>
document.getElementById('checkout').addEventListener('click', async () => {{
  const r = await fetch('/api/checkout', {{method: 'POST', headers: {{'content-type': 'application/json'}}, body: '{{"items":2}}'}});
  const j = await r.json();
  document.getElementById('result').textContent = 'order ' + j.orderId + ': ' + j.error;
}});
</script></body></html>"#,
        engine = shop.engine_http
    ))
}

/// Continues the browser's trace, charges the card, and is declined.
async fn checkout(State(shop): State<Arc<Shop>>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    let parent = TraceContextPropagator::new().extract(&HeaderCarrier(&headers));
    let tracer = shop.traces.tracer("storefront-api");
    let server = tracer
        .span_builder("POST /api/checkout")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &parent);
    let cx = Context::current_with_span(server);
    let mut charge = tracer
        .span_builder("charge card")
        .with_kind(SpanKind::Client)
        .start_with_context(&tracer, &cx);
    charge.set_status(Status::error("card_declined"));
    let ids = charge.span_context().clone();
    charge.end();
    cx.span().end();
    *shop.declined.lock().unwrap() = Some((
        ids.trace_id().to_bytes().to_vec(),
        ids.span_id().to_bytes().to_vec(),
    ));
    (
        StatusCode::PAYMENT_REQUIRED,
        Json(json!({ "orderId": 18, "error": "card declined" })),
    )
}

fn s(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn a_failing_checkout_is_explored_in_the_ui() {
    let e = Engine::start();
    let traces = e.tracer_provider("storefront-api");
    let shop = Arc::new(Shop {
        engine_http: e.http,
        traces: traces.clone(),
        declined: Mutex::new(None),
    });
    let app = Router::new()
        .route("/", get(page))
        .route("/api/checkout", post(checkout))
        .with_state(shop.clone());
    let listener = e
        .runtime()
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let shop_addr = listener.local_addr().unwrap();
    e.runtime()
        .spawn(async move { axum::serve(listener, app).await });

    node_client(["browser.mjs", &format!("http://{shop_addr}/"), "402"]);
    traces.force_flush().expect("backend spans exported");

    // The payment service's log of the decline, correlated with the failing span.
    let (trace_id, span_id) = shop.declined.lock().unwrap().clone().expect("checkout ran");
    let log = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![s("service.name", "storefront-api")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_nanos() as u64,
                    severity_number: 17,
                    severity_text: "ERROR".into(),
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(
                            "card declined by issuer (insufficient funds)".into(),
                        )),
                    }),
                    trace_id,
                    span_id,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/logs", log.encode_to_vec());

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let run = node_client([
        "ui.mjs",
        &format!("http://{}/", e.ui),
        shots.to_str().unwrap(),
    ]);
    let steps = run["steps"].as_array().expect("steps").len();
    assert_eq!(steps, 12, "six steps in each theme: {run}");
    for entry in std::fs::read_dir(&shots).unwrap() {
        let size = entry.unwrap().metadata().unwrap().len();
        assert!(size > 10_000, "a screenshot is not blank ({size} bytes)");
    }
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn settings_and_the_ingest_switch_work_in_the_ui() {
    let conf = tempfile::tempdir().unwrap();
    let file = conf.path().join("settings.json");
    let (store, _) = SettingsStore::open(file.clone());
    let e = Engine::with_config(|c| c.settings = Some(Arc::new(store))).unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let seen = node_client([
        "ui-settings.mjs",
        &format!("http://{}/", e.ui),
        shots.to_str().unwrap(),
        &busy_port,
    ]);
    let refused = seen["refused"].as_str().unwrap();
    assert!(
        refused.contains(&format!("port {busy_port} (OTLP/HTTP) is in use")),
        "{refused}"
    );
    // What was saved is on disk; what was refused is not.
    let saved: Settings = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(saved.keep_running_in_tray);
    assert_eq!(saved.otlp_http_port, 4318);
    assert_eq!(
        e.api("/api/v1/ingest").1["paused"],
        false,
        "resumed from the banner"
    );
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn incident_windows_are_started_extended_and_stopped_in_the_ui() {
    let e = Engine::start();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let seen = node_client([
        "ui-incidents.mjs",
        &format!("http://{}/", e.ui),
        shots.to_str().unwrap(),
    ]);
    let id = seen["id"].as_str().unwrap();
    // What the UI did is what the engine holds.
    let (_, w) = e.api(&format!("/api/v1/incidents/{id}"));
    assert_eq!(
        w["scope"],
        serde_json::json!({"kind": "user", "value": "ada@example.com"})
    );
    assert_eq!(w["startedBy"], "ui");
    assert_eq!(w["ticketUrl"], "https://tracker.test/BUG-42");
    assert_eq!(
        (w["active"].as_bool(), w["endedEarly"].as_bool()),
        (Some(false), Some(true))
    );
}
