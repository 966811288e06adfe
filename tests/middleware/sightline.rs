//! Incident mode for a Rust backend (the README's snippet, run by Sightline's tests): an axum
//! middleware that reads `X-Session-ID`, `traceparent` and `X-Incident-Mode-Until`, runs the
//! request in a `tracing` span that continues the browser's trace, and keeps the session and
//! the window's end in a task local. Handlers log verbosely only while the window is open. With
//! `tracing-opentelemetry` and `opentelemetry-appender-tracing` layers installed, the spans and
//! events are exported as OpenTelemetry spans and logs, with trace and span ids.

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// What the browser said about the request.
#[derive(Clone, Default)]
pub struct Incoming {
    pub session_id: String,
    /// When the request's incident window ends (Unix ms; 0 when none covers it).
    pub incident_until: i64,
}

tokio::task_local! {
    static INCOMING: Incoming;
}

/// The current request's session id ("" outside a request or without one).
pub fn session_id() -> String {
    INCOMING
        .try_with(|i| i.session_id.clone())
        .unwrap_or_default()
}

/// Whether the current request is inside an incident window: log payloads and decisions.
pub fn incident_mode() -> bool {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    INCOMING
        .try_with(|i| i.incident_until > now_ms)
        .unwrap_or(false)
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// `Router::new()…layer(axum::middleware::from_fn(sightline))`
pub async fn sightline(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let incoming = Incoming {
        session_id: text("x-session-id").unwrap_or_default().to_owned(),
        incident_until: text("x-incident-mode-until")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    };
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{} {}", req.method(), req.uri().path()),
        otel.kind = "server",
        session.id = %incoming.session_id,
    );
    // The browser's traceparent: this request's span continues its trace.
    let _ = span.set_parent(TraceContextPropagator::new().extract(&Headers(headers)));
    INCOMING
        .scope(incoming, next.run(req))
        .instrument(span)
        .await
}
