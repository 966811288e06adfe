//! The README's incident-mode middleware for Python (contextvars) and Rust (tracing) backends,
//! run against the engine with the official OpenTelemetry SDKs: a request inside a window
//! gets verbose logs, correlated with its trace and session and filed under the window; the
//! same request outside one does not. (The Node middleware runs in `incident_browser.rs`.)

#[path = "middleware/sightline.rs"]
mod sightline;

use std::process::Command;

use axum::http::StatusCode;
use axum::routing::post;
use opentelemetry::trace::TracerProvider as _;
use serde_json::{json, Value};
use sightline_tests::{eventually, Engine};
use tracing_subscriber::layer::SubscriberExt as _;

fn start_window(e: &Engine) -> String {
    let resp = reqwest::blocking::Client::new()
        .post(e.api_url("/api/v1/incidents"))
        .json(&json!({"minutes": 5, "label": "middleware"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn logs(e: &Engine, query: &str) -> Vec<Value> {
    let (status, page) = e.api(&format!("/api/v1/logs?{query}"));
    assert_eq!(status, 200, "{page}");
    page["logs"].as_array().unwrap().clone()
}

/// What a backend honouring the window must have produced for two requests of `session`, one
/// with `X-Incident-Mode-Until` in the future (trace `inside`) and one without (`outside`).
fn check(e: &Engine, window: &str, session: &str, inside: &str, outside: &str) {
    eventually("both requests' logs to arrive", || {
        logs(e, &format!("session={session}&q=payment%20declined")).len() == 2
    });
    let verbose = logs(e, &format!("incident={window}&q=checkout%20request"));
    assert_eq!(verbose.len(), 1, "{verbose:#?}");
    let v = &verbose[0];
    assert_eq!(
        v["traceId"], inside,
        "correlated with the request's trace: {v}"
    );
    assert_eq!(v["sessionId"], session);
    assert_eq!(
        v["severityNumber"].as_i64().map(|s| s < 9),
        Some(true),
        "debug: {v}"
    );
    assert_eq!(v["attributes"]["incident.mode"], true);
    assert_ne!(
        v["timeUnixNano"], "0",
        "a record without a time has its observed time"
    );
    assert!(v["attributes"]["http.request.body"]
        .as_str()
        .unwrap()
        .contains(r#""cardNumber":"[REDACTED]""#));
    let all = logs(e, &format!("session={session}"));
    assert!(
        all.iter()
            .filter(|l| l["traceId"] == outside)
            .all(|l| l["severityNumber"].as_i64() >= Some(9)),
        "nothing verbose without the header: {all:#?}"
    );
    assert_eq!(e.trace(inside)["spans"].as_array().map(Vec::len), Some(1));
}

#[test]
#[ignore = "needs the Python clients (pip install -r tests/clients/requirements.txt); the README's test command runs it"]
fn the_python_middleware_logs_verbosely_inside_a_window_only() {
    let e = Engine::start();
    let window = start_window(&e);
    let python = std::env::var("SIGHTLINE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients"))
        .args(["incident_backend.py", &e.otlp_url(""), "py-session-1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Value = serde_json::from_slice(&out.stdout).unwrap();
    check(
        &e,
        &window,
        "py-session-1",
        ids["inside"].as_str().unwrap(),
        ids["outside"].as_str().unwrap(),
    );
}

async fn checkout(body: String) -> (StatusCode, &'static str) {
    if sightline::incident_mode() {
        tracing::debug!(
            incident.mode = true,
            session.id = %sightline::session_id(),
            http.request.body = %body,
            "checkout request"
        );
    }
    tracing::warn!(session.id = %sightline::session_id(), "payment declined");
    (StatusCode::PAYMENT_REQUIRED, r#"{"error":"card_declined"}"#)
}

#[test]
fn the_rust_middleware_logs_verbosely_inside_a_window_only() {
    use opentelemetry_otlp::WithExportConfig;
    let e = Engine::start();
    let window = start_window(&e);
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_service_name("rs-checkout")
        .build();
    let traces = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(e.otlp_url("/v1/traces"))
                .build()
                .unwrap(),
        )
        .build();
    let logs_provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_batch_exporter(
            opentelemetry_otlp::LogExporter::builder()
                .with_http()
                .with_endpoint(e.otlp_url("/v1/logs"))
                .build()
                .unwrap(),
        )
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(traces.tracer("rs-checkout")))
        .with(
            opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(&logs_provider),
        );
    let _default = tracing::subscriber::set_default(subscriber);

    // One thread, so the subscriber set for it sees the server's and the client's tasks.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (inside, outside) = rt.block_on(async {
        let app = axum::Router::new()
            .route("/checkout", post(checkout))
            .layer(axum::middleware::from_fn(sightline::sightline));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        let call = |until: Option<i64>| {
            let trace_id = hex::encode(rand::random::<[u8; 16]>());
            let mut req = client
                .post(format!("http://{addr}/checkout"))
                .header(
                    "traceparent",
                    format!(
                        "00-{trace_id}-{}-01",
                        hex::encode(rand::random::<[u8; 8]>())
                    ),
                )
                .header("x-session-id", "rs-session-1")
                .body(r#"{"cardNumber":"4111","qty":1}"#);
            if let Some(until) = until {
                req = req.header("x-incident-mode-until", until.to_string());
            }
            async move {
                assert_eq!(req.send().await.unwrap().status(), 402);
                trace_id
            }
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        (call(Some(now_ms + 60_000)).await, call(None).await)
    });
    traces.force_flush().unwrap();
    logs_provider.force_flush().unwrap();
    check(&e, &window, "rs-session-1", &inside, &outside);
}

/// The README's snippets are the middleware these tests (and the browser test's Node backend)
/// run, word for word.
#[test]
fn the_readme_shows_the_tested_middleware() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for file in [
        "tests/clients/sightline-middleware.mjs",
        "tests/clients/sightline_middleware.py",
        "tests/middleware/sightline.rs",
    ] {
        let snippet = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(
            readme.contains(snippet.trim()),
            "README.md must include {file} as is"
        );
    }
}
