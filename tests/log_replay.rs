//! Session replay carried in OTLP logs lands in the same session as `/v1/replay` would put it:
//! HyperDX's browser SDK (rrweb events in pieces) and the OpenTelemetry session-replay agents'
//! semantic events.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value as Any, AnyValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{json, Value};
use sightline_store::views;
use sightline_tests::{json, json_list, Engine};

fn s(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Any::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn i(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Any::IntValue(v)),
        }),
        ..Default::default()
    }
}

fn record(body: &str, ms: u64, attrs: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        time_unix_nano: ms * 1_000_000,
        body: Some(AnyValue {
            value: Some(Any::StringValue(body.into())),
        }),
        attributes: attrs,
        ..Default::default()
    }
}

fn request(
    resource: Vec<KeyValue>,
    scope: &str,
    records: Vec<LogRecord>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn send(e: &Engine, req: &ExportLogsServiceRequest) -> ExportLogsServiceResponse {
    let body = e.post_protobuf("/v1/logs", req.encode_to_vec());
    ExportLogsServiceResponse::decode(&body[..]).unwrap()
}

/// rrweb events as HyperDX sends them: one log record per piece of the stringified event.
fn hyperdx_records(events: &[Value], split_event: usize) -> Vec<LogRecord> {
    let mut out = Vec::new();
    let mut offset = 1;
    for (n, ev) in events.iter().enumerate() {
        let text = ev.to_string();
        let pieces: Vec<String> = if n == split_event {
            let mid = text.len() / 2;
            vec![text[..mid].to_owned(), text[mid..].to_owned()]
        } else {
            vec![text]
        };
        let total = pieces.len() as i64;
        for (c, piece) in pieces.iter().enumerate() {
            out.push(record(
                piece,
                ev["timestamp"].as_u64().unwrap(),
                vec![
                    i("rr-web.offset", offset),
                    i("rr-web.event", n as i64 + 1),
                    i("rr-web.chunk", c as i64 + 1),
                    i("rr-web.total-chunks", total),
                ],
            ));
            offset += 1;
        }
    }
    out
}

fn events() -> Vec<Value> {
    let t = 1_763_000_000_000u64;
    vec![
        json!({"type": 4, "data": {"href": "http://shop/", "width": 1280, "height": 720}, "timestamp": t}),
        json!({"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [{"type": 2, "tagName": "html", "attributes": {}, "childNodes": [], "id": 2}]}, "initialOffset": {"left": 0, "top": 0}}, "timestamp": t + 1}),
        json!({"type": 3, "data": {"source": 2, "type": 2, "id": 2, "x": 10, "y": 10}, "timestamp": t + 500}),
        json!({"type": 3, "data": {"source": 0, "adds": [], "removes": [], "texts": [], "attributes": []}, "timestamp": t + 600}),
    ]
}

#[test]
fn hyperdx_replay_in_otlp_logs_becomes_a_session() {
    let e = Engine::start();
    let mut records = hyperdx_records(&events(), 1);
    // An ordinary log line in the same request is still a log line.
    records.push(record("checkout started", 1_763_000_000_100, vec![]));
    let req = request(
        vec![s("service.name", "shop-web"), s("rum.sessionId", "hdx-1")],
        "rum.rr-web",
        records,
    );
    let resp = send(&e, &req);
    assert_eq!(resp.partial_success, None);

    let stored = e.read(|c| views::replay_events(c, "hdx-1").unwrap());
    assert_eq!(
        stored,
        events(),
        "the split full snapshot is reassembled exactly"
    );
    let checkpoints = e.read(|c| views::replay_checkpoints(c, "hdx-1").unwrap());
    assert_eq!(checkpoints.len(), 1);
    let session = json(
        e.read(|c| views::session_view(c, "hdx-1").unwrap())
            .unwrap(),
    );
    assert_eq!(session["eventCount"], 4);
    assert_eq!(session["pages"][0]["url"], "http://shop/");
    assert_eq!(e.stats()["logs"], 1, "only the ordinary line is a log");

    // The SDK retries the same request: stored once.
    send(&e, &req);
    assert_eq!(
        e.read(|c| views::replay_events(c, "hdx-1").unwrap()).len(),
        4
    );
}

#[test]
fn an_event_missing_a_piece_is_reported_not_dropped_silently() {
    let e = Engine::start();
    let mut records = hyperdx_records(&events(), 1);
    records.remove(2); // the second piece of the full snapshot
    let req = request(vec![s("rum.sessionId", "hdx-2")], "rum.rr-web", records);
    let partial = send(&e, &req).partial_success.expect("partial success");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(
        partial.error_message.contains("1 of its 2 pieces"),
        "{}",
        partial.error_message
    );
    assert_eq!(
        e.read(|c| views::replay_events(c, "hdx-2").unwrap()).len(),
        3
    );
}

#[test]
fn semantic_events_are_logs_and_the_sessions_story() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let common = |seq: i64, page: &str| {
        vec![
            s("session.id", "sem-1"),
            i("session.sequence", seq),
            s("user.id", "u-9"),
            s("user.email", "ada@example.com"),
            s("page.url", page),
        ]
    };
    let checkout = "http://shop/checkout";
    let mut click = common(1, checkout);
    click.extend([
        s("target.semantic_name", "Place order"),
        s("target.element", "button#place"),
    ]);
    let mut rage = common(2, checkout);
    rage.extend([
        s("target.semantic_name", "Place order"),
        s("frustration.type", "rage_click"),
        i("frustration.score", 3),
        i("frustration.click_count", 4),
        i("frustration.duration_ms", 700),
    ]);
    // A link that routes on the client 3 ms later: a page, and no dead click.
    let mut link = common(3, checkout);
    link.extend([
        s("target.semantic_name", "Orders"),
        s("target.element", "a"),
    ]);
    let mut nav = common(4, "http://shop/orders");
    nav.extend([s("event.category", "navigation")]);
    let mut apply = common(5, "http://shop/orders");
    apply.extend([
        s("target.semantic_name", "Apply coupon"),
        s("target.element", "button"),
    ]);
    let mut error = common(6, "http://shop/orders");
    error.extend([
        s("error.type", "TypeError"),
        s("error.message", "coupon is undefined"),
    ]);
    let req = request(
        vec![s("service.name", "shop-web")],
        "otel-session-replay",
        vec![
            record("user.click", t, click),
            record("user.frustration.rage_click", t + 900, rage),
            record("user.click", t + 5_000, link),
            record("user.navigation", t + 5_003, nav),
            record("user.click", t + 9_000, apply),
            record("user.error", t + 9_040, error),
        ],
    );
    assert_eq!(send(&e, &req).partial_success, None);

    let session = json(
        e.read(|c| views::session_view(c, "sem-1").unwrap())
            .unwrap(),
    );
    assert_eq!(session["userId"], "u-9");
    assert_eq!(session["userEmail"], "ada@example.com");
    assert_eq!(session["startUrl"], checkout);
    assert_eq!(session["errorCount"], 1, "user.error is a page error");
    let pages: Vec<&str> = session["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(pages, [checkout, "http://shop/orders"]);
    let indexed = json_list(e.read(|c| views::session_events(c, "sem-1").unwrap()));
    let clicks: Vec<&Value> = indexed.iter().filter(|ev| ev["kind"] == "click").collect();
    assert_eq!(clicks[0]["target"], "Place order");
    assert!(
        !indexed.iter().any(|ev| ev["kind"] == "custom"),
        "every record of the scheme means something: {indexed:#?}"
    );
    assert!(indexed
        .iter()
        .any(|ev| ev["kind"] == "error" && ev["target"] == "coupon is undefined"));

    // The reported rage click is the session's signal, marked as reported, with its score;
    // the engine adds no copy and, with no DOM stream, no dead clicks.
    let signals = json_list(e.read(|c| views::frustration_signals(c, "sem-1").unwrap()));
    let kinds: Vec<(&str, &str)> = signals
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("rage_click", "client"), ("error_click", "engine")],
        "{signals:#?}"
    );
    assert_eq!(signals[0]["score"], 3.0);
    assert_eq!(signals[0]["target"], "Place order");
    assert!(signals[0]["reason"]
        .as_str()
        .unwrap()
        .contains("4 clicks within 700 ms"));
    assert_eq!(signals[1]["target"], "Apply coupon");

    // And they are logs: the Logs page, search and the `logs` view see them, by session.
    assert_eq!(e.stats()["logs"], 6);
    let in_view: i64 = e.read(|c| {
        c.query_row(
            "SELECT count(*) FROM logs WHERE session_id = 'sem-1'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    });
    assert_eq!(in_view, 6);
    let (status, found) = e.api("/api/v1/logs?q=error");
    assert_eq!(status, 200, "{found}");
    assert!(
        found.to_string().contains("coupon is undefined"),
        "{found:#}"
    );

    // A retried request changes nothing in the session.
    assert_eq!(send(&e, &req).partial_success, None);
    let again = json_list(e.read(|c| views::frustration_signals(c, "sem-1").unwrap()));
    assert_eq!(again.len(), 2);

    // The agent exports every few seconds: a later export on the same page is no new visit.
    let mut later = common(7, "http://shop/orders");
    later.extend([
        s("target.semantic_name", "Orders"),
        s("target.element", "a"),
    ]);
    let next = request(
        vec![s("service.name", "shop-web")],
        "otel-session-replay",
        vec![record("user.click", t + 15_000, later)],
    );
    assert_eq!(send(&e, &next).partial_success, None);
    let visits = json_list(e.read(|c| views::session_events(c, "sem-1").unwrap()))
        .into_iter()
        .filter(|ev| ev["kind"] == "page_view")
        .count();
    assert_eq!(visits, 2, "checkout, then orders: no visit per export");
}

/// A client's own name for a signal is kept as `reported`, and its numbers only when sane.
#[test]
fn reported_signals_outside_the_rules_names_are_bounded() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let attrs = |seq: i64, kind: &str| {
        vec![
            s("session.id", "sem-2"),
            i("session.sequence", seq),
            s("frustration.type", kind),
            s("target.semantic_name", "Pay"),
            i("frustration.click_count", -5),
            s("frustration.score", "NaN"),
        ]
    };
    let req = request(
        vec![],
        "agent",
        vec![
            record(
                "user.frustration.form_abandonment",
                t,
                attrs(1, "form_abandonment"),
            ),
            record(
                "user.frustration.rage_click",
                t + 10_000,
                attrs(2, "rage_click"),
            ),
        ],
    );
    assert_eq!(send(&e, &req).partial_success, None);
    let signals = json_list(e.read(|c| views::frustration_signals(c, "sem-2").unwrap()));
    let kinds: Vec<&str> = signals
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reported", "rage_click"]);
    let reason = signals[0]["reason"].as_str().unwrap();
    assert!(reason.contains("as \"form_abandonment\""), "{reason}");
    assert!(
        !reason.contains("-5"),
        "a negative count is not a count: {reason}"
    );
    assert_eq!(signals[1]["score"], 1.0, "NaN is no score");
}
