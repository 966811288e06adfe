//! The `sightline serve` binary as a user runs it: durability across SIGKILL, memory under a
//! compression bomb, startup errors a person can act on, and a clean SIGTERM.

use std::io::Write;
use std::net::TcpListener;
use std::process::Command;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use sightline_tests::{api_get, sightline_bin, Process};

fn batch(batch_no: u32, spans: u32) -> ExportTraceServiceRequest {
    let spans = (0..spans)
        .map(|i| {
            let mut trace_id = [0u8; 16];
            trace_id[..4].copy_from_slice(&batch_no.to_be_bytes());
            trace_id[4..8].copy_from_slice(&i.to_be_bytes());
            trace_id[15] = 1;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: [1, 2, 3, 4, 5, 6, 7, 8].to_vec(),
                name: format!("batch {batch_no} span {i}"),
                start_time_unix_nano: 1_700_000_000_000_000_000,
                end_time_unix_nano: 1_700_000_000_000_100_000,
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("durable".into())),
                    }),
                    ..Default::default()
                }],
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

fn post_protobuf(
    p: &Process,
    body: Vec<u8>,
    encoding: Option<&str>,
) -> reqwest::blocking::Response {
    let mut req = reqwest::blocking::Client::new()
        .post(format!("http://{}/v1/traces", p.http))
        .header("content-type", "application/x-protobuf")
        .body(body);
    if let Some(enc) = encoding {
        req = req.header("content-encoding", enc);
    }
    req.send().expect("request")
}

#[test]
fn acknowledged_data_survives_sigkill_right_after_the_ack() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = 0;
    for round in 0..5u32 {
        let p = Process::serve(dir.path(), &[]).expect("starts");
        // Several batches in flight at once, so acks come from shared group commits too.
        let bodies: Vec<_> = (0..4)
            .map(|i| batch(round * 10 + i, 200).encode_to_vec())
            .collect();
        let acks: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = bodies
                .into_iter()
                .map(|b| s.spawn(|| post_protobuf(&p, b, None).status().as_u16()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // The instant the last ack is in, the process dies without any shutdown code.
        p.kill9();
        assert!(acks.iter().all(|s| *s == 200), "{acks:?}");
        acknowledged += 4 * 200;

        let p = Process::serve(dir.path(), &[]).expect("restarts");
        let (status, stats) = api_get(p.ui, "/api/v1/stats");
        assert_eq!(status, 200);
        assert_eq!(
            stats["spans"], acknowledged,
            "round {round}: acknowledged spans lost"
        );
        // A specific span of this round's last batch is readable in full.
        let mut trace_id = [0u8; 16];
        trace_id[..4].copy_from_slice(&(round * 10 + 3).to_be_bytes());
        trace_id[4..8].copy_from_slice(&199u32.to_be_bytes());
        trace_id[15] = 1;
        let (status, trace) = api_get(p.ui, &format!("/api/v1/traces/{}", hex::encode(trace_id)));
        assert_eq!(status, 200);
        assert_eq!(
            trace["spans"][0]["name"],
            format!("batch {} span 199", round * 10 + 3)
        );
        p.kill9();
    }
}

// Reads peak RSS from /proc.
#[cfg(target_os = "linux")]
#[test]
fn a_gzip_bomb_is_refused_without_inflating_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = Process::serve(dir.path(), &[]).expect("starts");
    // 1 GiB of zeros as 64 concatenated gzip members of 16 MiB each (gzip allows members to be
    // concatenated): about 1 MiB on the wire.
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 16 << 20]).unwrap();
    let member = member.finish().unwrap();
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 64)
        .collect();
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());

    let before = p.rss_kib().expect("rss");
    let resp = post_protobuf(&p, bomb, Some("gzip"));
    assert_eq!(resp.status(), 413);
    let peak = p.peak_rss_kib().expect("peak rss");
    // The cap is 64 MiB, but a body is only kept in memory up to 8 MiB before its full size is
    // known: the bomb must cost about that, not the cap and never its 1 GiB.
    let grown_mib = peak.saturating_sub(before) / 1024;
    assert!(
        grown_mib < 32,
        "peak RSS grew by {grown_mib} MiB (before {before} KiB)"
    );
    eprintln!("gzip bomb: RSS before {before} KiB, peak {peak} KiB");
    let (_, stats) = api_get(p.ui, "/api/v1/stats");
    assert_eq!(stats["spans"], 0);
}

#[test]
fn a_port_in_use_names_the_port_and_the_flag() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(sightline_bin())
        .args(["serve", "--otlp-grpc", "127.0.0.1:0", "--ui", "127.0.0.1:0"])
        .arg("--otlp-http")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("already in use"), "{err}");
    assert!(err.contains("--otlp-http"), "{err}");
}

#[test]
fn a_database_from_a_newer_version_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = sightline_store::Connection::open(dir.path().join("sightline.db")).unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
    }
    let out = Command::new(sightline_bin())
        .args([
            "serve",
            "--otlp-grpc",
            "0",
            "--otlp-http",
            "0",
            "--ui",
            "0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer Sightline"), "{err}");
    assert!(err.contains("999"), "{err}");
}

#[cfg(unix)]
#[test]
fn sigterm_flushes_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Process::serve(dir.path(), &[]).expect("starts");
    assert_eq!(
        post_protobuf(&p, batch(1, 50).encode_to_vec(), None).status(),
        200
    );
    let pid = p.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = p.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // The WAL was checkpointed into the main file: the database is one file at rest.
    let wal = dir.path().join("sightline.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL left behind"
    );
    let conn = sightline_store::Connection::open(dir.path().join("sightline.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 50);
}

#[test]
fn frustration_thresholds_are_set_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // Two clicks make a rage click here; the default needs three.
    let p = Process::serve(
        dir.path(),
        &["--rage-clicks", "2", "--rage-window-ms", "500"],
    )
    .unwrap();
    let t = 1_763_000_000_000u64;
    let click = |ms: u64| serde_json::json!({"type": 3, "timestamp": ms, "data": {"source": 2, "type": 2, "id": 4, "x": 10, "y": 10}});
    let dom = |ms: u64| serde_json::json!({"type": 3, "timestamp": ms, "data": {"source": 0, "adds": []}});
    let batch = serde_json::json!({"sessionId": "cli", "batch": 0,
        "events": [click(t), dom(t + 10), click(t + 400), dom(t + 410)]});
    let resp = reqwest::blocking::Client::new()
        .post(format!("http://{}/v1/replay", p.http))
        .header("content-type", "application/json")
        .body(batch.to_string())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    p.kill9();
    let conn = sightline_store::Connection::open(dir.path().join("sightline.db")).unwrap();
    let signals = sightline_store::views::frustration_signals(&conn, "cli").unwrap();
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(signals[0].kind, "rage_click");
}
