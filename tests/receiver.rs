//! One test per OTLP receiver rule: status codes, error bodies, encodings, compression, the size
//! cap, CORS, partial success, empty requests, and what OTLP/JSON writers send.

use std::io::Write;
use std::time::Duration;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use sightline_server::error::RpcStatus;
use sightline_server::Limits;
use sightline_tests::Engine;

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn post(e: &Engine, path: &str, ctype: &str, encoding: Option<&str>, body: Vec<u8>) -> Response {
    let mut req = client()
        .post(e.otlp_url(path))
        .header("content-type", ctype)
        .body(body);
    if let Some(enc) = encoding {
        req = req.header("content-encoding", enc);
    }
    req.send().expect("request")
}

fn kv(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(trace_id: Vec<u8>, name: &str) -> Span {
    Span {
        trace_id,
        span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
        name: name.into(),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_500_000_000,
        ..Default::default()
    }
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "api")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

const TRACE_A: [u8; 16] = [0xab; 16];
const TRACE_A_HEX: &str = "abababababababababababababababab";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn rpc_status_json(resp: Response) -> Value {
    assert_eq!(
        resp.headers()["content-type"],
        "application/json",
        "error bodies are in the request's encoding"
    );
    resp.json().unwrap()
}

fn rpc_status_proto(resp: Response) -> RpcStatus {
    assert_eq!(resp.headers()["content-type"], "application/x-protobuf");
    RpcStatus::decode(resp.bytes().unwrap()).expect("google.rpc.Status in protobuf")
}

#[test]
fn protobuf_request_gets_protobuf_success() {
    let e = Engine::start();
    let body = traces(vec![span(TRACE_A.to_vec(), "GET /")]).encode_to_vec();
    let resp = post(&e, "/v1/traces", "application/x-protobuf", None, body);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-protobuf");
    let decoded = ExportTraceServiceResponse::decode(resp.bytes().unwrap()).unwrap();
    assert_eq!(
        decoded.partial_success, None,
        "full success leaves partial_success unset"
    );
    assert_eq!(e.trace(TRACE_A_HEX)["spans"][0]["name"], "GET /");
}

#[test]
fn json_request_gets_json_success_and_charset_is_tolerated() {
    let e = Engine::start();
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": TRACE_A_HEX, "spanId": "0102030405060708", "name": "GET /json"
    }]}]}]});
    let resp = post(
        &e,
        "/v1/traces",
        "application/json; charset=utf-8",
        None,
        body.to_string().into_bytes(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.json::<Value>().unwrap(), json!({}));
    assert_eq!(e.trace(TRACE_A_HEX)["spans"][0]["name"], "GET /json");
}

#[test]
fn empty_requests_succeed_in_both_encodings() {
    let e = Engine::start();
    for path in ["/v1/traces", "/v1/logs", "/v1/metrics"] {
        let resp = post(&e, path, "application/x-protobuf", None, Vec::new());
        assert_eq!(resp.status(), 200, "{path} protobuf");
        assert!(resp.bytes().unwrap().is_empty());
        for body in ["{}", ""] {
            let resp = post(&e, path, "application/json", None, body.into());
            assert_eq!(resp.status(), 200, "{path} json {body:?}");
            assert_eq!(resp.json::<Value>().unwrap(), json!({}));
        }
    }
    assert_eq!(e.stats()["spans"], 0);
}

