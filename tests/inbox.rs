//! The watched inbox: files dropped into a folder are imported once complete and moved to
//! Imported/ (or to Failed/ with the reason beside them), whether written slowly, renamed in,
//! dropped 200 at once, or already there at startup, with native notification or polling; and
//! a tailed OTLP JSON lines file is followed as it grows, across rotation.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sightline_server::config::InboxConfig;
use sightline_tests::{eventually, Engine};

/// A small rrweb recording: one page view and a click, distinct per `n`.
fn recording(n: usize) -> Vec<u8> {
    let t = 1_790_000_000_000i64 + n as i64 * 10_000;
    json!([
        {"type": 4, "timestamp": t, "data": {"href": format!("https://shop.test/item/{n}"), "width": 1280, "height": 720}},
        {"type": 3, "timestamp": t + 500, "data": {"source": 2, "type": 2, "id": 5, "x": 10, "y": 10}},
    ])
    .to_string()
    .into_bytes()
}

fn engine(inbox: &Path, tail: Option<PathBuf>, poll: bool) -> Engine {
    Engine::with_config(|c| {
        c.inbox = InboxConfig {
            dir: Some(inbox.to_owned()),
            tail,
            poll,
        }
    })
    .unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn sessions(e: &Engine) -> u64 {
    e.stats()["sessions"].as_u64().unwrap_or(0)
}

#[test]
fn dropped_files_are_imported_once_complete_and_moved() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("Inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // Arrived while Sightline was closed: imported at startup.
    std::fs::write(inbox.join("before.json"), recording(1)).unwrap();
    let e = engine(&inbox, None, false);
    eventually("the file from before startup", || sessions(&e) == 1);
    eventually("it is moved to Imported/", || {
        files_in(&inbox.join("Imported")) == ["before.json"]
    });

    // Written in two parts with a pause shorter than the settle time: one import, not a
    // refused half.
    let body = recording(2);
    let (head, rest) = body.split_at(body.len() / 2);
    let mut f = std::fs::File::create(inbox.join("slow.json")).unwrap();
    f.write_all(head).unwrap();
    f.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    f.write_all(rest).unwrap();
    drop(f);
    eventually("the slowly written file", || sessions(&e) == 2);
    assert!(
        files_in(&inbox.join("Failed")).is_empty(),
        "never taken half-written"
    );

    // Written under a temporary name, then renamed in (how browsers and rsync finish).
    std::fs::write(inbox.join("renamed.json.partial"), recording(3)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(sessions(&e), 2, "a .partial file is left alone");
    std::fs::rename(
        inbox.join("renamed.json.partial"),
        inbox.join("renamed.json"),
    )
    .unwrap();
    eventually("the renamed file", || sessions(&e) == 3);

    // A corrupt file: moved to Failed/ with the reason beside it; the next one still works.
    std::fs::write(
        inbox.join("broken.sightline"),
        b"SQLite format 3\0 but not really",
    )
    .unwrap();
    eventually("the corrupt file is refused", || {
        files_in(&inbox.join("Failed")) == ["broken.sightline", "broken.sightline.error.txt"]
    });
    let why = std::fs::read_to_string(inbox.join("Failed/broken.sightline.error.txt")).unwrap();
    assert!(why.contains("broken.sightline"), "{why}");
    assert!(
        why.contains("damaged") || why.contains("truncated"),
        "{why}"
    );

    // A forged bundle whose table is a view over an endless query (it pinned a core and held
    // up every file behind it): it fails alone, at once, and the file after it imports.
    let forged = dir.path().join("endless.sightline");
    let conn = sightline_store::Connection::open(&forged).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA application_id = {};
         CREATE TABLE manifest (key TEXT PRIMARY KEY, value TEXT);
         INSERT INTO manifest VALUES ('format', '\"sightline-bundle\"'), ('formatVersion', '1');
         CREATE VIEW otlp AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
              SELECT 'traces' AS signal, zeroblob(1000) AS request, i AS id FROM n;",
        sightline_store::bundle::APPLICATION_ID
    ))
    .unwrap();
    drop(conn);
    std::fs::rename(&forged, inbox.join("endless.sightline")).unwrap();
    std::fs::write(inbox.join("after.json"), recording(4)).unwrap();
    eventually("the file behind the forged one", || sessions(&e) == 4);
    eventually("the forged one is refused", || {
        files_in(&inbox.join("Failed")).contains(&"endless.sightline.error.txt".to_owned())
    });
    let why = std::fs::read_to_string(inbox.join("Failed/endless.sightline.error.txt")).unwrap();
    assert!(why.contains("view otlp"), "{why}");

    // The same content again under another name: moved to Imported/, stored once.
    std::fs::write(inbox.join("again.json"), recording(1)).unwrap();
    eventually("the duplicate is taken", || {
        files_in(&inbox.join("Imported")).contains(&"again.json".to_owned())
    });
    assert_eq!(sessions(&e), 4);
    assert!(files_in(&inbox).is_empty(), "{:?}", files_in(&inbox));
}

