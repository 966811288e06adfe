//! `POST /v1/replay`: recorder batches stored once, in order, compressed, indexed; bad batches
//! refused whole with a reason.

use std::io::Write;

use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use sightline_store::views;
use sightline_tests::{json, json_list, Engine};

fn send(e: &Engine, ctype: &str, gzip: bool, body: &Value) -> Response {
    let mut bytes = body.to_string().into_bytes();
    let mut req = Client::new()
        .post(e.otlp_url("/v1/replay"))
        .header("content-type", ctype);
    if gzip {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        bytes = gz.finish().unwrap();
        req = req.header("content-encoding", "gzip");
    }
    req.body(bytes).send().unwrap()
}

/// A batch shaped like rrweb's output: a meta event and a full snapshot in batch 0, then
/// incremental mouse moves and clicks.
fn batch(session: &str, n: u64, start_ms: u64) -> Value {
    let mut events = Vec::new();
    if n == 0 {
        events.push(json!({"type": 4, "data": {"href": "http://shop.localhost/", "width": 1280, "height": 720}, "timestamp": start_ms}));
        events.push(json!({"type": 2, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"left": 0, "top": 0}}, "timestamp": start_ms + 1}));
    }
    for i in 0..20u64 {
        events.push(json!({"type": 3, "data": {"source": 1, "positions": [{"x": i, "y": 2 * i, "id": 5, "timeOffset": 0}]}, "timestamp": start_ms + 10 + i * 50}));
    }
    json!({
        "sessionId": session,
        "batch": n,
        "events": events,
        "meta": {"userId": "u-42", "userEmail": "ada@example.com", "url": "http://shop.localhost/",
                 "userAgent": "Mozilla/5.0 test", "viewport": {"width": 1280, "height": 720},
                 "release": "2026.11"}
    })
}

fn session(e: &Engine, id: &str) -> Option<Value> {
    e.read(|c| views::session_view(c, id).unwrap()).map(json)
}

fn events(e: &Engine, id: &str) -> Vec<Value> {
    e.read(|c| views::replay_events(c, id).unwrap())
}

#[test]
fn a_batch_is_stored_with_its_session() {
    let e = Engine::start();
    let resp = send(
        &e,
        "application/json",
        false,
        &batch("s-1", 0, 1_763_000_000_000),
    );
    assert_eq!(resp.status(), 200);
    // The answer also tells the recorder whether an incident window covers its session.
    assert_eq!(
        resp.json::<Value>().unwrap(),
        json!({"ok": true, "incidentMode": {"active": false, "id": null, "until": null, "scope": null}})
    );
    let s = session(&e, "s-1").expect("session row");
    assert_eq!(s["userId"], "u-42");
    assert_eq!(s["userEmail"], "ada@example.com");
    assert_eq!(s["startUrl"], "http://shop.localhost/");
    assert_eq!(s["userAgent"], "Mozilla/5.0 test");
    assert_eq!(s["viewport"], json!({"width": 1280, "height": 720}));
    assert_eq!(s["attributes"], json!({"release": "2026.11"}));
    assert_eq!(s["eventCount"], 22);
    assert_eq!(s["firstSeenMs"], 1_763_000_000_000_i64);
    assert_eq!(s["lastSeenMs"], 1_763_000_000_000_i64 + 10 + 19 * 50);
    assert_eq!(s["pages"][0]["url"], "http://shop.localhost/");
    assert!(s["storedBytes"].as_i64().unwrap() < s["rawBytes"].as_i64().unwrap());
    let stored = events(&e, "s-1");
    assert_eq!(stored.len(), 22);
    assert_eq!(stored[1]["type"], 2);
    let checkpoints = e.read(|c| views::replay_checkpoints(c, "s-1").unwrap());
    assert_eq!(checkpoints, vec![(1_763_000_000_001, 0, 1)]);
}