#[test]
fn partial_success_reports_rejected_items_and_keeps_the_rest() {
    let e = Engine::start();
    // A 2-byte trace id cannot be stored; the good span beside it must be.
    let body = traces(vec![
        span(vec![1, 2], "bad"),
        span(TRACE_A.to_vec(), "good"),
    ]);
    let resp = post(
        &e,
        "/v1/traces",
        "application/x-protobuf",
        None,
        body.encode_to_vec(),
    );
    assert_eq!(resp.status(), 200);
    let decoded = ExportTraceServiceResponse::decode(resp.bytes().unwrap()).unwrap();
    let partial = decoded.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("invalid trace id"),
        "{}",
        partial.error_message
    );
    assert_eq!(e.trace(TRACE_A_HEX)["spans"][0]["name"], "good");
    assert_eq!(e.stats()["spans"], 1);

    // Logs: a 3-byte span id; metrics: a metric without a name. In JSON this time.
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    LogRecord {
                        span_id: vec![1, 2, 3],
                        ..Default::default()
                    },
                    LogRecord {
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("kept".into())),
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let resp = post(
        &e,
        "/v1/logs",
        "application/json",
        None,
        serde_json::to_vec(&logs).unwrap(),
    );
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().unwrap();
    assert_eq!(v["partialSuccess"]["rejectedLogRecords"], 1, "{v}");
    assert!(v["partialSuccess"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("span id"));
    assert_eq!(e.stats()["logs"], 1);

    let point = NumberDataPoint {
        value: Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(1)),
        ..Default::default()
    };
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: String::new(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![point.clone(), point.clone()],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "ok".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![point],
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let resp = post(
        &e,
        "/v1/metrics",
        "application/x-protobuf",
        None,
        metrics.encode_to_vec(),
    );
    let decoded =
        opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse::decode(
            resp.bytes().unwrap(),
        )
        .unwrap();
    assert_eq!(decoded.partial_success.unwrap().rejected_data_points, 2);
    assert_eq!(e.stats()["metricPoints"], 1);
}

#[test]
fn undecodable_bodies_get_400_with_a_status_in_the_request_encoding() {
    let e = Engine::start();
    let resp = post(
        &e,
        "/v1/traces",
        "application/x-protobuf",
        None,
        vec![0xff; 32],
    );
    assert_eq!(resp.status(), 400);
    let status = rpc_status_proto(resp);
    assert_eq!(status.code, 3, "INVALID_ARGUMENT");
    assert!(status.message.contains("protobuf"), "{}", status.message);

    let resp = post(
        &e,
        "/v1/logs",
        "application/json",
        None,
        b"{\"resourceLogs\": [".to_vec(),
    );
    assert_eq!(resp.status(), 400);
    let status = rpc_status_json(resp);
    assert_eq!(status["code"], 3);
    assert!(
        status["message"].as_str().unwrap().contains("JSON"),
        "{status}"
    );

    // Valid JSON, wrong shape.
    let resp = post(
        &e,
        "/v1/traces",
        "application/json",
        None,
        b"[1,2]".to_vec(),
    );
    assert_eq!(resp.status(), 400);
    // Not gzip at all, though it says so.
    let resp = post(
        &e,
        "/v1/traces",
        "application/json",
        Some("gzip"),
        b"{}".to_vec(),
    );
    assert_eq!(resp.status(), 400);
    assert!(rpc_status_json(resp)["message"]
        .as_str()
        .unwrap()
        .contains("gzip"));
}

