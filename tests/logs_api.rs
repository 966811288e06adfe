//! Log search: free text over bodies and attributes (whole words, word starts, substrings), with
//! severity, service, trace, session, attribute (several) and time filters, newest first; one
//! record's detail; and the Logs view in Chromium.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::Value;
use sightline_tests::Engine;

const T0_NS: u64 = 1_763_000_000_000_000_000;

fn s(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn log(n: u64, severity: i32, body: &str, attrs: Vec<KeyValue>, trace: Option<u8>) -> LogRecord {
    LogRecord {
        time_unix_nano: T0_NS + n * 1_000_000_000,
        severity_number: severity,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body.into())),
        }),
        attributes: attrs,
        trace_id: trace.map(|t| vec![t; 16]).unwrap_or_default(),
        ..Default::default()
    }
}

fn seed(e: &Engine) {
    let service = |name: &str, records: Vec<LogRecord>| ResourceLogs {
        resource: Some(Resource {
            attributes: vec![s("service.name", name)],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    };
    let req = ExportLogsServiceRequest {
        resource_logs: vec![
            service(
                "api",
                vec![
                    log(1, 9, "user signed in", vec![s("user.id", "ada")], None),
                    log(
                        2,
                        17,
                        "Payment declined: card-declined by issuer",
                        vec![s("order.id", "o-7")],
                        Some(5),
                    ),
                    log(
                        3,
                        13,
                        "slow query on orders",
                        vec![s("db.table", "orders")],
                        None,
                    ),
                ],
            ),
            service(
                "payments",
                vec![
                    log(
                        4,
                        17,
                        "charge failed",
                        vec![
                            s("decline.code", "insufficient_funds"),
                            s("session.id", "shopper"),
                        ],
                        Some(5),
                    ),
                    log(5, 5, "retrying charge", vec![], None),
                ],
            ),
        ],
    };
    e.post_protobuf("/v1/logs", req.encode_to_vec());
}

fn bodies(body: &Value) -> Vec<&str> {
    body["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["body"].as_str().unwrap())
        .collect()
}

#[test]
fn logs_are_searched_by_text_and_filters() {
    let e = Engine::start();
    seed(&e);
    let (status, all) = e.api("/api/v1/logs");
    assert_eq!(status, 200);
    assert_eq!(
        bodies(&all),
        [
            "retrying charge",
            "charge failed",
            "slow query on orders",
            "Payment declined: card-declined by issuer",
            "user signed in"
        ]
    );
    for (query, expected) in [
        ("q=charge", vec!["retrying charge", "charge failed"]),
        (
            "q=card-declined",
            vec!["Payment declined: card-declined by issuer"],
        ),
        (
            "q=PAYMENT%20issuer",
            vec!["Payment declined: card-declined by issuer"],
        ),
        ("q=insufficient_funds", vec!["charge failed"]),
        ("q=%22unbalanced", vec![]),
        (
            "minSeverity=error",
            vec!["charge failed", "Payment declined: card-declined by issuer"],
        ),
        (
            "minSeverity=13&service=api",
            vec![
                "slow query on orders",
                "Payment declined: card-declined by issuer",
            ],
        ),
        (
            "traceId=05050505050505050505050505050505",
            vec!["charge failed", "Payment declined: card-declined by issuer"],
        ),
        (
            "session=shopper",
            vec!["charge failed", "Payment declined: card-declined by issuer"],
        ),
        ("attribute=db.table%3Dorders", vec!["slow query on orders"]),
        // Whole words by default; word starts and substrings when asked.
        ("q=retry", vec![]),
        ("q=retry&match=prefix", vec!["retrying charge"]),
        ("q=charg%20fail&match=prefix", vec!["charge failed"]),
        ("q=ying&match=prefix", vec![]),
        ("q=YING&match=substring", vec!["retrying charge"]),
        // Attributes' text too, and every term must be found.
        ("q=funds%22&match=substring", vec!["charge failed"]),
        ("q=charge%20zzz&match=substring", vec![]),
        // Several attribute filters: all must match.
        (
            "attribute=decline.code%3Dinsufficient_funds&attribute=session.id%3Dshopper",
            vec!["charge failed"],
        ),
        (
            "attribute=decline.code%3Dinsufficient_funds&attribute=session.id%3Dsomeone",
            vec![],
        ),
        (
            "fromMs=1763000002000&toMs=1763000004000",
            vec![
                "charge failed",
                "slow query on orders",
                "Payment declined: card-declined by issuer",
            ],
        ),
    ] {
        let (status, body) = e.api(&format!("/api/v1/logs?{query}"));
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(bodies(&body), expected, "{query}");
    }

    let (_, page) = e.api("/api/v1/logs?limit=2");
    assert_eq!(bodies(&page).len(), 2);
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, rest) = e.api(&format!("/api/v1/logs?limit=2&cursor={cursor}"));
    assert_eq!(
        bodies(&rest),
        [
            "slow query on orders",
            "Payment declined: card-declined by issuer"
        ]
    );

    // One record in detail: its resource and scope beside it.
    let id = all["logs"][1]["id"].as_str().unwrap();
    let (status, detail) = e.api(&format!("/api/v1/logs/{id}"));
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["log"]["body"], "charge failed");
    assert_eq!(detail["resource"]["attributes"]["service.name"], "payments");
    assert!(detail["scope"]["name"].is_string(), "{detail}");
    for (path, status) in [("/api/v1/logs/999999", 404), ("/api/v1/logs/x", 400)] {
        assert_eq!(e.api(path).0, status, "{path}");
    }

    for bad in [
        "match=fuzzy&q=a",
        "traceId=xyz",
        "attribute=nokey",
        "limit=0",
        "cursor=zz",
    ] {
        let (status, body) = e.api(&format!("/api/v1/logs?{bad}"));
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

/// A word in thousands of logs: the first page comes from the newest matches, and is still
/// the true newest-by-time page when an early arrival carries the latest time.
#[test]
fn a_common_word_pages_newest_first_even_out_of_arrival_order() {
    let e = Engine::start();
    let send = |records: Vec<LogRecord>| {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: records,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        e.post_protobuf("/v1/logs", req.encode_to_vec());
    };
    // In arrival order and time order: 3,000 cache lines, one a second.
    send(
        (0..3_000)
            .map(|n| log(n, 9, &format!("cache hit {n}"), vec![], None))
            .collect(),
    );
    let bodies = |path: &str| -> Vec<String> {
        let (status, body) = e.api(path);
        assert_eq!(status, 200, "{body}");
        body["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let page = bodies("/api/v1/logs?q=cache&limit=3");
    assert_eq!(page, ["cache hit 2999", "cache hit 2998", "cache hit 2997"]);

    // Then thousands more, in arrival order after the first ones but older in time, and one
    // last line newer than everything.
    send(
        (0..2_500)
            .map(|n| log(n, 9, &format!("cache miss {n}"), vec![], None))
            .collect(),
    );
    let page = bodies("/api/v1/logs?q=cache&limit=3");
    assert_eq!(
        page,
        ["cache hit 2999", "cache hit 2998", "cache hit 2997"],
        "time order, not arrival"
    );
    send(vec![log(9_000, 9, "cache evicted", vec![], None)]);
    let page = bodies("/api/v1/logs?q=cache&limit=2");
    assert_eq!(page, ["cache evicted", "cache hit 2999"]);
    let page = bodies("/api/v1/logs?q=miss&limit=2");
    assert_eq!(page, ["cache miss 2499", "cache miss 2498"]);
}

/// The Logs view in Debian's Chromium: the search modes, a record's details, attributes clicked
/// into filters (two at once, kept by a reload), and the keyboard.
#[test]
fn the_logs_view_searches_details_and_filters_in_chromium() {
    let e = Engine::start();
    seed(&e);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("logs-screenshots");
    let seen = sightline_tests::node_client([
        "ui-logs.mjs",
        &format!("http://{}", e.ui),
        shots.to_str().unwrap(),
    ]);
    assert_eq!(seen["failedApiRequests"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["pageErrors"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["prefix"], serde_json::json!(["retrying charge"]));
    assert!(seen["wordsUrl"].as_str().unwrap().contains("match=words"));
    assert_eq!(seen["substring"], serde_json::json!(["retrying charge"]));
    let detail = seen["detail"].as_str().unwrap();
    for shown in [
        "charge failed",
        "decline.code",
        "insufficient_funds",
        "service.name",
        "payments",
        "scope",
        "05050505050505050505050505050505",
    ] {
        assert!(
            detail.to_lowercase().contains(&shown.to_lowercase()),
            "{shown:?} in the details: {detail}"
        );
    }
    let two = &seen["twoFilters"];
    let hash = two["hash"].as_str().unwrap();
    assert!(
        hash.contains("attribute=decline.code=insufficient_funds")
            && hash.contains("attribute=session.id=shopper"),
        "{hash}"
    );
    assert_eq!(two["bodies"], serde_json::json!(["charge failed"]));
    assert_eq!(two["chips"].as_array().unwrap().len(), 2, "{two}");
    let after = seen["afterRemove"].as_str().unwrap();
    assert!(
        after.contains("decline.code") && !after.contains("session.id"),
        "{after}"
    );
    assert_eq!(seen["keyboardOpened"], "charge failed");
    assert_eq!(seen["keyboardClosed"], true);
}
