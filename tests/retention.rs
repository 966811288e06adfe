//! Retention with an injected clock: ordinary sessions go after 14 days, sessions with errors
//! after 60, pinned ones never (until unpinned); traces and logs of no session follow their own
//! limit; past the size cap the oldest unpinned sessions go first; everything a session owns
//! goes with it, the counters follow, and the space is reclaimed.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};
use sightline_store::retention::RetentionConfig;
use sightline_tests::Engine;

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 24 * 60 * 60 * 1000;

fn trace_id(n: u8) -> String {
    format!("{:02x}", n).repeat(16)
}

/// A session `days` old: a page, a request linked to its trace (2 spans, 1 log), and an
/// uncaught error if `error`.
fn session(e: &Engine, id: &str, n: u8, days: i64, error: bool) {
    let t = NOW - days * DAY;
    let mut events = vec![
        json!({"type": 4, "timestamp": t, "data": {"href": format!("https://shop.test/{id}")}}),
        json!({"type": 5, "timestamp": t + 10, "data": {"tag": "sightline.network", "payload": {
            "method": "GET", "url": "https://shop.test/api", "status": 200, "traceId": trace_id(n), "spanId": "aaaaaaaaaaaaaaaa"}}}),
    ];
    if error {
        events.push(json!({"type": 5, "timestamp": t + 20, "data": {"tag": "sightline.error", "payload": {"message": "boom"}}}));
    }
    // A page's worth of DOM, as a full snapshot carries: sessions take real space.
    let dom: String = (0..2_000).map(|i| format!("<p>item {n}-{i}</p>")).collect();
    events.push(json!({"type": 2, "timestamp": t + 1, "data": {"node": {"type": 0, "id": 1, "childNodes": [{"type": 3, "id": 2, "textContent": dom}]}}}));
    e.post_replay(&json!({"sessionId": id, "batch": 0, "events": events}));
    spans_and_log(e, n, t);
}

fn spans_and_log(e: &Engine, n: u8, t: i64) {
    let span = |id: u8| Span {
        trace_id: hex::decode(trace_id(n)).unwrap(),
        span_id: vec![id; 8],
        name: format!("span {id}"),
        start_time_unix_nano: (t * 1_000_000) as u64,
        end_time_unix_nano: ((t + 5) * 1_000_000) as u64,
        ..Default::default()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span(1), span(2)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/traces", req.encode_to_vec());
    log(e, Some(n), t);
}

fn log(e: &Engine, trace: Option<u8>, t: i64) {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: (t * 1_000_000) as u64,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("work".into())),
                    }),
                    trace_id: trace
                        .map(|n| hex::decode(trace_id(n)).unwrap())
                        .unwrap_or_default(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    e.post_protobuf("/v1/logs", req.encode_to_vec());
}

