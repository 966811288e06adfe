//! Pausing ingest (the tray's switch, also `PUT /api/v1/ingest`): every receiver then answers
//! "retry later" in its protocol (HTTP 503 + Retry-After, gRPC UNAVAILABLE + RetryInfo, the
//! recorder's JSON error), stores nothing, and takes data again once resumed.

use std::time::Duration;

use opentelemetry::trace::{Span as _, Status, Tracer, TracerProvider as _};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::{json, Value};
use sightline_server::error::RpcStatus;
use sightline_tests::{eventually, Engine};
use tonic_types::StatusExt;

fn one_span() -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![9; 16],
                    span_id: vec![9; 8],
                    name: "GET /cart".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn switch(e: &Engine, paused: bool) -> Value {
    let resp = reqwest::blocking::Client::new()
        .put(e.api_url("/api/v1/ingest"))
        .json(&json!({ "paused": paused }))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().unwrap()
}

#[test]
fn a_paused_engine_tells_every_client_to_retry_and_stores_nothing() {
    let e = Engine::start();
    assert_eq!(
        e.api("/api/v1/ingest").1,
        json!({ "paused": false, "refused": 0 })
    );
    assert_eq!(switch(&e, true)["paused"], true);
    assert_eq!(e.api("/api/v1/status").1["ingest"]["paused"], true);

    // OTLP/HTTP: 503, Retry-After, and a google.rpc.Status saying UNAVAILABLE.
    let resp = reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(one_span().encode_to_vec())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    let status = RpcStatus::decode(resp.bytes().unwrap()).unwrap();
    assert_eq!(status.code, tonic::Code::Unavailable as i32);
    assert!(status.message.contains("paused"), "{}", status.message);

    // OTLP/gRPC: UNAVAILABLE with RetryInfo.
    let refused = e.runtime().block_on(async {
        let mut client = TraceServiceClient::connect(format!("http://{}", e.grpc))
            .await
            .unwrap();
        client.export(one_span()).await.unwrap_err()
    });
    assert_eq!(refused.code(), tonic::Code::Unavailable);
    let retry = refused.get_details_retry_info().expect("RetryInfo");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(5)));

    // The recorder's endpoint: 503 with the API's JSON error.
    let resp = reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/replay"))
        .header("content-type", "application/json")
        .body(json!({"sessionId": "s", "batch": 0, "events": [{"type": 4, "timestamp": 1, "data": {}}]}).to_string())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(resp.json::<Value>().unwrap()["error"], "unavailable");

    let stats = e.stats();
    assert_eq!(
        (stats["spans"].as_i64(), stats["sessions"].as_i64()),
        (Some(0), Some(0))
    );

    // Resumed: the same requests are taken.
    assert_eq!(switch(&e, false), json!({ "paused": false, "refused": 3 }));
    e.post_protobuf("/v1/traces", one_span().encode_to_vec());
    assert_eq!(e.stats()["spans"], 1);
}

/// The official SDK is refused while paused, stores nothing then, and its retry (it honours the
/// RetryInfo delay) delivers the span once ingest resumes. The activity counts (the tray's
/// "today") then show the one failing trace.
#[test]
fn the_sdk_retries_into_a_resumed_engine_and_activity_counts_it() {
    let e = Engine::start();
    let provider = e.tracer_provider("checkout");
    let tracer = provider.tracer("pause-test");
    switch(&e, true);
    let mut failing = tracer.start("POST /api/checkout");
    failing.set_status(Status::error("card declined"));
    failing.end();
    // Flushing runs in the background: its first attempt is refused, its retry waits 5 s.
    std::thread::scope(|scope| {
        let flush = scope.spawn(|| provider.force_flush());
        eventually("a refused export", || {
            e.api("/api/v1/ingest").1["refused"].as_u64() >= Some(1)
        });
        assert_eq!(e.stats()["spans"], 0, "nothing is stored while paused");
        switch(&e, false);
        let _ = flush.join();
    });
    eventually("the retried span", || e.stats()["spans"] == 1);

    let (_, names) = e.sql("SELECT name FROM spans");
    assert_eq!(names["rows"], json!([["POST /api/checkout"]]));
    let (status, today) = e.api("/api/v1/activity?sinceMs=0");
    assert_eq!(status, 200);
    assert_eq!(
        today,
        json!({ "sessions": 0, "traces": 1, "failedTraces": 1 })
    );
    let far = i64::MAX / 1_000_000;
    assert_eq!(
        e.api(&format!("/api/v1/activity?sinceMs={far}")).1["traces"],
        0
    );
    let (status, bad) = e.api("/api/v1/activity?sinceMs=yesterday");
    assert_eq!((status, bad["error"].as_str()), (400, Some("bad_request")));
}

#[test]
fn a_bad_switch_is_a_clear_error() {
    let e = Engine::start();
    let resp = reqwest::blocking::Client::new()
        .put(e.api_url("/api/v1/ingest"))
        .json(&json!({ "paused": "yes" }))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("paused"),
        "{body}"
    );
    assert_eq!(e.api("/api/v1/ingest").1["paused"], false);
}
