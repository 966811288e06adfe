//! Server-side redaction, the second line of defence: credentials and sensitive fields sent by
//! a backend (request headers, JSON and form payloads in attributes and log bodies) are stored
//! as `[REDACTED]`, and can be found as such; everything else is kept as sent.

use opentelemetry::logs::{
    AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
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
    let logs = e.logger_provider();
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

/// Secrets a backend or a page writes into free text: in a span's name and status message,
/// a log line, a URL's query, SQL, a stack trace, a replay batch's meta and a page address.
const FREE_TEXT_SECRETS: &[&str] = &[
    "4111111111111111",
    "4111 1111 1111 1111",
    "hunter2",
    "tok123secret",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ",
    "pgpass99",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345",
];

#[test]
fn secrets_in_free_text_never_reach_the_database() {
    let e = Engine::start();
    let traces = e.tracer_provider("checkout");
    let tracer = traces.tracer("redaction");
    let mut span = tracer.start("GET /cards/4111111111111111/verify");
    span.set_attribute(KeyValue::new(
        "url.full",
        "https://shop.local/checkout?card=4111111111111111&access_token=tok123secret&step=2",
    ));
    span.set_attribute(KeyValue::new(
        "db.statement",
        "ALTER USER app WITH PASSWORD 'hunter2'",
    ));
    span.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", "ConnectError"),
            KeyValue::new(
                "exception.stacktrace",
                "ConnectError: postgres://app:pgpass99@db/shop refused\n  at connect (db.js:4)\n  key AKIAIOSFODNN7EXAMPLE",
            ),
        ],
    );
    span.set_status(opentelemetry::trace::Status::error(
        "card 4111 1111 1111 1111 declined; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln",
    ));
    span.end();
    traces.force_flush().expect("spans exported");

    let logs = e.logger_provider();
    let logger = logs.logger("redaction");
    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Warn);
    record.set_body(LogValue::from(
        "login failed for ada: password=hunter2 (token ghp_0123456789abcdefghijABCDEFGHIJ012345)",
    ));
    logger.emit(record);
    logs.force_flush().expect("logs exported");

    e.post_replay(&json!({
        "sessionId": "s-secret",
        "batch": 0,
        "meta": {
            "url": "https://shop.local/welcome?token=tok123secret",
            "plan": "pro",
            "note": "paid with 4111 1111 1111 1111",
        },
        "events": [
            {"type": 4, "timestamp": 1_760_000_000_000u64,
             "data": {"href": "https://shop.local/pay?card=4111111111111111", "width": 800, "height": 600}},
            {"type": 2, "timestamp": 1_760_000_000_001u64,
             "data": {"node": {"type": 0, "id": 1, "childNodes": []}, "initialOffset": {"top": 0, "left": 0}}},
        ],
    }));

    // What is kept is still readable: the redaction replaces the secret, not the text.
    let (_, rows) = e.sql("SELECT name, status_message, attributes, events FROM spans");
    let row = &rows["rows"][0];
    assert_eq!(row[0], "GET /cards/[REDACTED]/verify");
    assert_eq!(
        row[1],
        "card [REDACTED] declined; Authorization: [REDACTED]"
    );
    let attrs: serde_json::Value = serde_json::from_str(row[2].as_str().unwrap()).unwrap();
    assert_eq!(
        attrs["url.full"],
        "https://shop.local/checkout?card=[REDACTED]&access_token=[REDACTED]&step=2"
    );
    assert_eq!(
        attrs["db.statement"],
        "ALTER USER app WITH PASSWORD '[REDACTED]'"
    );
    let (_, rows) = e.sql("SELECT body FROM logs");
    assert_eq!(
        rows["rows"][0][0],
        json!("login failed for ada: password=[REDACTED] (token [REDACTED])").to_string()
    );
    let (_, session) = e.api("/api/v1/sessions/s-secret");
    let text = session.to_string();
    assert!(
        text.contains("https://shop.local/welcome?token=[REDACTED]"),
        "{text}"
    );
    let (_, replay) = e.api("/api/v1/sessions/s-secret/replay");
    let replay = replay.to_string();
    assert!(replay.contains("pay?card=[REDACTED]"), "{replay}");

    // Nowhere in the API's answers, nor in the database file and its log.
    drop(e.sql("PRAGMA wal_checkpoint(TRUNCATE)"));
    let mut stored = Vec::new();
    for suffix in ["", "-wal"] {
        let mut path = e.db.clone().into_os_string();
        path.push(suffix);
        stored.extend(std::fs::read(path).unwrap_or_default());
    }
    let stored = String::from_utf8_lossy(&stored);
    let (_, spans) = e.sql("SELECT * FROM spans");
    let (_, logs_rows) = e.sql("SELECT * FROM logs");
    for secret in FREE_TEXT_SECRETS {
        for (what, text) in [
            ("the database file", &*stored),
            ("the spans", &spans.to_string()),
            ("the logs", &logs_rows.to_string()),
            ("the session", &text),
            ("the replay", &replay),
        ] {
            assert!(!text.contains(secret), "{secret} is in {what}");
        }
    }
}
