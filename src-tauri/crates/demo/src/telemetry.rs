//! Each demo service's OpenTelemetry: its own resource (`service.name`), tracer, logger and
//! meter (the semantic conventions' `http.server.request.duration` and
//! `http.server.active_requests` for every request, and the services' own instruments),
//! exporting OTLP/HTTP to the engine, and the plumbing every service shares — a server span per
//! request that continues the caller's `traceparent`, client spans around calls to the other
//! services (which carry `traceparent`, `X-Session-ID` and `X-Incident-Mode-Until` on), and log
//! records stamped with the active span's trace and span ids.
//!
//! Deliberately the public SDK API only, used as an application would use it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::{Histogram, Meter, MeterProvider as _, UpDownCounter};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use crate::{DemoError, Result};

/// Spans and logs leave a service this often: a demo's request shows in Sightline within about
/// a second (the SDK's default, 5 s, feels broken on stage).
const EXPORT_EVERY: Duration = Duration::from_millis(500);
/// Metrics leave a service this often: a chart's point every 2 s is fine-grained enough for a
/// demo's minutes and costs the engine a few rows a second.
const METRICS_EVERY: Duration = Duration::from_secs(2);
/// The bucket bounds the HTTP semantic conventions recommend for durations in seconds (the SDK's
/// default bounds are for milliseconds).
pub(crate) const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// A call from one service to another gives up after this long. Longer than order-svc's 5 s
/// lock wait, so that its failure (not a timeout here) is what the trace shows.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Payloads logged in incident mode are cut here: a log line is not a file transfer.
const MAX_LOGGED_PAYLOAD: usize = 16 * 1024;

/// One service's telemetry.
pub(crate) struct Telemetry {
    tracer: SdkTracer,
    logger: SdkLogger,
    traces: SdkTracerProvider,
    logs: SdkLoggerProvider,
    meters: SdkMeterProvider,
    pub meter: Meter,
    http_duration: Histogram<f64>,
    http_active: UpDownCounter<i64>,
}

