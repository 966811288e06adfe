//! Server-side redaction, the second line of defence: credentials and sensitive fields sent by
//! a backend (request headers, JSON and form payloads in attributes and log bodies) are stored
//! as `[REDACTED]`, and can be found as such; everything else is kept as sent.

use opentelemetry::logs::{
    AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig;
use serde_json::json;
use sightline_tests::Engine;

#[test]
fn secrets_from_the_official_sdk_are_stored_redacted() {
    let e = Engine::start();

    // A span with the request's headers, as HTTP instrumentations record them.
    let traces = e.tracer_provider("checkout");
    let mut span = traces.tracer("redaction").start("POST /api/pay");
    span.set_attribute(KeyValue::new(
        "http.request.header.authorization",
        opentelemetry::Value::Array(opentelemetry::Array::String(vec![
            "Bearer sk_live_abc".into()
        ])),
    ));
    span.set_attribute(KeyValue::new(
        "http.request.header.content-type",
        "application/json",
    ));
    span.set_attribute(KeyValue::new("gen_ai.usage.output_tokens", 42));
    span.end();
    traces.force_flush().expect("spans exported");

    // A verbose log with the request's payload, as incident-mode middleware writes it.
    let logs = e.runtime().block_on(async {
        let exporter = opentelemetry_otlp::LogExporter::builder()
            .with_tonic()
            .with_endpoint(format!("http://{}", e.grpc))
            .build()
            .expect("log exporter");
        opentelemetry_sdk::logs::SdkLoggerProvider::builder()
            .with_simple_exporter(exporter)
            .build()
    });
    let logger = logs.logger("redaction");
    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Info);
    record.set_body(LogValue::from(
        r#"{"email":"ada@example.com","password":"hunter2","card":{"number":"4242424242424242","cvv":"123"}}"#,
    ));
    record.add_attribute("http.request.body", "user=ada&password=hunter2&remember=1");
    record.add_attribute("user.id", "ada");
    logger.emit(record);
    logs.force_flush().expect("logs exported");

    let (_, rows) = e.sql("SELECT attributes FROM spans");
    let attrs: serde_json::Value =
        serde_json::from_str(rows["rows"][0][0].as_str().unwrap()).unwrap();
    assert_eq!(attrs["http.request.header.authorization"], "[REDACTED]");
    assert_eq!(
        attrs["http.request.header.content-type"],
        "application/json"
    );
    assert_eq!(attrs["gen_ai.usage.output_tokens"], 42, "not a secret");

    let (_, rows) = e.sql("SELECT body, attributes FROM logs");
    let body: serde_json::Value =
        serde_json::from_str(rows["rows"][0][0].as_str().unwrap()).unwrap();
    let payload: serde_json::Value = serde_json::from_str(body.as_str().unwrap()).unwrap();
    assert_eq!(
        payload,
        json!({"email": "ada@example.com", "password": "[REDACTED]", "card": "[REDACTED]"})
    );
    let attrs: serde_json::Value =
        serde_json::from_str(rows["rows"][0][1].as_str().unwrap()).unwrap();
    assert_eq!(
        attrs["http.request.body"],
        "user=ada&password=[REDACTED]&remember=1"
    );
    assert_eq!(attrs["user.id"], "ada");

    // Nothing of the secrets is anywhere in the database file.
    drop(e.sql("PRAGMA wal_checkpoint"));
    let (_, hits) = e.sql(
        "SELECT count(*) FROM logs WHERE body LIKE '%hunter2%' OR attributes LIKE '%hunter2%' OR body LIKE '%4242%'",
    );
    assert_eq!(hits["rows"][0][0], 0);
    let (_, hits) = e.sql("SELECT count(*) FROM spans WHERE attributes LIKE '%sk_live%'");
    assert_eq!(hits["rows"][0][0], 0);
}