#[test]
fn a_burst_of_200_files_is_imported_whole_with_polling_too() {
    for poll in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("Inbox");
        std::fs::create_dir_all(&inbox).unwrap();
        let e = engine(&inbox, None, poll);
        for n in 0..200 {
            std::fs::write(inbox.join(format!("rec-{n:03}.json")), recording(n)).unwrap();
        }
        eventually("all 200 sessions", || sessions(&e) == 200);
        eventually("all 200 moved", || {
            files_in(&inbox.join("Imported")).len() == 200
        });
        assert!(files_in(&inbox.join("Failed")).is_empty(), "poll={poll}");
    }
}

fn span_line(n: usize) -> String {
    json!({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "tailed"}}]},
        "scopeSpans": [{"spans": [{"traceId": format!("{:032x}", n + 1), "spanId": format!("{:016x}", n + 1),
            "name": format!("job {n}"), "kind": 1,
            "startTimeUnixNano": "1790000000000000000", "endTimeUnixNano": "1790000000001000000"}]}]}]})
    .to_string()
}

#[test]
fn a_tailed_file_is_followed_as_it_grows_and_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("Inbox");
    let logs = dir.path().join("collector");
    std::fs::create_dir_all(&logs).unwrap();
    let tail = logs.join("traces.jsonl");
    let e = engine(&inbox, Some(tail.clone()), false);
    let spans = || e.stats()["spans"].as_u64().unwrap_or(0);
    let append = |path: &Path, text: &str| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    // The file appears after Sightline started, and grows a line at a time; a line written in
    // two parts is read once complete.
    append(&tail, &format!("{}\n{}\n", span_line(0), span_line(1)));
    eventually("the first lines", || spans() == 2);
    let third = span_line(2);
    let (a, b) = third.split_at(third.len() / 2);
    append(&tail, a);
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(spans(), 2, "half a line is not read");
    append(&tail, &format!("{b}\n"));
    eventually("the completed line", || spans() == 3);

    // Rotation: the file is renamed away (after one more line) and a new one started.
    append(&tail, &format!("{}\n", span_line(3)));
    std::fs::rename(&tail, logs.join("traces-2026-11-22.jsonl")).unwrap();
    append(&tail, &format!("{}\n{}\n", span_line(4), span_line(5)));
    eventually("the lines before and after the rotation", || spans() == 6);
    // Truncated in place (copytruncate): read again from its start.
    std::fs::write(&tail, format!("{}\n", span_line(6))).unwrap();
    eventually("the line after truncation", || spans() == 7);
    let (_, trace) = e.api(&format!("/api/v1/traces/{:032x}", 7));
    assert_eq!(trace["spans"][0]["name"], "job 6");
    let _: Value = trace;
}
