//! `POST /api/v1/sql`: one read-only statement over the documented views; writes, ATTACH,
//! PRAGMA changes and runaway queries all fail cleanly.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};
use sightline_server::Limits;
use sightline_tests::Engine;

fn sql(e: &Engine, statement: &str) -> (u16, Value) {
    e.sql(statement)
}

fn rows(e: &Engine, statement: &str) -> Vec<Vec<Value>> {
    let (status, body) = sql(e, statement);
    assert_eq!(status, 200, "{statement}: {body}");
    serde_json::from_value(body["rows"].clone()).unwrap()
}

/// A checkout session a minute ago: a page, a rage click on it, a backend trace of two spans.
fn seed(e: &Engine) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let t = now_ms - 60_000;
    let click = |ms: u64| json!({"type": 3, "timestamp": ms, "data": {"source": 2, "type": 2, "id": 4, "x": 50, "y": 50}});
    let mut events =
        vec![json!({"type": 4, "timestamp": t, "data": {"href": "http://shop/checkout"}})];
    for i in 0..4 {
        events.push(click(t + 100 + i * 100));
        events.push(
            json!({"type": 3, "timestamp": t + 120 + i * 100, "data": {"source": 0, "adds": []}}),
        );
    }
    let batch =
        json!({"sessionId": "s-sql", "batch": 0, "events": events, "meta": {"userId": "ada"}});
    e.post_replay(&batch);

    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Any::StringValue(v.into())),
        }),
        ..Default::default()
    };
    let span = |id: u8, parent: Vec<u8>, start_ms: u64, attrs: Vec<KeyValue>| Span {
        trace_id: vec![0x77; 16],
        span_id: vec![id; 8],
        parent_span_id: parent,
        name: format!("span {id}"),
        start_time_unix_nano: start_ms * 1_000_000,
        end_time_unix_nano: (start_ms + 20) * 1_000_000,
        attributes: attrs,
        ..Default::default()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "api")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span(2, vec![1; 8], t + 600, vec![]),
                    span(1, vec![], t + 500, vec![kv("session.id", "s-sql")]),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/traces", req.encode_to_vec());
}

#[test]
fn the_seed_queries_are_one_liners() {
    let e = Engine::start();
    seed(&e);
    // All events of a user, by time.
    let events = rows(
        &e,
        "SELECT kind, target FROM session_events JOIN sessions USING (session_id)
          WHERE user_id = 'ada' ORDER BY time_unix_nano",
    );
    assert_eq!(
        events[0],
        [json!("page_view"), json!("http://shop/checkout")]
    );
    assert!(events.iter().any(|r| r[0] == "rage_click"));
    // Frustrated users in the last hour.
    let frustrated = rows(
        &e,
        "SELECT user_id, frustration_score FROM sessions
          WHERE frustration_score > 0 AND last_seen_unix_nano > (unixepoch() - 3600) * 1000000000",
    );
    assert_eq!(frustrated.len(), 1);
    assert_eq!(frustrated[0][0], "ada");
    // Rage clicks by page.
    let by_page = rows(
        &e,
        "SELECT page_url, count(*) FROM session_events WHERE kind = 'rage_click' GROUP BY page_url",
    );
    assert_eq!(by_page, vec![vec![json!("http://shop/checkout"), json!(1)]]);
    // All spans of one session, by start: the child span carries no session attribute but
    // belongs to the session through its trace.
    let spans = rows(
        &e,
        "SELECT span_id, trace_id, service_name FROM spans WHERE session_id = 's-sql'
          ORDER BY start_time_unix_nano",
    );
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0][0], "0101010101010101");
    assert_eq!(spans[0][1], "77777777777777777777777777777777");
    assert_eq!(spans[1][0], "0202020202020202");

    let (_, body) = sql(
        &e,
        "SELECT start_time_unix_nano, duration_ns FROM spans LIMIT 1",
    );
    assert_eq!(
        body["columns"],
        json!(["start_time_unix_nano", "duration_ns"])
    );
    assert!(
        body["rows"][0][0].is_string(),
        "nanosecond times exceed 2^53: sent as strings"
    );
    assert_eq!(body["rows"][0][1], 20_000_000);
    assert_eq!(body["truncated"], false);
    assert!(body["elapsedMs"].is_number());
}

#[test]
fn nothing_but_reading_is_possible() {
    let e = Engine::start();
    seed(&e);
    for statement in [
        "DELETE FROM spans",
        "DELETE FROM main.spans",
        "INSERT INTO main.sessions (session_id) VALUES ('x')",
        "UPDATE main.sessions SET user_id = 'mallory'",
        "DROP TABLE main.spans",
        "CREATE TABLE evil (x)",
        "CREATE TEMP TABLE evil (x)",
        "ATTACH DATABASE '/tmp/evil.db' AS evil",
        "PRAGMA query_only = 0",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA main.user_version = 99",
        "SELECT 1; DELETE FROM main.spans",
        "VACUUM",
        "SELECT load_extension('/tmp/evil.so')",
    ] {
        let (status, body) = sql(&e, statement);
        assert_eq!(status, 400, "{statement}: {body}");
        assert_eq!(body["error"], "bad_request");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(rows(&e, "SELECT count(*) FROM spans"), vec![vec![json!(2)]]);
    assert_eq!(
        rows(&e, "SELECT user_id FROM sessions"),
        vec![vec![json!("ada")]]
    );
    // Reading PRAGMAs is fine.
    assert_eq!(rows(&e, "PRAGMA query_only"), vec![vec![json!(1)]]);
}

#[test]
fn runaway_queries_are_capped_or_stopped() {
    let e = Engine::with_limits(Limits {
        sql_time_limit: Duration::from_millis(300),
        sql_row_cap: 500,
        ..Limits::default()
    });
    let endless = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)";
    let (status, body) = sql(&e, &format!("{endless} SELECT x FROM r"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"].as_array().unwrap().len(), 500);
    assert_eq!(body["truncated"], true);

    let (status, body) = sql(&e, &format!("{endless} SELECT count(*) FROM r"));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("300 ms limit"),
        "{body}"
    );

    // The engine is still fine afterwards.
    assert_eq!(rows(&e, "SELECT 41 + 1"), vec![vec![json!(42)]]);
    let (status, body) = sql(&e, "SELEC nonsense");
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("syntax error"),
        "{body}"
    );
}