impl Telemetry {
    /// Providers for `service` exporting to `otlp_http` (the engine's base URL). Builds the
    /// exporters' blocking HTTP clients, so it must not run on an async worker.
    pub fn new(service: &'static str, otlp_http: &str) -> Result<Telemetry> {
        let base = otlp_http.trim_end_matches('/');
        let resource = Resource::builder_empty()
            .with_service_name(service)
            .with_attributes([
                KeyValue::new("service.namespace", "sightline-demo"),
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                KeyValue::new("deployment.environment.name", "demo"),
            ])
            .build();
        let span_exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/traces"))
            .build()
            .map_err(|e| DemoError::Startup(format!("an OTLP exporter: {e}")))?;
        let log_exporter = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/logs"))
            .build()
            .map_err(|e| DemoError::Startup(format!("an OTLP exporter: {e}")))?;
        let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/metrics"))
            .build()
            .map_err(|e| DemoError::Startup(format!("an OTLP exporter: {e}")))?;
        let meters = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_reader(
                PeriodicReader::builder(metric_exporter)
                    .with_interval(METRICS_EVERY)
                    .build(),
            )
            .build();
        let meter = meters.meter(service);
        let http_duration = meter
            .f64_histogram("http.server.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP server requests.")
            .with_boundaries(DURATION_BOUNDS.to_vec())
            .build();
        let http_active = meter
            .i64_up_down_counter("http.server.active_requests")
            .with_unit("{request}")
            .with_description("Number of active HTTP server requests.")
            .build();
        let traces = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(
                BatchSpanProcessor::builder(span_exporter)
                    .with_batch_config(
                        opentelemetry_sdk::trace::BatchConfigBuilder::default()
                            .with_scheduled_delay(EXPORT_EVERY)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let logs = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_log_processor(
                BatchLogProcessor::builder(log_exporter)
                    .with_batch_config(
                        opentelemetry_sdk::logs::BatchConfigBuilder::default()
                            .with_scheduled_delay(EXPORT_EVERY)
                            .build(),
                    )
                    .build(),
            )
            .build();
        Ok(Telemetry {
            tracer: traces.tracer(service),
            logger: logs.logger(service),
            traces,
            logs,
            meters,
            meter,
            http_duration,
            http_active,
        })
    }

    /// Exports what is buffered and stops. Blocking.
    pub fn shutdown(&self) {
        let _ = self.traces.force_flush();
        let _ = self.logs.force_flush();
        let _ = self.meters.force_flush();
        let _ = self.traces.shutdown();
        let _ = self.logs.shutdown();
        let _ = self.meters.shutdown();
    }

    /// A span of `kind` under `parent` (a root span when `parent` has none).
    pub fn span(
        &self,
        parent: &Context,
        name: impl Into<String>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
    ) -> Context {
        let span = self
            .tracer
            .span_builder(name.into())
            .with_kind(kind)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, parent);
        parent.with_span(span)
    }

    /// A log record in `cx`'s span, with the request's session and window marks.
    pub fn log(
        &self,
        req: &Req,
        severity: Severity,
        body: impl Into<String>,
        attributes: Vec<(&'static str, AnyValue)>,
    ) {
        let attributes = attributes
            .into_iter()
            .map(|(k, v)| (Key::from_static_str(k), v))
            .collect();
        self.log_in(
            &req.cx,
            &req.session,
            req.incident(),
            severity,
            body,
            attributes,
        );
    }

    pub fn log_in(
        &self,
        cx: &Context,
        session: &str,
        incident: bool,
        severity: Severity,
        body: impl Into<String>,
        attributes: Vec<(Key, AnyValue)>,
    ) {
        let mut record = self.logger.create_log_record();
        let now = SystemTime::now();
        record.set_timestamp(now);
        record.set_observed_timestamp(now);
        record.set_severity_number(severity);
        record.set_severity_text(match severity {
            Severity::Debug => "DEBUG",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
            _ => "INFO",
        });
        record.set_body(AnyValue::String(body.into().into()));
        if !session.is_empty() {
            record.add_attribute("session.id", session.to_owned());
        }
        if incident {
            record.add_attribute("incident.mode", true);
        }
        for (key, value) in attributes {
            record.add_attribute(key, value);
        }
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            record.set_trace_context(sc.trace_id(), sc.span_id(), Some(sc.trace_flags()));
        }
        self.logger.emit(record);
    }
}

/// What a service knows about the request it is serving.
#[derive(Clone)]
pub(crate) struct Req {
    /// The request's server span.
    pub cx: Context,
    /// The browser session (`X-Session-ID`), "" when the caller sent none.
    pub session: String,
    /// When the incident window covering the request ends (Unix ms; 0: none).
    pub incident_until: i64,
}

impl Req {
    /// Inside an incident window: log payloads and decisions.
    pub fn incident(&self) -> bool {
        self.incident_until > crate::now_ms()
    }

    /// `value` as a log attribute, cut to a log line's size; the engine redacts secrets in it.
    pub fn payload(value: &serde_json::Value) -> AnyValue {
        let mut text = value.to_string();
        if text.len() > MAX_LOGGED_PAYLOAD {
            let mut cut = MAX_LOGGED_PAYLOAD;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        AnyValue::String(text.into())
    }
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

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The request's headers as `http.request.header.<name>` attributes (the semantic convention).
/// Credentials are logged as sent: redaction is the engine's job, and the demo shows it doing it.
fn header_attributes(headers: &HeaderMap) -> Vec<(Key, AnyValue)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                Key::from(format!("http.request.header.{k}")),
                AnyValue::from(v.to_str().unwrap_or("<binary>").to_owned()),
            )
        })
        .collect()
}

/// `routes` with a server span around each request, as `telemetry`'s service.
pub(crate) fn traced_by(routes: axum::Router, telemetry: &Arc<Telemetry>) -> axum::Router {
    routes.layer(axum::middleware::from_fn_with_state(
        telemetry.clone(),
        traced,
    ))
}