fn sessions(e: &Engine) -> Vec<String> {
    let (_, list) = e.api("/api/v1/sessions?limit=100&facets=false");
    let mut ids: Vec<String> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn count(e: &Engine, table: &str) -> i64 {
    e.read(|c| {
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    })
}

fn trace_exists(e: &Engine, n: u8) -> bool {
    e.api(&format!("/api/v1/traces/{}", trace_id(n))).0 == 200
}

fn pin(e: &Engine, id: &str, pin: bool) {
    let client = reqwest::blocking::Client::new();
    let url = e.api_url(&format!("/api/v1/sessions/{id}/pin"));
    let resp = if pin {
        client
            .post(url)
            .json(&json!({"note": "https://tracker.test/BUG-9"}))
            .send()
    } else {
        client.delete(url).send()
    }
    .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn old_sessions_go_pinned_and_error_sessions_stay() {
    let e = Engine::start();
    session(&e, "fresh", 1, 1, false);
    session(&e, "old", 2, 20, false);
    session(&e, "old-with-error", 3, 20, true);
    session(&e, "ancient-with-error", 4, 70, true);
    session(&e, "ancient-pinned", 5, 100, false);
    spans_and_log(&e, 6, NOW - 20 * DAY); // a trace of no session, old
    spans_and_log(&e, 7, NOW - DAY); // and a recent one
    log(&e, None, NOW - 20 * DAY); // a log of nothing, old
    pin(&e, "ancient-pinned", true);
    let (_, pinned) = e.api("/api/v1/sessions/ancient-pinned");
    assert_eq!(pinned["pinned"]["note"], "https://tracker.test/BUG-9");
    let spans_before = e.stats()["spans"].as_i64().unwrap();

    let pruned = e.prune(&RetentionConfig::default(), NOW);
    assert_eq!(
        (pruned.sessions, pruned.traces, pruned.logs),
        (2, 1, 1),
        "{pruned:?}"
    );
    assert_eq!(sessions(&e), ["ancient-pinned", "fresh", "old-with-error"]);
    // What the deleted sessions owned went with them; the rest is untouched.
    for (n, kept) in [
        (1, true),
        (2, false),
        (3, true),
        (4, false),
        (5, true),
        (6, false),
        (7, true),
    ] {
        assert_eq!(trace_exists(&e, n), kept, "trace {n}");
    }
    assert_eq!(e.api("/api/v1/sessions/old/timeline").0, 404);
    for table in ["replay_chunks", "session_events", "session_pages"] {
        let orphaned: i64 = e.read(|c| {
            c.query_row(
                &format!("SELECT count(*) FROM {table} WHERE session_id NOT IN (SELECT session_id FROM sessions)"),
                [],
                |r| r.get(0),
            )
            .unwrap()
        });
        assert_eq!(orphaned, 0, "{table} keeps nothing of a deleted session");
    }
    // The counters the status page reads follow the deletions.
    let stats: Value = e.stats();
    assert_eq!(stats["spans"].as_i64().unwrap(), count(&e, "spans"));
    assert_eq!(stats["spans"].as_i64().unwrap(), spans_before - 6);
    assert_eq!(stats["logs"].as_i64().unwrap(), count(&e, "logs"));
    assert_eq!(stats["sessions"].as_i64().unwrap(), 3);

    // A second pass finds nothing; unpinned, the ancient session goes on the next.
    assert_eq!(e.prune(&RetentionConfig::default(), NOW).sessions, 0);
    pin(&e, "ancient-pinned", false);
    assert_eq!(e.prune(&RetentionConfig::default(), NOW).sessions, 1);
    assert_eq!(sessions(&e), ["fresh", "old-with-error"]);
    // Past its sixty days, the error session goes too (ordinary ones kept a year here).
    let year = RetentionConfig {
        session_days: 365,
        ..RetentionConfig::default()
    };
    e.prune(&year, NOW + 41 * DAY);
    assert_eq!(sessions(&e), ["fresh"]);
}

#[test]
fn past_the_size_cap_the_oldest_unpinned_go_first_and_space_is_reclaimed() {
    let e = Engine::start();
    for n in 0..30u8 {
        session(&e, &format!("s{n:02}"), n + 1, 30 - n as i64, n % 3 == 0);
    }
    pin(&e, "s00", true);
    let auto_vacuum: i64 = e.read(|c| c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap());
    assert_eq!(auto_vacuum, 2, "new databases reclaim space incrementally");
    let used = |e: &Engine| e.read(|c| sightline_store::retention::used_bytes(c).unwrap());
    // Nothing is old by the policy (a year), but the cap is below what is stored.
    let cap = used(&e) - 64 * 1024;
    let policy = RetentionConfig {
        session_days: 365,
        error_session_days: 365,
        orphan_days: 365,
        max_db_bytes: Some(cap),
    };
    let pruned = e.prune(&policy, NOW);
    assert!(pruned.for_size > 0, "{pruned:?}");
    let left = sessions(&e);
    assert!(
        used(&e) <= cap || left == ["s00"],
        "under the cap again, or all but the pinned gone"
    );
    assert!(left.contains(&"s00".to_owned()), "pinned survives the cap");
    assert!(left.len() > 1, "only what the cap needed went: {left:?}");
    // Ordinary sessions go before those with errors, oldest (lowest number) first.
    let is_error = |s: &str| s[1..].parse::<u32>().unwrap() % 3 == 0;
    let gone: Vec<String> = (0..30)
        .map(|n| format!("s{n:02}"))
        .filter(|s| !left.contains(s))
        .collect();
    assert!(
        gone.contains(&"s01".to_owned()),
        "the oldest ordinary session: {gone:?}"
    );
    if gone.iter().any(|s| is_error(s)) {
        assert!(
            left.iter().all(|s| is_error(s)),
            "errors go only after every ordinary one: {left:?}"
        );
    }
    // The pages freed were returned: few free pages are left in the file.
    let free: i64 = e.read(|c| {
        c.query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .unwrap()
    });
    assert!(free < 64, "{free} free pages");
}