#[test]
fn wrong_method_path_and_media_type_get_405_404_415() {
    let e = Engine::start();
    let resp = client().get(e.otlp_url("/v1/traces")).send().unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST, OPTIONS");
    assert_eq!(rpc_status_json(resp)["code"], 12);

    let resp = client()
        .put(e.otlp_url("/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 405);
    rpc_status_proto(resp);

    let resp = post(&e, "/v1/spans", "application/x-protobuf", None, Vec::new());
    assert_eq!(resp.status(), 404);
    assert_eq!(rpc_status_proto(resp).code, 5, "NOT_FOUND");

    let resp = post(&e, "/v1/traces", "text/plain", None, b"hello".to_vec());
    assert_eq!(resp.status(), 415);
    let status = rpc_status_json(resp);
    assert!(
        status["message"].as_str().unwrap().contains("text/plain"),
        "{status}"
    );

    let resp = post(
        &e,
        "/v1/traces",
        "application/json",
        Some("br"),
        b"{}".to_vec(),
    );
    assert_eq!(resp.status(), 415);
}

#[test]
fn gzip_and_deflate_bodies_are_inflated() {
    let e = Engine::start();
    let body = traces(vec![span(TRACE_A.to_vec(), "gzipped")]).encode_to_vec();
    let resp = post(
        &e,
        "/v1/traces",
        "application/x-protobuf",
        Some("gzip"),
        gzip(&body),
    );
    assert_eq!(resp.status(), 200);

    let other = [0xcd; 16];
    let body = traces(vec![span(other.to_vec(), "deflated")]);
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&serde_json::to_vec(&body).unwrap()).unwrap();
    let resp = post(
        &e,
        "/v1/traces",
        "application/json",
        Some("deflate"),
        z.finish().unwrap(),
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(e.trace(TRACE_A_HEX)["spans"][0]["name"], "gzipped");
    assert_eq!(e.trace(&hex::encode(other))["spans"][0]["name"], "deflated");
}

fn small_cap() -> Limits {
    Limits {
        max_body_bytes: 1024 * 1024,
        ..Limits::default()
    }
}

/// A request just over 1 MiB: one span with a 1.1 MiB attribute.
fn oversized() -> ExportTraceServiceRequest {
    let mut s = span(TRACE_A.to_vec(), "huge");
    s.attributes.push(kv("blob", &"x".repeat(1_100_000)));
    traces(vec![s])
}

#[test]
fn the_cap_applies_after_decompression_with_413() {
    let e = Engine::with_limits(small_cap());
    let body = oversized().encode_to_vec();
    let resp = post(
        &e,
        "/v1/traces",
        "application/x-protobuf",
        None,
        body.clone(),
    );
    assert_eq!(resp.status(), 413);
    assert_eq!(rpc_status_proto(resp).code, 8, "RESOURCE_EXHAUSTED");

    // Compressed, it is tiny on the wire; inflated, it is over the cap.
    let compressed = gzip(&body);
    assert!(compressed.len() < 64 * 1024);
    let resp = post(
        &e,
        "/v1/traces",
        "application/x-protobuf",
        Some("gzip"),
        compressed,
    );
    assert_eq!(resp.status(), 413);
    assert!(rpc_status_proto(resp).message.contains("1048576"));
    assert_eq!(e.stats()["spans"], 0);
}

#[test]
fn grpc_over_the_cap_is_resource_exhausted_compressed_or_not() {
    let e = Engine::with_limits(small_cap());
    let addr = format!("http://{}", e.grpc);
    e.runtime().block_on(async {
        let mut plain = TraceServiceClient::connect(addr.clone()).await.unwrap();
        let err = plain.export(oversized()).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");

        let mut gz = TraceServiceClient::connect(addr)
            .await
            .unwrap()
            .send_compressed(tonic::codec::CompressionEncoding::Gzip);
        let err = gz.export(oversized()).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");

        // Under the cap, the same client succeeds.
        let ok = gz
            .export(traces(vec![span(TRACE_A.to_vec(), "fits")]))
            .await
            .unwrap();
        assert_eq!(ok.into_inner().partial_success, None);
    });
    assert_eq!(e.trace(TRACE_A_HEX)["spans"][0]["name"], "fits");
}

#[test]
fn ingest_routes_answer_cors_preflights_and_the_api_does_not() {
    let e = Engine::start();
    let preflight = |url: String| {
        client()
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", "http://shop.localhost:3000")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,x-session-id",
            )
            .send()
            .unwrap()
    };
    for path in ["/v1/traces", "/v1/logs", "/v1/metrics"] {
        let resp = preflight(e.otlp_url(path));
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST"));
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(allowed.contains("content-type") && allowed.contains("x-session-id"));
        assert_eq!(h["access-control-max-age"], "7200");
    }
    // The actual POST from a page is readable by it.
    let resp = client()
        .post(e.otlp_url("/v1/traces"))
        .header("origin", "http://shop.localhost:3000")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");

    // The query API is same-origin only.
    let resp = preflight(e.api_url("/api/v1/stats"));
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = client()
        .get(e.api_url("/api/v1/stats"))
        .header("origin", "http://evil.example")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn otlp_json_as_specified_and_as_other_writers_send_it() {
    let e = Engine::start();
    // Spec: hex ids in any case, int64 as string or number, enums as integers, unknown fields
    // ignored.
    let spec = json!({"resourceSpans": [{"futureField": 1, "scopeSpans": [{"spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
        "name": "spec", "kind": 2, "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000100000000_u64, "somethingNew": {"x": 1},
        "attributes": [{"key": "n", "value": {"intValue": "42"}}]
    }]}]}]});
    let resp = post(
        &e,
        "/v1/traces",
        "application/json",
        None,
        spec.to_string().into(),
    );
    assert_eq!(resp.status(), 200);
    let span = &e.trace("5b8efff798038103d269b633813fc60c")["spans"][0];
    assert_eq!(span["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(span["endTimeUnixNano"], "1700000000100000000");
    assert_eq!(span["attributes"], json!({"n": 42}));

    // Generic proto3-JSON writers: snake_case keys, enum names, nulls, quoted counts, base64 ids.
    let lenient = json!({"resource_spans": [{"scope_spans": [{"spans": [{
        "trace_id": "q6urq6urq6urq6urq6urqw==", "span_id": "AQIDBAUGBwg=",
        "parent_span_id": null, "name": "lenient", "kind": "SPAN_KIND_CLIENT",
        "dropped_attributes_count": "0", "status": {"code": "STATUS_CODE_ERROR"}
    }]}]}]});
    let resp = post(
        &e,
        "/v1/traces",
        "application/json",
        None,
        lenient.to_string().into(),
    );
    assert_eq!(resp.status(), 200, "{:?}", resp.text());
    let span = &e.trace(TRACE_A_HEX)["spans"][0];
    assert_eq!(span["name"], "lenient");
    assert_eq!(span["spanId"], "0102030405060708");
    assert_eq!(span["kind"], 3);
    assert_eq!(span["status"]["code"], 2);

    let logs = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "severityNumber": "SEVERITY_NUMBER_WARN", "body": {"stringValue": "named severity"},
        "traceId": "", "spanId": ""
    }]}]}]});
    let resp = post(
        &e,
        "/v1/logs",
        "application/json",
        None,
        logs.to_string().into(),
    );
    assert_eq!(resp.status(), 200);
    let severity = e.read(|c| {
        c.query_row("SELECT severity_number, trace_id FROM logs", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })
        .unwrap()
    });
    assert_eq!(
        severity,
        (13, None),
        "WARN, and an empty trace id is no trace id"
    );
}

/// Bytes that are not an OTLP message: field 1 (`resource_spans`, a message) sent as a varint.
#[derive(Clone, PartialEq, prost::Message)]
struct NotOtlp {
    #[prost(uint64, tag = "1")]
    resource_spans: u64,
}

/// OTLP: data that cannot be decoded is INVALID_ARGUMENT (final; not retried), never INTERNAL.
#[test]
fn undecodable_grpc_is_invalid_argument() {
    let e = Engine::start();
    let addr = format!("http://{}", e.grpc);
    e.runtime().block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(addr)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let codec = tonic_prost::ProstCodec::<NotOtlp, ExportTraceServiceResponse>::default();
        let err = grpc
            .unary(
                tonic::Request::new(NotOtlp { resource_spans: 7 }),
                http::uri::PathAndQuery::from_static(
                    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                ),
                codec,
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
        assert!(err.message().contains("decode"), "{err:?}");
    });
    assert_eq!(e.stats()["spans"], 0);
}
