//! The served recorder in a real browser (Debian Chromium, driven by Playwright), with a
//! backend instrumented by the official OpenTelemetry Rust SDK: the session, its replay, the
//! rage click, the secret that must never be stored, and the link from the browser's request
//! to the backend's span.
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Json, Router};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{json, Value};
use sightline_store::views;
use sightline_tests::{json, json_list, Engine, HeaderCarrier};

const SECRETS: [&str; 3] = [
    "hunter2-SECRET-4711",
    "4111-SECRET-1111",
    "plain-SECRET-note",
];

/// Where the page loads the OpenTelemetry web SDK (with its fetch instrumentation), if at all.
#[derive(Clone, Copy, PartialEq)]
enum Otel {
    None,
    /// Loaded first: its fetch wrapper ends up inside the recorder's.
    BeforeRecorder,
    /// Loaded last: its fetch wrapper ends up outside the recorder's.
    AfterRecorder,
}

struct Shop {
    engine_http: std::net::SocketAddr,
    traces: SdkTracerProvider,
    otel: Otel,
}

async fn otel_web() -> ([(&'static str, &'static str); 1], Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/dist/otel-web.js");
    let js = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (npm run build in tests/clients)", path.display()));
    ([("content-type", "application/javascript")], js)
}

async fn page(State(shop): State<Arc<Shop>>) -> Html<String> {
    let otel = format!(
        r#"<script src="/otel-web.js" data-otlp="http://{}"></script>"#,
        shop.engine_http
    );
    let (before, after) = match shop.otel {
        Otel::None => (String::new(), String::new()),
        Otel::BeforeRecorder => (otel, String::new()),
        Otel::AfterRecorder => (String::new(), otel),
    };
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>
{before}<script src="http://{engine}/sightline.js" data-user-id="shopper-7" data-user-email="ada@example.com"></script>{after}
<style>.fake-button{{display:inline-block;padding:8px 16px;background:#2563eb;color:#fff;border-radius:6px;cursor:pointer}}</style>
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
  document.getElementById('result').textContent = 'order ' + j.orderId;
}});
</script></body></html>"#,
        engine = shop.engine_http
    ))
}

/// The backend continues the browser's trace (W3C traceparent), as any OTel-instrumented
/// server does. It sets no session attribute: the link must come from the recorder.
async fn checkout(State(shop): State<Arc<Shop>>, headers: HeaderMap) -> Json<Value> {
    let parent = TraceContextPropagator::new().extract(&HeaderCarrier(&headers));
    let tracer = shop.traces.tracer("storefront-api");
    let mut span = tracer
        .span_builder("POST /api/checkout")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &parent);
    span.set_attribute(opentelemetry::KeyValue::new("order.id", 17));
    span.end();
    Json(json!({ "orderId": 17 }))
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn the_recorder_links_a_real_browser_session_to_the_backend() {
    checkout_session(Otel::None);
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci, npm run build); the README's test command runs it"]
fn a_page_running_the_otel_web_sdk_first_keeps_one_trace() {
    checkout_session(Otel::BeforeRecorder);
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci, npm run build); the README's test command runs it"]
fn a_page_running_the_otel_web_sdk_last_keeps_one_trace() {
    checkout_session(Otel::AfterRecorder);
}