#[test]
fn a_retried_batch_is_stored_once() {
    let e = Engine::start();
    let b = batch("s-2", 0, 1_763_000_000_000);
    for _ in 0..3 {
        assert_eq!(send(&e, "application/json", false, &b).status(), 200);
    }
    let s = session(&e, "s-2").unwrap();
    assert_eq!(s["eventCount"], 22, "counted once");
    assert_eq!(s["batchCount"], 1);
    assert_eq!(events(&e, "s-2").len(), 22);
    assert_eq!(
        e.read(|c| views::replay_checkpoints(c, "s-2").unwrap())
            .len(),
        1
    );
}

#[test]
fn out_of_order_batches_are_read_back_in_order() {
    let e = Engine::start();
    let t0 = 1_763_000_000_000;
    for n in [2u64, 0, 3, 1] {
        let resp = send(
            &e,
            "application/json",
            false,
            &batch("s-3", n, t0 + n * 1_000),
        );
        assert_eq!(resp.status(), 200);
    }
    let stored = events(&e, "s-3");
    assert_eq!(stored.len(), 22 + 3 * 20);
    let times: Vec<f64> = stored
        .iter()
        .map(|ev| ev["timestamp"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let s = session(&e, "s-3").unwrap();
    assert_eq!(s["firstSeenMs"], t0 as i64);
    assert_eq!(s["batchCount"], 4);
}

#[test]
fn beacon_style_text_plain_and_gzip_are_accepted() {
    let e = Engine::start();
    let resp = send(
        &e,
        "text/plain;charset=UTF-8",
        false,
        &batch("s-4", 0, 1_763_000_000_000),
    );
    assert_eq!(resp.status(), 200);
    let resp = send(
        &e,
        "application/json",
        true,
        &batch("s-4", 1, 1_763_000_001_000),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(events(&e, "s-4").len(), 42);
}

#[test]
fn a_bad_batch_is_refused_whole_with_the_reason() {
    let e = Engine::start();
    let mut b = batch("s-5", 0, 1_763_000_000_000);
    // One event in the middle has no timestamp: nothing of the batch may be stored.
    b["events"][7].as_object_mut().unwrap().remove("timestamp");
    let resp = send(&e, "application/json", false, &b);
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().unwrap();
    assert_eq!(err["error"], "bad_request");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("events[7].timestamp"),
        "{err}"
    );
    assert!(session(&e, "s-5").is_none());
    assert!(events(&e, "s-5").is_empty());

    let resp = send(
        &e,
        "application/json",
        false,
        &json!({"sessionId": "s-5", "events": []}),
    );
    assert_eq!(resp.status(), 400);
    assert!(resp.text().unwrap().contains("batch is missing"));

    let resp = Client::new()
        .post(e.otlp_url("/v1/replay"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);

    let resp = send(&e, "application/x-protobuf", false, &batch("s-5", 0, 1));
    assert_eq!(resp.status(), 415);
    assert!(resp.text().unwrap().contains("text/plain"));
}

#[test]
fn browsers_may_post_replay_from_any_origin() {
    let e = Engine::start();
    let resp = Client::new()
        .request(reqwest::Method::OPTIONS, e.otlp_url("/v1/replay"))
        .header("origin", "http://shop.localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}

fn click(t: u64, x: u64, y: u64) -> Value {
    json!({"type": 3, "data": {"source": 2, "type": 2, "id": 42, "x": x, "y": y}, "timestamp": t})
}

fn dom(t: u64) -> Value {
    json!({"type": 3, "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": []}, "timestamp": t})
}

fn signals(e: &Engine, id: &str) -> Vec<Value> {
    json_list(e.read(|c| views::frustration_signals(c, id).unwrap()))
}

#[test]
fn rage_clicks_are_detected_with_their_reason_and_raise_the_score() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let mut events =
        vec![json!({"type": 4, "data": {"href": "http://shop/checkout"}, "timestamp": t})];
    for i in 0..5 {
        events.push(click(t + 100 + i * 120, 400 + i, 300));
        events.push(json!({"type": 5, "data": {"tag": "sightline.click", "payload": {"target": "Place order"}}, "timestamp": t + 100 + i * 120}));
        events.push(dom(t + 150 + i * 120));
    }
    let b = json!({"sessionId": "rage", "batch": 0, "events": events});
    assert_eq!(send(&e, "application/json", false, &b).status(), 200);
    let found = signals(&e, "rage");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "rage_click");
    assert_eq!(found[0]["target"], "Place order");
    assert!(found[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("5 clicks within 480 ms"));
    assert_eq!(found[0]["evidence"].as_array().unwrap().len(), 5);
    let s = session(&e, "rage").unwrap();
    assert_eq!(s["frustrationScore"], 1.5);

    // A retry changes nothing.
    assert_eq!(send(&e, "application/json", false, &b).status(), 200);
    assert_eq!(signals(&e, "rage").len(), 1);
    let indexed = json_list(e.read(|c| views::session_events(c, "rage").unwrap()));
    assert_eq!(indexed.iter().filter(|ev| ev["kind"] == "click").count(), 5);
}

#[test]
fn a_late_batch_corrects_a_dead_click() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    // Batch 0 ends with a click; the page's reaction is in batch 1, which arrives later.
    let b0 = json!({"sessionId": "late", "batch": 0, "events": [dom(t), click(t + 900, 10, 10)]});
    assert_eq!(send(&e, "application/json", false, &b0).status(), 200);
    let before = signals(&e, "late");
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["kind"], "dead_click");
    assert_eq!(session(&e, "late").unwrap()["frustrationScore"], 0.5);

    let b1 = json!({"sessionId": "late", "batch": 1, "events": [dom(t + 1200)]});
    assert_eq!(send(&e, "application/json", false, &b1).status(), 200);
    assert!(signals(&e, "late").is_empty(), "{:?}", signals(&e, "late"));
    assert_eq!(session(&e, "late").unwrap()["frustrationScore"], 0.0);
}

/// The recorder reports a request when it completes: a click that started a slow request
/// answered (the request began right after it), even when the report comes seconds later and
/// in a later batch.
#[test]
fn a_click_that_starts_a_slow_request_is_not_dead() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let slow = |at: u64, duration: u64| {
        json!({"type": 5, "timestamp": at, "data": {"tag": "sightline.network", "payload": {
            "method": "POST", "url": "http://shop/api/checkout", "status": 500, "durationMs": duration}}})
    };
    let b0 = json!({"sessionId": "slow", "batch": 0, "events": [
        dom(t), click(t + 100, 10, 10), slow(t + 5_200, 5_080),
        click(t + 9_000, 50, 50)]});
    assert_eq!(send(&e, "application/json", false, &b0).status(), 200);
    let found = signals(&e, "slow");
    assert_eq!(
        found.len(),
        1,
        "only the last click is dead so far: {found:?}"
    );
    assert_eq!(found[0]["evidence"], json!([t + 9_000]));

    let b1 = json!({"sessionId": "slow", "batch": 1, "events": [slow(t + 14_000, 4_990)]});
    assert_eq!(send(&e, "application/json", false, &b1).status(), 200);
    assert!(signals(&e, "slow").is_empty(), "{:?}", signals(&e, "slow"));
}

