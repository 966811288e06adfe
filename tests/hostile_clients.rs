//! Clients that try to sink the engine over loopback: bodies trickled a byte at a time, headers
//! that never end, connections left open and idle, more connections than a desktop has file
//! descriptors, a recorder batch too large to parse. Each is cut off or refused with the
//! reason, and a real export beside them still goes through.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use sightline_server::Limits;
use sightline_tests::{one_span, Engine};

fn export(e: &Engine, n: u8) -> u16 {
    reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(one_span(n).encode_to_vec())
        .timeout(Duration::from_secs(30))
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Opens a connection to `addr` and sends `head` (no more).
fn open(addr: std::net::SocketAddr, head: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s
}

/// Reads what the server says until it closes the connection (or `within` passes: then
/// `None`, the connection still open).
fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<String> {
    let until = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(String::from_utf8_lossy(&got).into_owned()),
        }
    }
    None
}

const HEAD: &str = "POST /v1/traces HTTP/1.1\r\nhost: 127.0.0.1\r\n\
                    content-type: application/x-protobuf\r\ncontent-length: 100000\r\n\r\n";

/// Clients trickling a body a byte at a time used to hold every admission slot for as long as
/// they liked (each real export got 503 meanwhile). Now a body is received before admission:
/// the tricklers hold no slot, and each is cut off with 408 at the body deadline.
#[test]
fn a_trickled_body_holds_no_slot_and_is_cut_off() {
    let e = Engine::with_limits(Limits {
        max_inflight_requests: 2,
        body_timeout: Duration::from_secs(3),
        ..Limits::default()
    });
    let mut tricklers: Vec<TcpStream> = (0..8).map(|_| open(e.http, HEAD)).collect();
    for s in &mut tricklers {
        s.write_all(b"\x0a").unwrap();
    }
    // Well inside the tricklers' deadline: a real export is admitted and stored.
    assert_eq!(export(&e, 1), 200);
    assert_eq!(e.stats()["spans"], 1);
    for s in &mut tricklers {
        let _ = s.write_all(b"\x01");
        let answer = read_until_closed(s, Duration::from_secs(60)).expect("cut off");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("did not arrive within"), "{answer}");
    }
}

/// Headers that never end (slowloris) and connections that send nothing are closed; before,
/// both stayed open for good.
#[test]
fn slow_headers_and_idle_connections_are_closed() {
    let e = Engine::with_limits(Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        ..Limits::default()
    });
    for addr in [e.http, e.ui] {
        // A header line every half second: never the blank line that ends them.
        let mut slow = open(addr, "POST /v1/traces HTTP/1.1\r\n");
        let mut closed = false;
        for i in 0..120 {
            if slow.write_all(format!("x-{i}: y\r\n").as_bytes()).is_err() {
                closed = true;
                break;
            }
            if read_until_closed(&mut slow, Duration::from_millis(500)).is_some() {
                closed = true;
                break;
            }
        }
        assert!(closed, "{addr}: a slow-header connection must be closed");
        let mut idle = TcpStream::connect(addr).unwrap();
        assert!(
            read_until_closed(&mut idle, Duration::from_secs(60)).is_some(),
            "{addr}: an idle connection must be closed"
        );
    }
    // The gRPC port closes idle connections too.
    let mut idle = TcpStream::connect(e.grpc).unwrap();
    assert!(read_until_closed(&mut idle, Duration::from_secs(60)).is_some());
    assert_eq!(export(&e, 2), 200, "real clients are unaffected");
}

/// Past the connection cap a new connection is refused at once with the reason, instead of
/// the engine running out of file descriptors (about 1,000 idle connections under a common
/// desktop limit of 1024 stopped the UI answering); when one closes, a new one is served.
#[test]
fn past_the_connection_cap_a_connection_is_refused_with_the_reason() {
    let e = Engine::with_limits(Limits {
        max_connections: 4,
        ..Limits::default()
    });
    for addr in [e.http, e.ui] {
        let mut held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // Each held connection has been accepted once it answers a request.
        for s in &mut held {
            s.write_all(b"GET /nope HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
                .unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = [0u8; 12];
            s.read_exact(&mut buf).unwrap();
            assert!(
                buf.starts_with(b"HTTP/1.1"),
                "{:?}",
                String::from_utf8_lossy(&buf)
            );
        }
        let mut over = open(addr, "GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
        let answer = read_until_closed(&mut over, Duration::from_secs(30)).expect("refused");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("connections"), "{answer}");
        drop(held.pop());
        let mut served = false;
        for _ in 0..100 {
            let mut next = open(
                addr,
                "GET /nope HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
            );
            let answer = read_until_closed(&mut next, Duration::from_secs(10)).unwrap_or_default();
            // Served: any answer but the refusal (the UI serves its page at any path).
            if answer.starts_with("HTTP/1.1") && !answer.starts_with("HTTP/1.1 503") {
                served = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(served, "{addr}: a freed slot serves again");
    }
}

/// A gRPC message is read before admission, as over HTTP: an oversized one is refused as too
/// large even while the only slot is taken (before, it was refused as unavailable unread, and a
/// slow message held the slot).
#[test]
fn grpc_messages_are_received_before_admission() {
    let e = Engine::with_limits(Limits {
        max_inflight_requests: 1,
        max_body_bytes: 1024 * 1024,
        admission_wait: Duration::from_millis(300),
        ..Limits::default()
    });
    // Another connection holds SQLite's write lock, so the first export holds the only slot.
    let lock = sightline_store::Connection::open(&e.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let addr = format!("http://{}", e.grpc);
    let mut huge = one_span(9);
    huge.resource_spans[0].scope_spans[0].spans[0].name = "x".repeat(2 * 1024 * 1024);
    let codes = e.runtime().block_on(async {
        let holder = tokio::spawn({
            let addr = addr.clone();
            async move {
                let mut client = TraceServiceClient::connect(addr).await.unwrap();
                client.export(one_span(1)).await
            }
        });
        let mut client = TraceServiceClient::connect(addr).await.unwrap();
        let mut codes = Vec::new();
        for _ in 0..10 {
            codes.push(client.export(huge.clone()).await.unwrap_err().code());
            // A small one while the slot is held: told to retry.
            codes.push(client.export(one_span(2)).await.unwrap_err().code());
        }
        lock.execute_batch("ROLLBACK").unwrap();
        assert!(holder.await.unwrap().is_ok());
        codes
    });
    assert!(
        codes
            .chunks(2)
            .all(|c| c[0] == tonic::Code::ResourceExhausted),
        "{codes:?}"
    );
    assert!(codes.contains(&tonic::Code::Unavailable), "{codes:?}");
}

/// A recorder batch is parsed whole into JSON values, about ten times its size: its limit is
/// below the OTLP limit (a 60 MiB batch peaked at ~730 MiB), and the refusal says so.
#[test]
fn an_oversized_replay_batch_is_refused_before_it_is_parsed() {
    let e = Engine::start();
    let filler = "x".repeat(17 * 1024 * 1024);
    let body = format!(
        r#"{{"sessionId":"big","batch":0,"events":[{{"type":5,"timestamp":1790000000000,"data":{{"tag":"t","payload":"{filler}"}}}}]}}"#
    );
    let resp = reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/replay"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 413);
    let answer: serde_json::Value = resp.json().unwrap();
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or("")
            .contains("16777216"),
        "{answer}"
    );
    assert_eq!(e.stats()["sessions"], 0);
}
