//! OTLP/JSON from the official JS and Python SDKs, the clients browsers and most backends use.
//!
//! The recorded requests (tests/fixtures/exporters) are replayed on every run. The live tests
//! run the SDKs themselves against Sightline; they need `tests/clients` installed (npm, pip),
//! which the README's test command does, and are ignored by a bare `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sightline_tests::Engine;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exporters")
}

fn ids(text: &str) -> (String, String, String) {
    let v: Value = serde_json::from_str(text).expect("ids json");
    let s = |k: &str| v[k].as_str().expect(k).to_owned();
    (s("traceId"), s("spanId"), s("childSpanId"))
}

fn replay(e: &Engine, prefix: &str) -> usize {
    let mut sent = 0;
    let mut files: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && !name.ends_with("ids.json") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let signal = name.split('-').nth(1).unwrap();
        let resp = reqwest::blocking::Client::new()
            .post(e.otlp_url(&format!("/v1/{signal}")))
            .header("content-type", "application/json")
            .body(std::fs::read(&file).unwrap())
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert_eq!(
            resp.json::<Value>().unwrap(),
            json!({}),
            "{name}: full success"
        );
        sent += 1;
    }
    sent
}

fn span<'a>(trace: &'a Value, id: &str) -> &'a Value {
    trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["spanId"] == id)
        .unwrap_or_else(|| panic!("span {id} missing: {trace}"))
}

fn metric_names(e: &Engine, service: &str) -> Vec<String> {
    e.read(|c| {
        let mut stmt = c
            .prepare("SELECT name FROM metrics WHERE service_name = ?1 ORDER BY name")
            .unwrap();
        stmt.query_map([service], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    })
}

fn check_js(e: &Engine, (trace_id, span_id, child_id): (String, String, String)) {
    let trace = e.trace(&trace_id);
    let server = span(&trace, &span_id);
    assert_eq!(server["name"], "GET /products/:id");
    assert_eq!(server["kind"], 2);
    assert_eq!(server["serviceName"], "js-storefront");
    assert_eq!(server["sessionId"], "js-session-1", "from the resource");
    assert_eq!(
        server["attributes"],
        json!({
            "http.request.method": "GET",
            "http.response.status_code": 500,
            "cache.hit": false,
            "price.ratio": 0.75,
            "product.tags": ["red", "sale"],
        })
    );
    assert_eq!(
        server["status"],
        json!({"code": 2, "message": "handler threw"})
    );
    assert_eq!(server["events"][0]["name"], "exception");
    assert_eq!(
        server["events"][0]["attributes"]["exception.type"],
        "TypeError"
    );
    assert_eq!(
        server["scope"],
        json!({"name": "js-storefront-tests", "version": "1.0.0"})
    );
    let start: u64 = server["startTimeUnixNano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let end: u64 = server["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
    assert_eq!(end - start, 30_000_000);
    let child = span(&trace, &child_id);
    assert_eq!(child["parentSpanId"], span_id.as_str());
    assert_eq!(child["kind"], 3);

    let log = &trace["logs"][0];
    assert_eq!(log["body"], "product lookup failed");
    assert_eq!(log["severityNumber"], 17);
    assert_eq!(log["spanId"], span_id.as_str());
    assert_eq!(
        log["attributes"],
        json!({"product.id": 17, "user.email": "ada@example.com"})
    );
    assert_eq!(log["sessionId"], "js-session-1");

    assert_eq!(
        metric_names(e, "js-storefront"),
        ["cart.size", "fetch.duration", "page.views"]
    );
}

fn check_py(e: &Engine, (trace_id, span_id, child_id): (String, String, String)) {
    let trace = e.trace(&trace_id);
    let server = span(&trace, &span_id);
    assert_eq!(server["name"], "POST /orders");
    assert_eq!(server["serviceName"], "py-orders");
    assert_eq!(
        server["sessionId"], "py-session-1",
        "rum.sessionId on the resource"
    );
    assert_eq!(
        server["attributes"],
        json!({
            "http.request.method": "POST",
            "order.items": 3,
            "order.total": 99.5,
            "order.gift": true,
            "order.skus": ["sku-1", "sku-2"],
        })
    );
    assert_eq!(server["status"]["code"], 1);
    assert_eq!(server["events"][0]["attributes"], json!({"rule.count": 4}));
    assert_eq!(server["startTimeUnixNano"], "1767323045678000000");
    let child = span(&trace, &child_id);
    assert_eq!(child["name"], "INSERT orders");
    assert_eq!(child["parentSpanId"], span_id.as_str());
    assert_eq!(child["attributes"], json!({"db.system.name": "sqlite"}));

    let log = &trace["logs"][0];
    assert_eq!(log["body"], "order stored slowly");
    assert_eq!(log["severityNumber"], 13);
    assert_eq!(log["severityText"], "WARN");
    assert_eq!(
        log["spanId"],
        span_id.as_str(),
        "logged inside the server span"
    );
    assert_eq!(log["attributes"]["order.id"], "o-77");

    assert_eq!(
        metric_names(e, "py-orders"),
        ["order.value", "orders.created", "orders.open"]
    );
}

#[test]
fn recorded_js_sdk_requests_are_stored_field_by_field() {
    let e = Engine::start();
    assert_eq!(replay(&e, "js-"), 5);
    let text = std::fs::read_to_string(fixtures().join("js-ids.json")).unwrap();
    check_js(&e, ids(&text));
}

#[test]
fn recorded_python_sdk_requests_are_stored_field_by_field() {
    let e = Engine::start();
    assert_eq!(replay(&e, "py-"), 4);
    let text = std::fs::read_to_string(fixtures().join("py-ids.json")).unwrap();
    check_py(&e, ids(&text));
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn run_client(mut cmd: Command) -> String {
    let out = cmd.output().expect("client runs");
    assert!(
        out.status.success(),
        "client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs tests/clients/node_modules (npm ci); the README's test command runs it"]
fn live_js_sdk_exports_over_http_json() {
    let e = Engine::start();
    let mut cmd = Command::new("node");
    cmd.current_dir(clients_dir())
        .arg("export.mjs")
        .arg(format!("http://{}", e.http));
    let out = run_client(cmd);
    check_js(&e, ids(out.trim()));
}

#[test]
#[ignore = "needs the Python clients (pip install -r tests/clients/requirements.txt); the README's test command runs it"]
fn live_python_sdk_exports_over_http_json() {
    let e = Engine::start();
    let python = std::env::var("SIGHTLINE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = Command::new(python);
    cmd.arg(clients_dir().join("export.py"))
        .arg(format!("http://{}", e.http));
    let out = run_client(cmd);
    check_py(&e, ids(out.trim()));
}