#[test]
fn the_api_answers_only_loopback_host_names() {
    let e = Engine::start();
    let get = |host: &str| {
        reqwest::blocking::Client::new()
            .get(e.api_url("/api/v1/stats"))
            .header("host", host)
            .send()
            .unwrap()
    };
    let resp = get("evil.example:4320");
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().unwrap();
    assert_eq!(body["error"], "forbidden");
    assert!(body["message"].as_str().unwrap().contains("DNS rebinding"));
    assert_eq!(get(&format!("localhost:{}", e.ui.port())).status(), 200);
    assert_eq!(get(&format!("127.0.0.1:{}", e.ui.port())).status(), 200);
}

/// Semantic events of the OpenTelemetry session-replay scheme, as its agent exports them
/// (OTLP/JSON logs): two users, rage clicks on two pages.
fn seed_semantic(e: &Engine) {
    let t = 1_763_000_000_000u64;
    let record = |seq: u64, user: &str, session: &str, body: &str, page: &str, target: &str| {
        json!({"timeUnixNano": ((t + seq * 1000) * 1_000_000).to_string(),
        "body": {"stringValue": body},
        "attributes": [
            {"key": "session.id", "value": {"stringValue": session}},
            {"key": "session.sequence", "value": {"intValue": seq.to_string()}},
            {"key": "user.id", "value": {"stringValue": user}},
            {"key": "page.url", "value": {"stringValue": page}},
            {"key": "target.semantic_name", "value": {"stringValue": target}},
        ]})
    };
    let records = vec![
        record(
            1,
            "ada",
            "sem-a",
            "user.click",
            "http://shop/cart",
            "Checkout",
        ),
        record(
            2,
            "ada",
            "sem-a",
            "user.frustration.rage_click",
            "http://shop/cart",
            "Checkout",
        ),
        record(
            3,
            "ada",
            "sem-a",
            "user.frustration.rage_click",
            "http://shop/pay",
            "Pay",
        ),
        record(
            4,
            "bob",
            "sem-b",
            "user.frustration.dead_click",
            "http://shop/pay",
            "Pay",
        ),
    ];
    let body = json!({"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "shop-web"}}]},
        "scopeLogs": [{"scope": {"name": "session-replay"}, "logRecords": records}]}]});
    let resp = reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Every example on the SQL page runs against recorded data and answers; the session-replay
/// scheme's own three questions are answered from its events as logs.
#[test]
fn every_example_on_the_sql_page_answers() {
    let e = Engine::start();
    seed(&e);
    seed_semantic(&e);
    let examples: Vec<Value> =
        serde_json::from_str(include_str!("../ui/src/app/sql-examples.json")).unwrap();
    assert!(examples.len() >= 8);
    let mut answers = std::collections::HashMap::new();
    for ex in &examples {
        let (label, statement) = (ex["label"].as_str().unwrap(), ex["sql"].as_str().unwrap());
        answers.insert(label.to_owned(), rows(&e, statement));
    }
    let of_user = &answers["Semantic events of one user, in order (OTLP logs)"];
    let events: Vec<&Value> = of_user.iter().map(|r| &r[2]).collect();
    assert_eq!(
        events,
        [
            &json!("user.click"),
            &json!("user.frustration.rage_click"),
            &json!("user.frustration.rage_click")
        ],
        "{of_user:?}"
    );
    assert_eq!(
        answers["Frustrated users by count (OTLP logs)"],
        vec![vec![json!("ada"), json!(2)], vec![json!("bob"), json!(1)]]
    );
    assert_eq!(
        answers["Rage clicks by page (OTLP logs)"],
        vec![
            vec![json!("http://shop/cart"), json!(1)],
            vec![json!("http://shop/pay"), json!(1)]
        ]
    );
    // The replay-recorded session's questions still answer from the session views.
    // Reported signals are the sessions' signals too: a rage click on each of three pages.
    assert_eq!(
        answers["Rage clicks by page"].len(),
        3,
        "{:?}",
        answers["Rage clicks by page"]
    );
}

/// A statement cannot take the engine's memory: SQLite refuses to build a huge value, and an
/// answer stops at its byte cap (three such queries at once once got the engine OOM-killed).
#[test]
fn results_are_bounded_in_bytes() {
    let e = Engine::start();
    let (status, body) = sql(&e, "SELECT zeroblob(200000000)");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("too big"),
        "{body}"
    );
    // 40 rows of 4 MB each (8 MB as hex): the answer stops near its cap, and says so.
    let (status, body) = sql(
        &e,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
         SELECT i, zeroblob(4000000) FROM n",
    );
    assert_eq!(status, 200, "{}", &body.to_string()[..200]);
    assert_eq!(body["truncated"], true);
    let rows = body["rows"].as_array().unwrap().len();
    assert!((1..40).contains(&rows), "{rows} rows");
    let sent = body.to_string().len();
    assert!(
        sent <= sightline_store::sql::MAX_RESULT_BYTES + 1024 * 1024,
        "{sent} bytes"
    );
}
