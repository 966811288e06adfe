//! The trace page's tools in Debian's Chromium through the real engine: the minimap and its zoom,
//! the time ruler, find-in-trace with highlighting and n/N, span links shown and followed, the
//! flame graph (a click selects), and two traces of the same checkout compared (the retry that
//! only the slow one has, the extra authorization, the slower root). And a 20,000-span trace
//! stays usable: it opens, scrolls, finds and draws its flame graph (the time each takes is
//! measured by `cargo bench --bench ui`, not asserted here).
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use std::path::Path;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::Link, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use sightline_tests::{node_client, Engine};

const T0_MS: u64 = 1_763_000_000_000;
const FAST: u8 = 0x1a;
const SLOW: u8 = 0x2b;

fn s(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

struct S<'a> {
    id: u8,
    parent: u8,
    service: &'a str,
    name: &'a str,
    from: u64,
    to: u64,
    error: bool,
    attrs: Vec<KeyValue>,
    link: Option<(u8, u8)>,
}

fn sp<'a>(id: u8, parent: u8, service: &'a str, name: &'a str, from: u64, to: u64) -> S<'a> {
    S {
        id,
        parent,
        service,
        name,
        from,
        to,
        error: false,
        attrs: vec![],
        link: None,
    }
}

/// One trace: each span in its service's resource, times in ms after `at`.
fn request(trace: u8, at: u64, spans: Vec<S>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: spans
            .into_iter()
            .map(|x| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![s("service.name", x.service)],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![trace; 16],
                        span_id: vec![trace ^ x.id, x.id, 0, 0, 0, 0, 0, 1],
                        parent_span_id: if x.parent == 0 {
                            vec![]
                        } else {
                            vec![trace ^ x.parent, x.parent, 0, 0, 0, 0, 0, 1]
                        },
                        name: x.name.into(),
                        kind: 2,
                        start_time_unix_nano: (T0_MS + at + x.from) * 1_000_000,
                        end_time_unix_nano: (T0_MS + at + x.to) * 1_000_000,
                        attributes: x.attrs,
                        links: x
                            .link
                            .map(|(t, id)| Link {
                                trace_id: vec![t; 16],
                                span_id: vec![t ^ id, id, 0, 0, 0, 0, 0, 1],
                                ..Default::default()
                            })
                            .into_iter()
                            .collect(),
                        status: Some(Status {
                            code: if x.error { 2 } else { 0 },
                            message: if x.error {
                                "database is locked".into()
                            } else {
                                String::new()
                            },
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
    .encode_to_vec()
}

fn span_hex(trace: u8, id: u8) -> String {
    hex::encode([trace ^ id, id, 0, 0, 0, 0, 0, 1])
}

#[test]
fn the_trace_page_finds_zooms_flames_follows_links_and_compares() {
    let e = Engine::start();
    // The fast checkout, and the slow one of the same route: a second authorization, a retry
    // that failed, and the order insert missing. The fast one links to the slow one's retry.
    let mut root = sp(1, 0, "storefront-api", "POST", 0, 120);
    root.attrs = vec![s("http.route", "/api/checkout")];
    let mut authorize = sp(2, 1, "payment-svc", "authorize card", 10, 60);
    authorize.attrs = vec![s("payment.result", "approved")];
    let mut insert = sp(3, 1, "order-svc", "INSERT orders", 60, 110);
    insert.link = Some((SLOW, 4));
    e.post_protobuf(
        "/v1/traces",
        request(FAST, 0, vec![root, authorize, insert]),
    );
    let mut root = sp(1, 0, "storefront-api", "POST", 0, 700);
    root.attrs = vec![s("http.route", "/api/checkout")];
    let mut retry = sp(4, 1, "order-svc", "retry insert", 130, 690);
    retry.error = true;
    retry.attrs = vec![s("error.type", "DatabaseBusy")];
    e.post_protobuf(
        "/v1/traces",
        request(
            SLOW,
            60_000,
            vec![
                root,
                sp(2, 1, "payment-svc", "authorize card", 10, 60),
                sp(5, 1, "payment-svc", "authorize card", 70, 120),
                retry,
            ],
        ),
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trace-tools-screenshots");
    let seen = node_client([
        "ui-trace-tools.mjs",
        &format!("http://{}", e.ui),
        shots.to_str().unwrap(),
        &hex::encode([FAST; 16]),
        &hex::encode([SLOW; 16]),
    ]);
    assert_eq!(seen["failedApiRequests"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["pageErrors"], serde_json::json!([]), "{seen}");
    // The list's attribute filters: two chips, and only the fast checkout has both.
    assert_eq!(seen["twoAttributes"].as_array().unwrap().len(), 2, "{seen}");
    assert_eq!(
        seen["twoAttributesTrace"],
        hex::encode([FAST; 16]),
        "{seen}"
    );
    // Ruler and minimap.
    assert!(seen["ticks"].as_u64().unwrap() >= 3, "{seen}");
    assert_eq!(
        seen["ticksAfterZoom"]
            .as_str()
            .map(|t| t != seen["firstTick"]),
        Some(true),
        "{seen}"
    );
    assert_eq!(seen["zoomReset"], true);
    // Find: one match highlighted, the rest dimmed; n selects it; key=value too.
    assert_eq!(seen["findCount"], "1 match");
    assert_eq!(seen["matchRows"], 1);
    assert_eq!(seen["dimRows"], 2);
    assert_eq!(seen["afterN"], span_hex(FAST, 2));
    assert_eq!(seen["findKeyValue"], "1 match");
    // The link: marked on its row, followed from the details to the slow trace's retry.
    assert_eq!(seen["linkMark"], "⤳1");
    assert!(
        seen["followed"].as_str().unwrap().contains(&format!(
            "{}?span={}",
            hex::encode([SLOW; 16]),
            span_hex(SLOW, 4)
        )),
        "{seen}"
    );
    // The flame graph: clicking the top row's middle selects the root.
    assert_eq!(seen["flameSelected"], span_hex(FAST, 1));
    // Compare: offered the slow trace (same route), then the differences.
    assert_eq!(seen["candidates"], 1, "{seen}");
    let changes = &seen["changes"];
    assert_eq!(changes["POST /api/checkout"], "slower", "{changes}");
    assert_eq!(changes["authorize card"], "more", "{changes}");
    assert_eq!(changes["INSERT orders"], "removed", "{changes}");
    assert_eq!(changes["retry insert"], "added", "{changes}");
    assert_eq!(seen["onlyDifferences"], 4, "{seen}");
}

#[test]
fn a_twenty_thousand_span_trace_opens_scrolls_finds_and_flames() {
    let e = Engine::start();
    let trace = 0x77;
    e.post_protobuf("/v1/traces", sightline_tests::big_trace(trace, 20_000));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trace-tools-screenshots");
    let seen = node_client([
        "trace-perf.mjs",
        &format!("http://{}", e.ui),
        &hex::encode([trace; 16]),
        shots.to_str().unwrap(),
        "1",
    ]);
    assert_eq!(seen["pageErrors"], serde_json::json!([]), "{seen}");
    // The page shows the trace, scrolls to its end, and finds in all 20,000 spans.
    assert_eq!(seen["spans"], "20000", "{seen}");
    assert!(seen["lastRowReached"].as_bool().unwrap(), "{seen}");
    assert_eq!(seen["findCount"], "1 match", "{seen}");
    assert!(seen["flameDrawn"].as_bool().unwrap(), "{seen}");
}