#[test]
fn errors_and_network_requests_are_indexed() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let events = vec![
        click(t, 5, 5),
        json!({"type": 5, "data": {"tag": "sightline.error", "payload": {"message": "TypeError: x is undefined"}}, "timestamp": t + 300}),
        json!({"type": 5, "data": {"tag": "sightline.network", "payload": {"method": "GET", "url": "http://api/cart", "status": 200, "durationMs": 31, "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}}, "timestamp": t + 500}),
        json!({"type": 6, "data": {"plugin": "rrweb/console@1", "payload": {"level": "error", "payload": ["\"cart failed\""], "trace": []}}, "timestamp": t + 600}),
    ];
    let b = json!({"sessionId": "errs", "batch": 0, "events": events});
    assert_eq!(send(&e, "application/json", false, &b).status(), 200);
    let s = session(&e, "errs").unwrap();
    assert_eq!(
        s["errorCount"], 2,
        "the uncaught error and the console error"
    );
    let found = signals(&e, "errs");
    assert_eq!(found[0]["kind"], "error_click");
    let indexed = json_list(e.read(|c| views::session_events(c, "errs").unwrap()));
    let network = indexed.iter().find(|ev| ev["kind"] == "network").unwrap();
    assert_eq!(network["traceId"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(network["target"], "http://api/cart");
    assert_eq!(network["data"]["durationMs"], 31);
}

#[test]
fn seeking_starts_at_the_nearest_full_snapshot() {
    let e = Engine::start();
    let t0 = 1_763_000_000_000u64;
    let minute = 60_000u64;
    // 45 minutes in 1-minute batches, with a full snapshot (and its meta event) every 5 minutes.
    for n in 0..45u64 {
        let start = t0 + n * minute;
        let mut events = Vec::new();
        if n % 5 == 0 {
            events.push(json!({"type": 4, "data": {"href": "http://shop/", "width": 1280, "height": 720}, "timestamp": start}));
            events.push(json!({"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}, "initialOffset": {"left": 0, "top": 0}}, "timestamp": start + 1}));
        }
        for i in 0..10u64 {
            events.push(json!({"type": 3, "data": {"source": 1, "positions": [{"x": i, "y": n, "id": 1, "timeOffset": 0}]}, "timestamp": start + 100 + i * 5000}));
        }
        let b = json!({"sessionId": "long", "batch": n, "events": events});
        assert_eq!(send(&e, "application/json", false, &b).status(), 200);
    }
    // Minute 40 to 41.
    let from = (t0 + 40 * minute + 30_000) as i64;
    let window = e.read(|c| views::replay_window(c, "long", from, from + 60_000).unwrap());
    assert_eq!(window.checkpoint_ms, Some((t0 + 40 * minute + 1) as i64));
    assert_eq!(
        window.chunks_decoded, 2,
        "only minutes 40 and 41 are decoded, not 0 to 39"
    );
    assert_eq!(
        window.events[0]["type"], 4,
        "the meta event that announces the snapshot"
    );
    assert_eq!(window.events[1]["type"], 2, "then the snapshot itself");
    let last = window.events.last().unwrap()["timestamp"].as_i64().unwrap();
    assert!(last <= from + 60_000);

    // Before the first snapshot there is nothing to start from but the beginning.
    let start = e.read(|c| views::replay_window(c, "long", t0 as i64, t0 as i64 + 1).unwrap());
    assert_eq!(start.checkpoint_ms, None);
    assert_eq!(start.chunks_decoded, 1);
    assert_eq!(
        start.events.len(),
        2,
        "the meta event and the first snapshot"
    );
}

/// A recording made by rrweb's own `record()` names nothing: the engine reads the names from
/// the snapshot it stores, and knows a click into a field from a click on a dead control,
/// whichever batch the snapshot came in.
#[test]
fn plain_rrweb_clicks_are_named_from_the_dom_and_fields_are_never_dead() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let el = |id: u64, tag: &str, attrs: Value, children: Vec<Value>| json!({"type": 2, "id": id, "tagName": tag, "attributes": attrs, "childNodes": children});
    let text = |id: u64, s: &str| json!({"type": 3, "id": id, "textContent": s});
    let page = json!({"type": 2, "timestamp": t + 1, "data": {"initialOffset": {"left": 0, "top": 0},
    "node": {"type": 0, "id": 1, "childNodes": [el(2, "html", json!({}), vec![
        el(3, "body", json!({}), vec![
            el(10, "label", json!({"for": "email"}), vec![text(11, "Email")]),
            el(12, "input", json!({"id": "email", "type": "email"}), vec![]),
            el(20, "div", json!({"class": "fake-button"}), vec![text(21, "Estimate shipping")]),
            el(30, "a", json!({"href": "/cart"}), vec![text(31, "Cart "), el(32, "span", json!({}), vec![text(33, "2")])]),
        ])])]}}});
    let click_on = |at: u64, id: u64| json!({"type": 3, "timestamp": at, "data": {"source": 2, "type": 2, "id": id, "x": 5 * id, "y": 9}});
    let b0 = json!({"sessionId": "plain", "batch": 0, "events": [
        {"type": 4, "timestamp": t, "data": {"href": "http://shop/checkout", "width": 1280, "height": 800}},
        page]});
    assert_eq!(send(&e, "application/json", false, &b0).status(), 200);
    // The clicks come in the next batch, as a glue script that sends every few seconds does.
    let b1 = json!({"sessionId": "plain", "batch": 1, "events": [
        click_on(t + 1_000, 12),
        {"type": 3, "timestamp": t + 1_001, "data": {"source": 2, "type": 5, "id": 12}},
        click_on(t + 2_000, 10),
        click_on(t + 6_000, 20),
        click_on(t + 12_000, 32),
        click_on(t + 18_000, 12),
    ]});
    assert_eq!(send(&e, "application/json", false, &b1).status(), 200);

    let clicks: Vec<Value> = json_list(e.read(|c| views::session_events(c, "plain").unwrap()))
        .into_iter()
        .filter(|ev| ev["kind"] == "click")
        .collect();
    let names: Vec<&str> = clicks
        .iter()
        .map(|c| c["target"].as_str().unwrap_or("<unnamed>"))
        .collect();
    assert_eq!(
        names,
        ["Email", "Email", "Estimate shipping", "Cart 2", "Email"]
    );
    // Only the styled div and the link (no navigation followed it) are dead; no click into
    // the field or its label is, focused or not.
    let dead: Vec<String> = signals(&e, "plain")
        .iter()
        .map(|s| format!("{} {}", s["kind"], s["target"]))
        .collect();
    assert_eq!(
        dead,
        [
            "\"dead_click\" \"Estimate shipping\"",
            "\"dead_click\" \"Cart 2\""
        ]
    );
}

/// A single-page app's routes are pages of the session: listed, counted and found by search,
/// the last one too (it began no batch of its own).
#[test]
fn client_side_routes_are_pages_listed_and_searchable() {
    let e = Engine::start();
    let t = 1_763_000_000_000u64;
    let nav = |at: u64, url: &str| json!({"type": 5, "timestamp": at, "data": {"tag": "sightline.navigation", "payload": {"url": url}}});
    let b = json!({"sessionId": "spa", "batch": 0, "meta": {"url": "http://shop/"}, "events": [
        {"type": 4, "timestamp": t, "data": {"href": "http://shop/"}},
        nav(t + 1_000, "http://shop/products?page=2"),
        nav(t + 2_000, "http://shop/orders/77"),
    ]});
    assert_eq!(send(&e, "application/json", false, &b).status(), 200);
    let s = session(&e, "spa").unwrap();
    let pages: Vec<&str> = s["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        pages,
        [
            "http://shop/",
            "http://shop/products?page=2",
            "http://shop/orders/77"
        ]
    );
    for q in ["q=orders%2F77", "url=orders"] {
        let (_, found) = e.api(&format!("/api/v1/sessions?{q}"));
        assert_eq!(found["sessions"][0]["sessionId"], "spa", "{q}: {found}");
        assert_eq!(found["sessions"][0]["pageCount"], 3, "{q}");
    }
    let (_, list) = e.api("/api/v1/sessions");
    let facets: Vec<&str> = list["facets"]["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert!(facets.contains(&"http://shop/orders/77"), "{facets:?}");
}
