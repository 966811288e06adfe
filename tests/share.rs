//! Session bundles: exported from one engine and imported into a fresh one, every API answer
//! for the session is the same (timeline, traces, logs, replay); the same bundle twice is
//! stored once; a bundle from a newer Sightline, a damaged one and a truncated one are refused
//! with the reason and store nothing; and the file opens in the `sqlite3` shell.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sightline_tests::{api_get, node_client, seed, sightline_bin, Engine, Process};

/// A seeded storefront (sessions with replays, their traces and logs), served.
fn source() -> (tempfile::TempDir, Process) {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), 12, 4_000, 1_500);
    let p = Process::serve(dir.path(), &[]).unwrap();
    (dir, p)
}

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(sightline_bin()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn get(ui: std::net::SocketAddr, path: &str) -> Value {
    let (status, body) = api_get(ui, path);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// An API answer without what is local to a database: row ids, and where a session was
/// imported from.
fn portable(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in ["eventId", "resourceId", "importedFrom"] {
                    map.remove(key);
                }
                // A log record's `id` is its row in this database.
                if map.contains_key("severityNumber") && map.contains_key("timeUnixNano") {
                    map.remove("id");
                }
                if let Some(Value::Object(resources)) = map.get_mut("resources") {
                    // Keyed by local row id: compare the resources themselves.
                    let mut all: Vec<Value> = resources.values().cloned().collect();
                    all.sort_by_key(|r| r.to_string());
                    map.insert("resources".into(), Value::Array(all));
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Every answer the UI reads for a session, made portable.
fn session_answers(ui: std::net::SocketAddr, id: &str) -> Vec<(String, Value)> {
    let detail = get(ui, &format!("/api/v1/sessions/{id}"));
    let timeline = get(ui, &format!("/api/v1/sessions/{id}/timeline"));
    let (from, to) = (
        detail["firstSeenMs"].as_i64().unwrap(),
        detail["lastSeenMs"].as_i64().unwrap(),
    );
    let mut out = vec![
        ("detail".to_owned(), detail.clone()),
        ("timeline".to_owned(), timeline.clone()),
        (
            "replay".to_owned(),
            get(
                ui,
                &format!("/api/v1/sessions/{id}/replay?fromMs={from}&toMs={}", to + 1),
            ),
        ),
        (
            "logs".to_owned(),
            get(ui, &format!("/api/v1/logs?session={id}&limit=500")),
        ),
        (
            "traces".to_owned(),
            get(ui, &format!("/api/v1/traces?session={id}&limit=500")),
        ),
    ];
    let mut traces: Vec<String> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            i["traceId"]
                .as_str()
                .or(i["trace"]["traceId"].as_str())
                .map(str::to_owned)
        })
        .collect();
    traces.sort();
    traces.dedup();
    for t in traces {
        let (status, trace) = api_get(ui, &format!("/api/v1/traces/{t}"));
        out.push((
            format!("trace {t}"),
            if status == 200 { trace } else { Value::Null },
        ));
    }
    out.into_iter().map(|(k, v)| (k, portable(v))).collect()
}

/// A seeded source engine, and the first session matching `filter` exported to a bundle.
struct Exported {
    _seeded: tempfile::TempDir,
    source: Process,
    out: tempfile::TempDir,
    id: String,
    file: PathBuf,
}

fn exported(filter: &str) -> Exported {
    let (seeded, source) = source();
    let list = get(source.ui, &format!("/api/v1/sessions?{filter}&limit=1"));
    let id = list["sessions"][0]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("a session with {filter}"))
        .to_owned();
    let out = tempfile::tempdir().unwrap();
    let file = export_session(&source, &id, out.path());
    Exported {
        _seeded: seeded,
        source,
        out,
        id,
        file,
    }
}

fn export_session(p: &Process, id: &str, dir: &Path) -> PathBuf {
    let file = dir.join("bug.sightline");
    let (ok, out, err) = cli(&[
        "export",
        "--session",
        id,
        "-o",
        file.to_str().unwrap(),
        "--ui",
        &p.ui.to_string(),
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("bug.sightline"), "{out}");
    file
}

fn import(e: &Engine, file: &Path) -> (bool, Value) {
    let (ok, out, err) = cli(&[
        "import",
        file.to_str().unwrap(),
        "--ui",
        &e.ui.to_string(),
        "--json",
    ]);
    (
        ok,
        serde_json::from_str(out.trim()).unwrap_or(Value::String(format!("{out}{err}"))),
    )
}

#[test]
fn a_session_exported_and_imported_elsewhere_reads_the_same() {
    // Every part is bound: what a pattern leaves out is dropped at once (the bundle's folder).
    let Exported {
        source: p,
        id,
        file,
        out: _out,
        _seeded,
    } = exported("hasBackendTraces=true&hasError=true");
    let before = session_answers(p.ui, &id);
    assert!(before.len() > 5, "the session has traces to compare");
    assert!(before
        .iter()
        .filter(|(k, _)| k.starts_with("trace "))
        .all(|(_, v)| v["spans"].as_array().is_some_and(|s| !s.is_empty())));
    let logs = &before.iter().find(|(k, _)| k == "logs").unwrap().1;
    assert!(
        logs["logs"].as_array().is_some_and(|l| !l.is_empty()),
        "{logs}"
    );

    let e = Engine::start();
    let (ok, answer) = import(&e, &file);
    assert!(ok, "{answer}");
    assert_eq!(answer["imported"], true, "{answer}");
    assert_eq!(answer["sessions"], serde_json::json!([id]));
    let after = session_answers(e.ui, &id);
    assert_eq!(before.len(), after.len());
    for ((what, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{what} differs after the round trip");
    }
    // The imported session says where it came from.
    let detail = get(e.ui, &format!("/api/v1/sessions/{id}"));
    assert_eq!(
        detail["importedFrom"]["fileName"], "bug.sightline",
        "{detail}"
    );
    let (_, list) = e.api("/api/v1/sessions");
    assert_eq!(
        list["sessions"][0]["imported"], true,
        "the list says so too"
    );
    assert!(detail["importedFrom"]["source"]
        .as_str()
        .unwrap()
        .contains("Sightline"));
    assert!(detail["importedFrom"]["exportedMs"].as_i64().is_some());

    // The same bundle again: stored once.
    let stats = counts(&e);
    let (ok, again) = import(&e, &file);
    assert!(ok, "{again}");
    assert_eq!(again["imported"], false, "{again}");
    assert_eq!(counts(&e), stats);

    // The file opens in the sqlite3 shell, and reads as what it holds.
    let shell = |sql: &str| {
        let out = Command::new("sqlite3")
            .arg(&file)
            .arg(sql)
            .output()
            .expect("the sqlite3 shell");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(
        shell("SELECT value FROM manifest WHERE key = 'format'"),
        "\"sightline-bundle\""
    );
    let spans: usize = shell("SELECT count(*) FROM spans").parse().unwrap();
    let stored = get(e.ui, "/api/v1/stats")["spans"].as_u64().unwrap() as usize;
    assert_eq!(spans, stored, "every span of the session's traces");
    assert_eq!(
        shell(&format!(
            "SELECT count(DISTINCT session_id) FROM replay_batches WHERE session_id = '{id}'"
        )),
        "1"
    );
    assert!(shell("SELECT count(*) FROM logs").parse::<usize>().unwrap() > 0);
    assert!(shell("SELECT value FROM manifest WHERE key = 'checksum'").starts_with("\"sha256:"));
    assert!(shell("SELECT value FROM manifest WHERE key = 'redaction'").contains("authorization"));
}

#[test]
fn bad_bundles_are_refused_with_the_reason_and_store_nothing() {
    let Exported {
        out,
        file,
        id: _,
        source: _source,
        _seeded,
    } = exported("hasBackendTraces=true");
    let bytes = std::fs::read(&file).unwrap();
    let e = Engine::start();
    let empty = counts(&e);

    let refused = |name: &str, content: &[u8], says: &str| {
        let f = out.path().join(name);
        std::fs::write(&f, content).unwrap();
        let (ok, answer) = import(&e, &f);
        assert!(!ok, "{name} must be refused");
        let text = answer.as_str().unwrap_or_default().to_owned();
        assert!(text.contains(says), "{name}: {text}");
        assert_eq!(counts(&e), empty, "{name}: nothing stored");
    };
    refused("truncated.sightline", &bytes[..bytes.len() / 2], "damaged");
    refused("cut.sightline", &bytes[..60], "truncated");
    // A forged bundle whose tables are views over an endless query (it pinned a core for good)
    // or hide a trigger: refused before anything of it is read.
    for (forged, object) in [
        (
            "CREATE VIEW otlp AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
                  SELECT 'traces' AS signal, zeroblob(1000) AS request, i AS id FROM n;",
            "view otlp",
        ),
        (
            "CREATE TABLE otlp (id INTEGER PRIMARY KEY, signal TEXT, request BLOB);
             CREATE TRIGGER t AFTER INSERT ON otlp BEGIN SELECT 1; END;",
            "trigger t",
        ),
    ] {
        let f = out.path().join("forged.sightline");
        let _ = std::fs::remove_file(&f);
        let conn = sightline_store::Connection::open(&f).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {};
             CREATE TABLE manifest (key TEXT PRIMARY KEY, value TEXT);
             INSERT INTO manifest VALUES ('format', '\"sightline-bundle\"'), ('formatVersion', '1');
             {forged}",
            sightline_store::bundle::APPLICATION_ID
        ))
        .unwrap();
        drop(conn);
        let started = std::time::Instant::now();
        let (ok, answer) = import(&e, &f);
        assert!(!ok, "{object}: {answer}");
        let text = answer.as_str().unwrap_or_default();
        assert!(
            text.contains("not a bundle Sightline made") && text.contains(object),
            "{text}"
        );
        eprintln!("{object}: refused in {:?}", started.elapsed());
        assert_eq!(counts(&e), empty);
    }
    refused(
        "notes.sightline",
        b"not a bundle at all",
        "not a Sightline bundle",
    );
    // Damage inside the data (not the file's structure): the checksum catches it.
    let edited = out.path().join("edited.sightline");
    std::fs::copy(&file, &edited).unwrap();
    {
        let conn = rusqlite_open(&edited);
        conn.execute("UPDATE replay_batches SET events = '[]' WHERE rowid = (SELECT min(rowid) FROM replay_batches)", []).unwrap();
    }
    let (ok, answer) = import(&e, &edited);
    assert!(
        !ok && answer
            .as_str()
            .unwrap_or_default()
            .contains("does not match its checksum"),
        "{answer}"
    );
    // A bundle from a newer Sightline.
    let newer = out.path().join("newer.sightline");
    std::fs::copy(&file, &newer).unwrap();
    rusqlite_open(&newer)
        .execute(
            "UPDATE manifest SET value = '99' WHERE key = 'formatVersion'",
            [],
        )
        .unwrap();
    let (ok, answer) = import(&e, &newer);
    assert!(
        !ok && answer
            .as_str()
            .unwrap_or_default()
            .contains("Update Sightline"),
        "{answer}"
    );
    assert_eq!(counts(&e), empty, "nothing partial was stored");
    // A forged bundle with a correct checksum (anyone can compute one) whose session ids live
    // ingest refuses: a CR/LF that forges lines, a NUL, an id of 100 KB. Refused alike.
    for (what, id) in [
        ("a CR/LF", "s1\r\nX-Forged: yes".to_owned()),
        ("a NUL", "s1\0hidden".to_owned()),
        ("100 KB", "s".repeat(100_000)),
    ] {
        let forged = out.path().join("forged-id.sightline");
        std::fs::copy(&file, &forged).unwrap();
        {
            let conn = rusqlite_open(&forged);
            for table in ["replay_batches", "sessions"] {
                conn.execute(
                    &format!("UPDATE {table} SET session_id = ?1 || session_id"),
                    [&id],
                )
                .unwrap();
            }
            let sum = sightline_store::bundle::checksum(&conn).unwrap();
            conn.execute(
                "UPDATE manifest SET value = ?1 WHERE key = 'checksum'",
                [serde_json::to_string(&sum).unwrap()],
            )
            .unwrap();
        }
        let (ok, answer) = import(&e, &forged);
        let text = answer.as_str().unwrap_or_default();
        assert!(!ok && text.contains("sessionId"), "{what}: {answer}");
        assert_eq!(counts(&e), empty, "{what}: nothing stored");
    }
    // The intact one still imports.
    let (ok, answer) = import(&e, &file);
    assert!(ok && answer["imported"] == true, "{answer}");
}

/// What is stored, without the file's size (which checkpoints change).
fn counts(e: &Engine) -> Value {
    let mut stats = e.stats();
    stats.as_object_mut().unwrap().remove("databaseBytes");
    stats
}

fn rusqlite_open(path: &Path) -> sightline_store::Connection {
    sightline_store::Connection::open(path).unwrap()
}

/// The same in the UI: imported with "Import…", dropped on the window, shown with where it came
/// from, exported again with the session's Export button.
#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn bundles_are_imported_and_exported_in_the_ui() {
    let Exported {
        id,
        file,
        out: _out,
        source: _source,
        _seeded,
    } = exported("hasBackendTraces=true");
    let e = Engine::start();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let ui = node_client([
        "ui-share.mjs",
        &format!("http://{}/", e.ui),
        file.to_str().unwrap(),
        shots.to_str().unwrap(),
    ]);
    assert!(
        ui["picked"]
            .as_str()
            .unwrap()
            .contains("imported 1 session"),
        "{ui}"
    );
    assert!(
        ui["dropped"].as_str().unwrap().contains("already imported"),
        "{ui}"
    );
    assert!(
        ui["note"]
            .as_str()
            .unwrap()
            .contains("Imported from bug.sightline"),
        "{ui}"
    );
    assert_eq!(ui["download"]["sqlite"], true, "{ui}");
    assert_eq!(
        ui["selection"], true,
        "the selection exported as a bundle: {ui}"
    );
    let report = ui["report"].as_str().unwrap();
    assert!(
        report.contains("**Steps to reproduce**")
            && report.contains(&format!("sightline://session/{id}")),
        "{report}"
    );
    assert!(
        ui["download"]["name"]
            .as_str()
            .unwrap()
            .ends_with(".sightline"),
        "{ui}"
    );
    assert_eq!(get(e.ui, "/api/v1/stats")["sessions"], 1);
}

fn import_bytes(e: &Engine, name: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::blocking::Client::new()
        .post(e.api_url("/api/v1/import"))
        .header("x-file-name", name)
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

/// The OpenTelemetry Collector's file exporter output (`tests/fixtures/collector`), plain and
/// compressed the ways the exporter writes it, and gzipped by hand: each import stores the
/// same traces, logs and metrics, once.
#[test]
fn collector_files_are_imported_plain_or_compressed() {
    use std::io::Write;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector");
    let text = std::fs::read(root.join("storefront.jsonl")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    // Legacy `compression: zstd`: each line compressed alone, behind its 4-byte length.
    let mut records = Vec::new();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let frame = zstd::encode_all(line, 3).unwrap();
        records.extend((frame.len() as u32).to_be_bytes());
        records.extend(frame);
    }
    let variants = [
        ("traces.jsonl", text.clone()),
        ("traces.jsonl.gz", gz.finish().unwrap()),
        (
            "traces.jsonl.zst",
            zstd::encode_all(text.as_slice(), 3).unwrap(),
        ),
        ("traces.zst", records),
    ];
    for (name, body) in variants {
        let e = Engine::start();
        let (status, answer) = import_bytes(&e, name, body.clone());
        assert_eq!(status, 200, "{name}: {answer}");
        assert_eq!(
            (
                answer["imported"].as_bool(),
                answer["spans"].as_u64(),
                answer["logs"].as_u64()
            ),
            (Some(true), Some(3), Some(1)),
            "{name}: {answer}"
        );
        let stats = e.stats();
        assert_eq!(
            (
                stats["spans"].as_u64(),
                stats["logs"].as_u64(),
                stats["metrics"].as_u64()
            ),
            (Some(3), Some(1), Some(1)),
            "{name}: {stats}"
        );
        let trace = e.trace("4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(trace["spans"].as_array().unwrap().len(), 2, "{name}");
        assert_eq!(trace["logs"][0]["body"], "charge refused by the bank");
        assert_eq!(trace["sessionId"], "collector-session");
        let (_, again) = import_bytes(&e, name, body);
        assert_eq!(again["imported"], false, "{name}: stored once");
        let after = e.stats();
        for k in ["spans", "logs", "metrics", "metricPoints", "traces"] {
            assert_eq!(after[k], stats[k], "{name}: {k}");
        }
    }
    // A line that is not OTLP: refused with where, nothing stored.
    let e = Engine::start();
    let mut bad = text.clone();
    bad.extend(b"{\"hello\": 1}\n");
    let (status, answer) = import_bytes(&e, "bad.jsonl", bad);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("line 5"),
        "{answer}"
    );
    assert_eq!(e.stats()["spans"], 0);
}

/// An rrweb recording (a JSON array of events, as rrweb's own tools save it) becomes a session
/// with its replay, clicks and frustration, named after the file.
#[test]
fn rrweb_recordings_are_imported_as_sessions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collector");
    let body = std::fs::read(root.join("checkout-recording.json")).unwrap();
    let e = Engine::start();
    let (status, answer) = import_bytes(&e, "checkout-recording.json", body.clone());
    assert_eq!(status, 200, "{answer}");
    let id = answer["sessions"][0].as_str().unwrap().to_owned();
    assert!(id.starts_with("checkout-recording-"), "{id}");
    let detail = get(e.ui, &format!("/api/v1/sessions/{id}"));
    assert_eq!(detail["startUrl"], "https://shop.test/checkout");
    assert_eq!(
        detail["importedFrom"]["fileName"],
        "checkout-recording.json"
    );
    let signals: Vec<&str> = detail["frustrationSignals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(signals.contains(&"rage_click"), "{detail}");
    let replay = get(
        e.ui,
        &format!("/api/v1/sessions/{id}/replay?fromMs=1790000010000&toMs=1790000013000"),
    );
    assert_eq!(replay["events"].as_array().unwrap().len(), 6);
    let (_, again) = import_bytes(&e, "renamed.json", body);
    assert_eq!(
        again["imported"], false,
        "the same recording, whatever its name"
    );
}
