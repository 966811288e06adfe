//! A full disk, with the engine's log on it: exports are refused with 503 while there is no
//! room (nothing acknowledged is lost), and ingest resumes by itself once space returns.
//! Before, the failed log write panicked the writer thread, and every export got "the store
//! is closed" until a restart.
//!
//! The disk is a small ext4 filesystem, loop-mounted by the test (it needs root and a loop
//! device; where it cannot mount, the test says why and passes without running).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use sightline_tests::{api_get, spans_request, Process};

/// The disk: small, so filling it takes a moment.
const DISK_MIB: u64 = 32;

/// A mounted loop filesystem, unmounted and removed on drop.
struct Disk {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Disk {
    fn mount() -> Result<Disk, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let image = parent.path().join("disk.img");
        let dir = parent.path().join("mnt");
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(DISK_MIB * 1024 * 1024))
            .map_err(|e| e.to_string())?;
        let run = |cmd: &mut Command| -> Result<(), String> {
            let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{cmd:?}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image))?;
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&dir))?;
        Ok(Disk {
            dir,
            _parent: parent,
        })
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// Fills the disk's free space with one file; returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0xa5u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    // Whatever fits in less than a block.
    let mut small = vec![0u8; 512];
    while !small.is_empty() {
        if f.write_all(&small).is_err() {
            small.truncate(small.len() / 2);
        }
    }
    let _ = f.sync_all();
    path
}

fn export(http: std::net::SocketAddr, n: u32) -> u16 {
    let attr = KeyValue {
        key: "payload".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(format!("{n:08}").repeat(128))),
        }),
        ..Default::default()
    };
    let spans = (0..100u32)
        .map(|i| {
            let mut trace_id = [0u8; 16];
            trace_id[..4].copy_from_slice(&n.to_be_bytes());
            trace_id[4..8].copy_from_slice(&i.to_be_bytes());
            // Never all zero (an invalid id, refused as such).
            trace_id[15] = 1;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: [&n.to_be_bytes()[..], &(i + 1).to_be_bytes()[..]].concat(),
                name: format!("span {n}/{i}"),
                attributes: vec![attr.clone()],
                ..Default::default()
            }
        })
        .collect();
    let req = spans_request(spans);
    reqwest::blocking::Client::new()
        .post(format!("http://{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(req.encode_to_vec())
        .timeout(Duration::from_secs(30))
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[test]
fn ingest_resumes_by_itself_when_a_full_disk_has_room_again() {
    let disk = match Disk::mount() {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("skipped: cannot mount a small filesystem here ({why})");
            return;
        }
    };
    let data = disk.dir.join("data");
    std::fs::create_dir(&data).unwrap();
    // Its stderr, the log, is a file on the same disk.
    let p = Process::serve(&data, &[]).expect("sightline starts");
    let mut acknowledged = 0u64;
    assert_eq!(export(p.http, 0), 200);
    acknowledged += 100;

    let filler = fill(&disk.dir);
    let mut refused = None;
    for n in 1..400 {
        match export(p.http, n) {
            200 => acknowledged += 100,
            code => {
                refused = Some(code);
                break;
            }
        }
    }
    assert_eq!(
        refused,
        Some(503),
        "a full disk is told to the client as retryable"
    );
    // Warnings are logged while the disk is full; the writer must live through them.
    for n in 400..410 {
        assert_eq!(export(p.http, n), 503);
    }

    std::fs::remove_file(&filler).unwrap();
    let mut resumed = false;
    for n in 500..800 {
        if export(p.http, n) == 200 {
            acknowledged += 100;
            resumed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(resumed, "ingest resumes once there is room");
    let (_, stats) = api_get(p.ui, "/api/v1/stats");
    assert_eq!(
        stats["spans"].as_u64(),
        Some(acknowledged),
        "every acknowledged span is stored, nothing else"
    );
    drop(p);
}