/// One shopper's visit: typing secrets, a rage click, a checkout request; then what Sightline
/// must have made of it.
fn checkout_session(otel: Otel) {
    let e = Engine::start();
    let traces = e.tracer_provider("storefront-api");
    let shop = Arc::new(Shop {
        engine_http: e.http,
        traces: traces.clone(),
        otel,
    });
    let app = Router::new()
        .route("/", get(page))
        .route("/otel-web.js", get(otel_web))
        .route("/api/checkout", post(checkout))
        .with_state(shop);
    let listener = e
        .runtime()
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let shop_addr = listener.local_addr().unwrap();
    e.runtime()
        .spawn(async move { axum::serve(listener, app).await });

    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let out = Command::new("node")
        .current_dir(&clients)
        .arg("browser.mjs")
        .arg(format!("http://{shop_addr}/"))
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let session_id = serde_json::from_slice::<Value>(&out.stdout).expect("session json")
        ["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    traces.force_flush().expect("backend spans exported");

    // The session and its replay.
    let session = json(
        e.read(|c| views::session_view(c, &session_id).unwrap())
            .expect("session stored"),
    );
    assert_eq!(session["userId"], "shopper-7");
    assert!(session["eventCount"].as_i64().unwrap() > 10, "{session}");
    let events = e.read(|c| views::replay_events(c, &session_id).unwrap());
    assert!(events.iter().any(|ev| ev["type"] == 2), "a full snapshot");
    assert!(!e
        .read(|c| views::replay_checkpoints(c, &session_id).unwrap())
        .is_empty());

    // The rage click, with the control's name and why.
    let signals = json_list(e.read(|c| views::frustration_signals(c, &session_id).unwrap()));
    let rage = signals
        .iter()
        .find(|s| s["kind"] == "rage_click")
        .unwrap_or_else(|| panic!("no rage click in {signals:?}"));
    assert_eq!(rage["target"], "Apply coupon");
    assert!(rage["reason"].as_str().unwrap().contains("clicks within"));

    // The request the browser made and the span the backend made share one trace, and that
    // trace (with its backend span) belongs to the session.
    let indexed = json_list(e.read(|c| views::session_events(c, &session_id).unwrap()));
    let request = indexed
        .iter()
        .find(|ev| {
            ev["kind"] == "network"
                && ev["target"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/api/checkout")
        })
        .unwrap_or_else(|| panic!("no checkout request in {indexed:?}"));
    let trace_id = request["traceId"].as_str().expect("trace id").to_owned();
    let backend: Option<String> = e.read(|c| {
        c.query_row(
            "SELECT hex(trace_id) FROM spans WHERE name = 'POST /api/checkout'",
            [],
            |r| r.get(0),
        )
        .ok()
    });
    assert_eq!(backend.map(|h| h.to_lowercase()), Some(trace_id.clone()));
    let trace = e.trace(&trace_id);
    assert_eq!(trace["sessionId"], session_id.as_str());
    let backend_span = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["serviceName"] == "storefront-api")
        .expect("the backend span");
    assert_eq!(backend_span["sessionId"], session_id.as_str());
    if otel != Otel::None {
        // The browser's own OpenTelemetry span for the request is in the same trace: the
        // recorder joined it instead of starting another.
        let browser_span = trace["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["serviceName"] == "storefront-web")
            .unwrap_or_else(|| {
                panic!(
                    "no browser span in the trace: {trace}\nbrowser said:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        assert_eq!(browser_span["kind"], 3, "a client span");
        assert_eq!(backend_span["parentSpanId"], browser_span["spanId"]);
    }

    // Nothing typed into the masked fields is anywhere: not in the replay (decompressed), not
    // in any table, not in the database or WAL files.
    let replay_text = serde_json::to_string(&events).unwrap();
    let db = std::fs::read(&e.db).unwrap();
    let wal = std::fs::read(e.db.with_extension("db-wal")).unwrap_or_default();
    let tables = e.read(|c| {
        let mut text = String::new();
        for sql in [
            "SELECT group_concat(coalesce(target,'') || data, ' ') FROM session_events",
            "SELECT group_concat(attributes, ' ') FROM sessions",
        ] {
            let part: Option<String> = c.query_row(sql, [], |r| r.get(0)).unwrap();
            text.push_str(&part.unwrap_or_default());
        }
        text
    });
    for secret in SECRETS {
        assert!(!replay_text.contains(secret), "{secret} in the replay");
        assert!(!tables.contains(secret), "{secret} in the index");
        for (name, bytes) in [("database", &db), ("WAL", &wal)] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in the {name} file"
            );
        }
    }
    let _ = traces.shutdown();
}