/// The server span around every request of a service (see [`traced_by`]).
pub(crate) async fn traced(
    State(telemetry): State<Arc<Telemetry>>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let session = text("x-session-id").unwrap_or_default().to_owned();
    let incident_until = text("x-incident-mode-until")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let method = request.method().as_str().to_owned();
    let mut attributes = vec![
        KeyValue::new("http.request.method", method.clone()),
        KeyValue::new("url.path", request.uri().path().to_owned()),
        KeyValue::new("http.route", route.clone()),
    ];
    if !session.is_empty() {
        attributes.push(KeyValue::new("session.id", session.clone()));
    }
    if let Some(agent) = text("user-agent") {
        attributes.push(KeyValue::new("user_agent.original", agent.to_owned()));
    }
    let cx = telemetry.span(
        &parent,
        format!("{method} {route}"),
        SpanKind::Server,
        attributes,
    );
    let req = Req {
        cx: cx.clone(),
        session,
        incident_until,
    };
    if req.incident() {
        telemetry.log_in(
            &req.cx,
            &req.session,
            true,
            Severity::Debug,
            format!("{method} {} received", request.uri().path()),
            header_attributes(headers),
        );
    }
    request.extensions_mut().insert(req);
    let active = [
        KeyValue::new("http.request.method", method.clone()),
        KeyValue::new("url.scheme", "http"),
    ];
    telemetry.http_active.add(1, &active);
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    telemetry.http_active.add(-1, &active);
    let status = response.status().as_u16();
    let mut measured = vec![
        KeyValue::new("http.request.method", method),
        KeyValue::new("http.route", route),
        KeyValue::new("http.response.status_code", i64::from(status)),
    ];
    if status >= 500 {
        measured.push(KeyValue::new("error.type", status.to_string()));
    }
    telemetry
        .http_duration
        .record(started.elapsed().as_secs_f64(), &measured);
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status),
    ));
    if status >= 500 {
        span.set_attribute(KeyValue::new("error.type", status.to_string()));
        span.set_status(Status::error(format!("answered {status}")));
    }
    span.end();
    response
}

/// A call to another service, as a client span: `(status, JSON body)`, or what went wrong.
pub(crate) async fn call(
    telemetry: &Telemetry,
    req: &Req,
    client: &reqwest::Client,
    peer: &'static str,
    url: &str,
    body: &serde_json::Value,
) -> std::result::Result<(u16, serde_json::Value), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let cx = telemetry.span(
        &req.cx,
        format!("POST {}", parsed.path()),
        SpanKind::Client,
        vec![
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("url.full", url.to_owned()),
            KeyValue::new(
                "server.address",
                parsed.host_str().unwrap_or_default().to_owned(),
            ),
            KeyValue::new(
                "server.port",
                i64::from(parsed.port_or_known_default().unwrap_or(80)),
            ),
            KeyValue::new("peer.service", peer),
        ],
    );
    let mut headers = HeaderMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut HeadersMut(&mut headers));
    let mut send = client
        .post(parsed)
        .headers(headers)
        .timeout(CALL_TIMEOUT)
        .json(body);
    if !req.session.is_empty() {
        send = send.header("x-session-id", &req.session);
    }
    if req.incident_until > 0 {
        send = send.header("x-incident-mode-until", req.incident_until.to_string());
    }
    let span = cx.span();
    let result = match send.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
            if status >= 400 {
                span.set_attribute(KeyValue::new("error.type", status.to_string()));
                span.set_status(Status::error(format!("{peer} answered {status}")));
            }
            let body = response
                .json::<serde_json::Value>()
                .await
                .unwrap_or(serde_json::Value::Null);
            Ok((status, body))
        }
        Err(err) => {
            let kind = if err.is_timeout() {
                "timeout"
            } else {
                "connect"
            };
            span.set_attribute(KeyValue::new("error.type", kind));
            span.set_status(Status::error(format!("{peer}: {err}")));
            Err(format!("{peer}: {err}"))
        }
    };
    span.end();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_payloads_are_cut_on_a_character_boundary() {
        let long = serde_json::json!({ "note": "é".repeat(MAX_LOGGED_PAYLOAD) });
        let AnyValue::String(text) = Req::payload(&long) else {
            panic!("a string attribute");
        };
        let text = text.as_str();
        assert!(
            text.len() <= MAX_LOGGED_PAYLOAD + '…'.len_utf8(),
            "{}",
            text.len()
        );
        assert!(text.ends_with('…'));
        let short = serde_json::json!({ "email": "a@b.co" });
        assert_eq!(
            Req::payload(&short),
            AnyValue::String(short.to_string().into())
        );
    }
}
