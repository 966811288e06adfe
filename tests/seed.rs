//! `sightline dev seed`: the generator the latency benchmark runs on. Its data must be what
//! live ingest would store: every request linked to its trace, every trace to its session,
//! the totals asked for, and the errors and frustration a storefront has.

use serde_json::Value;
use sightline_tests::{api_get, seed, Process};

#[test]
fn seeded_data_is_linked_counted_and_varied() {
    let dir = tempfile::tempdir().unwrap();
    let printed = seed(dir.path(), 40, 60_000, 20_000);
    assert_eq!(printed["sessions"], "40");
    assert_eq!(printed["spans"], "60000", "the span total is met exactly");
    assert_eq!(printed["logs"], "20000");

    let p = Process::serve(dir.path(), &[]).unwrap();
    let get = |path: &str| {
        let (status, body) = api_get(p.ui, path);
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    let stats = get("/api/v1/stats");
    assert_eq!(stats["spans"], 60000);
    assert_eq!(stats["logs"], 20000);
    assert_eq!(stats["sessions"], 40);
    assert_eq!(stats["traces"].to_string(), printed["traces"]);

    for size in [1_000usize, 20_000] {
        let id = &printed[&format!("trace_{size}")];
        let trace = get(&format!("/api/v1/traces/{id}"));
        assert_eq!(trace["spans"].as_array().unwrap().len(), size);
    }

    // Everything links: no request without its trace, no trace without its replay, no span
    // without its parent.
    let diagnostics = get("/api/v1/diagnostics");
    for (kind, found) in diagnostics.as_object().unwrap() {
        assert_eq!(found.as_array().map(Vec::len), Some(0), "{kind}: {found}");
    }
    let linked = get("/api/v1/sessions?hasBackendTraces=true&limit=100");
    assert_eq!(linked["sessions"].as_array().unwrap().len(), 40);

    let sql = |q: &str| -> Vec<Vec<Value>> {
        let resp = reqwest::blocking::Client::new()
            .post(format!("http://{}/api/v1/sql", p.ui))
            .json(&serde_json::json!({ "sql": q }))
            .send()
            .unwrap();
        let body: Value = resp.json().unwrap();
        serde_json::from_value(body["rows"].clone()).unwrap_or_else(|_| panic!("{q}: {body}"))
    };
    let count = |q: &str| sql(q)[0][0].as_i64().unwrap();
    assert!(
        count("SELECT count(*) FROM sessions WHERE error_count > 0") > 0,
        "JS errors"
    );
    assert!(count("SELECT count(*) FROM session_events WHERE kind = 'rage_click'") > 0);
    assert_eq!(
        count("SELECT count(*) FROM session_events WHERE kind = 'dead_click'"),
        0,
        "no dead clicks: a rage click is one signal (its clicks are not dead clicks too), and \
         every other click had a request or a DOM change"
    );
    assert!(
        count("SELECT count(*) FROM spans WHERE status_code = 2") > 0,
        "failing spans"
    );
    assert!(
        count("SELECT count(*) FROM spans WHERE duration_ns >= 5000000000") > 0,
        "timeouts"
    );
    assert!(
        count("SELECT count(*) FROM logs WHERE severity_number >= 17") > 0,
        "error logs"
    );
    assert_eq!(
        count("SELECT count(DISTINCT service_name) FROM spans"),
        5,
        "five services"
    );
    assert!(
        count("SELECT count(*) FROM logs WHERE trace_id IS NULL") == 0,
        "every log is correlated with its trace"
    );
    // The service map the writer kept matches the calls counted from the spans themselves.
    let db = sightline_store::Connection::open_with_flags(
        dir.path().join("sightline.db"),
        sightline_store::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut joined: Vec<(String, String, i64)> = db
        .prepare(
            "SELECT p.service_name, c.service_name, count(*) FROM spans c
               JOIN spans p ON p.trace = c.trace AND p.span_id = c.parent_span_id
              WHERE c.kind IN (2, 5) AND p.service_name != c.service_name GROUP BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut kept: Vec<(String, String, i64)> = get("/api/v1/service-map")["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
                e["callCount"].as_i64().unwrap(),
            )
        })
        .collect();
    joined.sort();
    kept.sort();
    assert_eq!(kept, joined);
    assert_eq!(
        kept.len(),
        4,
        "api→search, api→order, api→payment, payment→fraud"
    );
    p.kill9();
}
