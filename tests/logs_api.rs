//! Log search: full text (FTS5) over bodies and attributes, with severity, service, trace,
//! session, attribute and time filters, newest first.

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

    for bad in [
        "minSeverity=loud",
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
