//! Incident windows through the engine's API and its ingest port: started (with a scope, a
//! label and a ticket), listed, extended and stopped; read by clients on the ingest port
//! (`/v1/incident-mode`, and every `/v1/replay` answer); started by backends with
//! `POST /ops/incident-mode`, which web pages cannot do.

use serde_json::{json, Value};
use sightline_tests::Engine;

fn post(e: &Engine, path: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::blocking::Client::new()
        .post(e.api_url(path))
        .json(&body)
        .send()
        .unwrap();
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

fn status(e: &Engine, query: &str) -> Value {
    let resp = reqwest::blocking::Client::new()
        .get(e.otlp_url(&format!("/v1/incident-mode?{query}")))
        .header("origin", "http://shop.test")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "*",
        "browsers may read it"
    );
    resp.json().unwrap()
}

#[test]
fn a_window_is_started_read_extended_and_stopped() {
    let e = Engine::start();
    let (code, started) = post(
        &e,
        "/api/v1/incidents",
        json!({"minutes": 15, "user": "ada", "label": "checkout 500s",
               "ticketUrl": "https://tracker.test/BUG-7", "startedBy": "ui"}),
    );
    assert_eq!(code, 201, "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("inc_"));
    assert_eq!(started["scope"], json!({"kind": "user", "value": "ada"}));
    assert_eq!(started["startedBy"], "ui");
    assert_eq!(started["active"], true);
    let until = started["untilMs"].as_i64().unwrap();
    let length = until - started["startedMs"].as_i64().unwrap();
    assert_eq!(length, 15 * 60_000);

    // Clients on the ingest port: ada is covered, bob is not.
    let ada = status(&e, "user=ada&session=s1");
    assert_eq!(ada["active"], true);
    assert_eq!(
        (ada["id"].as_str(), ada["until"].as_i64()),
        (Some(id.as_str()), Some(until))
    );
    assert_eq!(status(&e, "user=bob")["active"], false);

    // Every replay batch's answer says it too.
    let resp = reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/replay"))
        .header("content-type", "application/json")
        .body(json!({"sessionId": "s1", "batch": 0, "meta": {"userId": "ada"},
            "events": [{"type": 4, "timestamp": 1_763_000_000_000u64, "data": {"href": "http://shop.test/"}}]}).to_string())
        .send()
        .unwrap();
    let answer: Value = resp.json().unwrap();
    assert_eq!(answer["incidentMode"]["id"], id.as_str(), "{answer}");

    let (code, extended) = post(
        &e,
        &format!("/api/v1/incidents/{id}/extend"),
        json!({"minutes": 10}),
    );
    assert_eq!(code, 200, "{extended}");
    assert_eq!(extended["untilMs"].as_i64(), Some(until + 10 * 60_000));

    let (_, list) = e.api("/api/v1/incidents");
    assert_eq!(list["incidents"][0]["id"], id.as_str());
    assert_eq!(list["incidents"][0]["label"], "checkout 500s");

    let (code, stopped) = post(&e, &format!("/api/v1/incidents/{id}/stop"), json!({}));
    assert_eq!(code, 200);
    assert_eq!(
        (stopped["active"].as_bool(), stopped["endedEarly"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(
        status(&e, "user=ada")["active"],
        false,
        "capture is back to normal"
    );
    let (code, err) = post(
        &e,
        &format!("/api/v1/incidents/{id}/extend"),
        json!({"minutes": 5}),
    );
    assert_eq!(code, 400, "an ended window stays ended: {err}");
    // Kept as history.
    let (_, one) = e.api(&format!("/api/v1/incidents/{id}"));
    assert_eq!(one["ticketUrl"], "https://tracker.test/BUG-7");
}

#[test]
fn bad_windows_are_refused_with_the_reason() {
    let e = Engine::start();
    for (body, says) in [
        (json!({"minutes": 0}), "minutes must be"),
        (json!({"minutes": 2000}), "minutes must be"),
        (json!({"seconds": 2}), "seconds must be"),
        (
            json!({"minutes": 1, "seconds": 30}),
            "minutes or as seconds",
        ),
        (json!({"label": "no length"}), "minutes or as seconds"),
        (
            json!({"minutes": 5, "user": "ada", "session": "s1"}),
            "one scope",
        ),
        (json!({"minutes": 5, "url": "  "}), "cannot be empty"),
        (
            json!({"minutes": 5, "ticketUrl": "javascript:alert(1)"}),
            "http(s) URL",
        ),
        (json!({"minutes": 5, "label": "a\nb"}), "one line"),
        (json!({"minutes": 5, "scope": "all"}), "unknown field"),
    ] {
        let (code, err) = post(&e, "/api/v1/incidents", body.clone());
        assert_eq!(code, 400, "{body}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(says),
            "{body}: {err}"
        );
    }
    let (code, _) = post(&e, "/api/v1/incidents/inc_nope/stop", json!({}));
    assert_eq!(code, 404);
    assert_eq!(e.api("/api/v1/incidents").1["incidents"], json!([]));
}

#[test]
fn backends_start_windows_on_the_ingest_port_and_pages_cannot() {
    let e = Engine::start();
    let client = reqwest::blocking::Client::new();
    let resp = client
        .post(e.otlp_url("/ops/incident-mode?minutes=5"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().unwrap();
    assert_eq!(answer["ok"], true);
    let expires = answer["incidentModeExpiresAt"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (expires - now - 5 * 60_000).abs() < 60_000,
        "{expires} vs {now}"
    );
    // Everyone is covered, even a client that says nothing about itself.
    assert_eq!(status(&e, "")["until"].as_i64(), Some(expires));
    let (_, list) = e.api("/api/v1/incidents");
    assert_eq!(list["incidents"][0]["startedBy"], "api");

    let resp = client
        .post(e.otlp_url("/ops/incident-mode?minutes=5"))
        .header("origin", "http://evil.test")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        e.api("/api/v1/incidents").1["incidents"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// `sightline incident start | list | extend | stop` against a running engine.
#[test]
fn the_cli_starts_lists_extends_and_stops_windows() {
    let e = Engine::start();
    let ui = e.ui.to_string();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(sightline_tests::sightline_bin())
            .arg("incident")
            .args(args)
            .args(["--ui", &ui])
            .output()
            .expect("the CLI runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let started = cli(&[
        "start",
        "--minutes",
        "20",
        "--url",
        "/checkout*",
        "--label",
        "pay fails",
        "--ticket",
        "https://t.test/1",
    ]);
    let id = started.split('\t').next().unwrap().to_owned();
    assert!(id.starts_with("inc_"), "{started}");
    assert!(
        started.contains("\tactive\t")
            && started.contains("scope=url=/checkout*")
            && started.contains("by=cli"),
        "{started}"
    );
    assert!(
        started.contains("label=pay fails") && started.contains("ticket=https://t.test/1"),
        "{started}"
    );

    let extended: Value =
        serde_json::from_str(&cli(&["extend", &id, "--minutes", "5", "--json"])).unwrap();
    let listed: Value = serde_json::from_str(&cli(&["list", "--json"])).unwrap();
    assert_eq!(listed["incidents"][0]["untilMs"], extended["untilMs"]);

    let stopped = cli(&["stop"]);
    assert!(
        stopped.starts_with(&id) && stopped.contains("\tended\t"),
        "{stopped}"
    );
    assert!(cli(&["stop"]).is_empty(), "nothing left to stop");

    // A wrong address is a clear error, not a hang.
    let out = std::process::Command::new(sightline_tests::sightline_bin())
        .args(["incident", "list", "--ui", "127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not answer"));
}

mod tagging {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn log(e: &Engine, body: &str, attrs: Vec<KeyValue>) {
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        // Now: a window tags records written while it is open.
                        time_unix_nano: std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_nanos() as u64,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(body.into())),
                        }),
                        attributes: attrs,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        e.post_protobuf("/v1/logs", req.encode_to_vec());
    }

    fn span(e: &Engine, n: u8, attrs: Vec<KeyValue>) {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![n; 16],
                        span_id: vec![n; 8],
                        name: format!("span {n}"),
                        attributes: attrs,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        e.post_protobuf("/v1/traces", req.encode_to_vec());
    }

    fn tags(e: &Engine, table: &str) -> Vec<(String, Value)> {
        let key = if table == "logs" { "body" } else { "name" };
        let (_, rows) = e.sql(&format!(
            "SELECT {key}, incident_id FROM {table} ORDER BY {key}"
        ));
        rows["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let text = r[0].as_str().unwrap().trim_matches('"').to_owned();
                (text, r[1].clone())
            })
            .collect()
    }

    /// Records arriving in a window, within its scope, carry its id; so do records their
    /// sender marked; nothing else does.
    #[test]
    fn records_in_a_window_and_its_scope_are_tagged() {
        let e = Engine::start();
        // Ada's recorded session: a user scope then covers its records by their session.
        e.post_replay(&json!({"sessionId": "s-ada", "batch": 0, "meta": {"userId": "ada"},
            "events": [{"type": 4, "timestamp": 1_763_000_000_000u64, "data": {"href": "http://shop.test/"}}]}));
        log(&e, "before any window", vec![kv("session.id", "s-ada")]);

        let (_, ada) = post(
            &e,
            "/api/v1/incidents",
            json!({"minutes": 10, "user": "ada"}),
        );
        let ada = ada["id"].as_str().unwrap().to_owned();
        log(&e, "ada by session", vec![kv("session.id", "s-ada")]);
        log(&e, "ada by attribute", vec![kv("enduser.id", "ada")]);
        log(&e, "bob", vec![kv("user.id", "bob")]);
        log(
            &e,
            "marked by id",
            vec![kv("incident.id", "inc_from_backend")],
        );
        log(&e, "marked by mode", vec![kv("incident.mode", "true")]);

        let (_, pay) = post(
            &e,
            "/api/v1/incidents",
            json!({"minutes": 10, "url": "/checkout"}),
        );
        let pay = pay["id"].as_str().unwrap().to_owned();
        span(
            &e,
            1,
            vec![kv("url.full", "http://shop.test/checkout?step=2")],
        );
        span(&e, 2, vec![kv("url.full", "http://shop.test/cart")]);

        post(&e, &format!("/api/v1/incidents/{ada}/stop"), json!({}));
        post(&e, &format!("/api/v1/incidents/{pay}/stop"), json!({}));
        log(&e, "after the windows", vec![kv("session.id", "s-ada")]);

        let null = Value::Null;
        assert_eq!(
            tags(&e, "logs"),
            vec![
                ("ada by attribute".to_owned(), json!(ada)),
                ("ada by session".to_owned(), json!(ada)),
                ("after the windows".to_owned(), null.clone()),
                ("before any window".to_owned(), null.clone()),
                ("bob".to_owned(), null.clone()),
                ("marked by id".to_owned(), json!("inc_from_backend")),
                ("marked by mode".to_owned(), json!(ada)),
            ]
        );
        // Log search finds what a window captured, or what any window did.
        let bodies = |query: &str| -> Vec<String> {
            let (status, page) = e.api(&format!("/api/v1/logs?{query}"));
            assert_eq!(status, 200, "{page}");
            let mut b: Vec<String> = page["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["body"].as_str().unwrap_or_default().to_owned())
                .collect();
            b.sort();
            b
        };
        assert_eq!(
            bodies(&format!("incident={ada}")),
            ["ada by attribute", "ada by session", "marked by mode"]
        );
        assert_eq!(bodies("incident=any").len(), 4);
        assert_eq!(bodies("incident=inc_from_backend"), ["marked by id"]);
        assert_eq!(
            tags(&e, "spans"),
            vec![
                ("span 1".to_owned(), json!(pay)),
                ("span 2".to_owned(), null)
            ]
        );
    }
}

/// A window over everyone tags what happens while it is open, not what arrives then: a
/// backend's log written a moment before the window opened and exported after it is not the
/// window's (the demo test met this as a flake: a quiet checkout's last log, batched, landed in
/// the window that opened next).
#[test]
fn a_record_from_before_a_window_is_not_tagged_by_it() {
    let e = Engine::start();
    let (code, window) = post(
        &e,
        "/api/v1/incidents",
        json!({"seconds": 60, "label": "late logs", "startedBy": "api"}),
    );
    assert_eq!(code, 201, "{window}");
    let started = window["startedMs"].as_i64().expect("the window's start");
    let log = |body: &str, at_ms: i64| {
        json!({"timeUnixNano": (at_ms * 1_000_000).to_string(), "severityNumber": 9,
               "body": {"stringValue": body},
               "attributes": [{"key": "session.id", "value": {"stringValue": "late"}}]})
    };
    let export = json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
        "scopeLogs": [{"logRecords": [log("before", started - 2_000), log("during", started + 1)]}]
    }]});
    let resp = reqwest::blocking::Client::new()
        .post(e.otlp_url("/v1/logs"))
        .json(&export)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut logs = Vec::new();
    sightline_tests::eventually("both logs to be stored", || {
        logs = e.api("/api/v1/logs?session=late").1["logs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        logs.len() == 2
    });
    let tag = |body: &str| {
        logs.iter()
            .find(|l| l["body"] == body)
            .map(|l| l["incidentId"].clone())
            .unwrap_or_else(|| panic!("{body} in {logs:#?}"))
    };
    assert_eq!(tag("during"), window["id"]);
    assert_eq!(
        tag("before"),
        Value::Null,
        "written before the window opened"
    );
}
