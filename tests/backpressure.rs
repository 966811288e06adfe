//! When the writer cannot keep up, clients are told to retry (HTTP 503 + Retry-After, gRPC
//! UNAVAILABLE + RetryInfo) instead of queueing without bound, and nothing acknowledged is lost.
//!
//! The writer is made to fall behind for real: another connection holds SQLite's write lock, as
//! a second process on the same file would. Admission is one request wide, so while the first
//! request waits on the lock, the next cannot be admitted.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use sightline_server::Limits;
use sightline_tests::{one_span, Engine};
use tonic_types::StatusExt;

fn narrow() -> Limits {
    Limits {
        max_inflight_requests: 1,
        admission_wait: Duration::from_millis(300),
        retry_after: Duration::from_secs(3),
        ..Limits::default()
    }
}

/// Holds the database's write lock until dropped.
struct WriteLock(sightline_store::Connection);

impl WriteLock {
    fn take(e: &Engine) -> WriteLock {
        let conn = sightline_store::Connection::open(&e.db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        WriteLock(conn)
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

#[test]
fn http_clients_get_503_with_retry_after_and_acknowledged_data_is_kept() {
    let e = Engine::with_limits(narrow());
    let lock = WriteLock::take(&e);
    let send = |n: u8| {
        reqwest::blocking::Client::new()
            .post(e.otlp_url("/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .body(one_span(n).encode_to_vec())
            .timeout(Duration::from_secs(30))
            .send()
            .unwrap()
    };
    let (refused, accepted) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        for n in [1u8, 2] {
            let tx = tx.clone();
            let send = &send;
            s.spawn(move || {
                let resp = send(n);
                let status = resp.status().as_u16();
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body = resp.bytes().unwrap();
                tx.send((n, status, retry, body)).unwrap();
            });
        }
        // One of the two is admitted and waits on the lock; the other is refused.
        let first = rx.recv().unwrap();
        drop(lock);
        let second = rx.recv().unwrap();
        (first, second)
    });
    let (_, status, retry, body) = &refused;
    assert_eq!(*status, 503);
    assert_eq!(retry.as_deref(), Some("3"));
    let rpc = sightline_server::error::RpcStatus::decode(body.as_ref()).unwrap();
    assert_eq!(rpc.code, 14, "UNAVAILABLE");
    let (n, status, _, _) = &accepted;
    assert_eq!(*status, 200);
    assert_eq!(e.stats()["spans"], 1);
    assert_eq!(
        e.trace(&hex::encode([*n; 16]))["spans"][0]["name"],
        format!("span {n}")
    );
}

#[test]
fn grpc_clients_get_unavailable_with_retry_info() {
    let e = Engine::with_limits(narrow());
    let lock = WriteLock::take(&e);
    let addr = format!("http://{}", e.grpc);
    let (refused, accepted) = e.runtime().block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        for n in [1u8, 2] {
            let tx = tx.clone();
            let addr = addr.clone();
            tokio::spawn(async move {
                let mut client = TraceServiceClient::connect(addr).await.unwrap();
                let result = client.export(one_span(n)).await;
                tx.send((n, result)).await.unwrap();
            });
        }
        let first = rx.recv().await.unwrap();
        drop(lock);
        let second = rx.recv().await.unwrap();
        (first, second)
    });
    let status = refused.1.expect_err("one request is refused");
    assert_eq!(status.code(), tonic::Code::Unavailable);
    let retry = status.get_details_retry_info().expect("RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(3)));
    assert!(accepted.1.is_ok(), "{:?}", accepted.1);
    assert_eq!(e.stats()["spans"], 1);
}
