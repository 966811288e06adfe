//! Incident mode end to end, in Debian's Chromium (Playwright): the served recorder's enriched
//! capture inside a window scoped to one user, the backend's verbose logs (official
//! OpenTelemetry JS SDK, honouring `X-Incident-Mode-Until` through the README's middleware),
//! what is redacted and where, a second user left alone, and capture back to normal without a
//! reload when the window is stopped and when a short one runs out.
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use serde_json::Value;
use sightline_tests::{eventually, node_client, Engine};

fn network(e: &Engine, session: &str) -> Vec<Value> {
    let (status, timeline) = e.api(&format!("/api/v1/sessions/{session}/timeline"));
    assert_eq!(status, 200, "{timeline}");
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["kind"] == "network" && i["target"].as_str().unwrap_or("").contains("/api/checkout")
        })
        .cloned()
        .collect()
}

fn attempt(requests: &[Value], n: u32) -> Value {
    let suffix = format!("attempt={n}");
    requests
        .iter()
        .find(|r| r["target"].as_str().unwrap().ends_with(&suffix))
        .unwrap_or_else(|| panic!("no request {suffix} in {requests:#?}"))
        .clone()
}

fn console(e: &Engine, session: &str) -> Vec<Value> {
    let (_, timeline) = e.api(&format!("/api/v1/sessions/{session}/timeline"));
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "console")
        .cloned()
        .collect()
}

fn logs(e: &Engine, query: &str) -> Vec<Value> {
    let (status, page) = e.api(&format!("/api/v1/logs?{query}"));
    assert_eq!(status, 200, "{page}");
    page["logs"].as_array().unwrap().clone()
}

fn attr<'a>(log: &'a Value, key: &str) -> &'a Value {
    &log["attributes"][key]
}

#[test]
fn an_incident_window_enriches_one_users_capture_and_ends_without_a_reload() {
    let e = Engine::start();
    let run = node_client([
        "incident-scenario.mjs",
        &e.http.to_string(),
        &e.ui.to_string(),
    ]);
    let (a, b) = (
        run["sessionA"].as_str().unwrap(),
        run["sessionB"].as_str().unwrap(),
    );
    let (first, short) = (
        run["first"].as_str().unwrap(),
        run["short"].as_str().unwrap(),
    );
    assert!(run["batches"].as_u64().unwrap() > 0);
    // Redacted before it left the browser: no secret is in anything the recorder sent.
    assert_eq!(run["secretsSent"], serde_json::json!([]), "{run}");

    eventually("the backend's spans and logs to arrive", || {
        logs(&e, &format!("session={a}&q=payment%20declined")).len() == 4
            && logs(&e, &format!("session={b}&q=payment%20declined")).len() == 1
    });

    // 3, 4. The user's failing POST inside the window: bodies and headers captured, stamped.
    let requests = network(&e, a);
    let one = attempt(&requests, 1);
    assert_eq!(one["level"], "402");
    assert_eq!(one["incidentId"], first, "{one}");
    assert_eq!(one["captured"], true, "{one}");
    // The timeline leaves the payloads out; the event itself has them.
    assert!(one["data"].get("requestBody").is_none());
    let (status, event) = e.api(&format!("/api/v1/sessions/{a}/events/{}", one["eventId"]));
    assert_eq!(status, 200, "{event}");
    let d = &event["data"];
    let sent: Value = serde_json::from_str(d["requestBody"].as_str().unwrap()).unwrap();
    assert_eq!(sent["items"][0]["sku"], "mug", "{d}");
    assert_eq!(sent["email"], "ada@example.com");
    assert_eq!(sent["cardNumber"], "[REDACTED]");
    let answer: Value = serde_json::from_str(d["responseBody"].as_str().unwrap()).unwrap();
    assert_eq!(answer["error"], "card_declined", "{d}");
    assert_eq!(d["requestHeaders"]["authorization"], "[REDACTED]", "{d}");
    assert_eq!(d["requestHeaders"]["content-type"], "application/json");
    assert_eq!(
        d["requestHeaders"]["x-incident-mode-until"]
            .as_str()
            .map(str::len),
        Some(13),
        "the backend was told until when: {d}"
    );
    assert!(d["requestHeaders"]["traceparent"].is_string());
    assert_eq!(d["responseHeaders"]["content-type"], "application/json");
    // All console levels inside the window, each stamped.
    let lines = console(&e, a);
    let debug = lines
        .iter()
        .find(|l| l["level"] == "debug" && l["target"].as_str().unwrap().contains("attempt 1"))
        .unwrap_or_else(|| panic!("no console.debug of attempt 1 in {lines:#?}"));
    assert_eq!(debug["incidentId"], first);
    assert!(lines
        .iter()
        .any(|l| l["level"] == "info" && l["incidentId"] == first));

    // 5. The backend's verbose log of that request is tagged with the window, correlated, and
    //    the engine redacted the header it logged.
    let verbose = logs(&e, &format!("incident={first}&q=checkout%20request"));
    assert_eq!(verbose.len(), 1, "{verbose:#?}");
    let v = &verbose[0];
    assert_eq!(v["sessionId"], a);
    assert_eq!(
        v["traceId"], one["traceId"],
        "the log is in the request's trace"
    );
    assert_eq!(v["incidentId"], first);
    assert_eq!(attr(v, "incident.mode"), true, "marked by the middleware");
    assert_eq!(attr(v, "checkout.attempt"), "1");
    assert_eq!(attr(v, "http.request.header.authorization"), "[REDACTED]");
    assert!(attr(v, "http.request.body")
        .as_str()
        .unwrap()
        .contains("[REDACTED]"));
    let (_, trace) = e.api(&format!("/api/v1/traces?incident={first}"));
    let traced: Vec<&str> = trace["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["traceId"].as_str().unwrap())
        .collect();
    assert_eq!(traced, vec![one["traceId"].as_str().unwrap()]);

    // 6. The second user, in the same minute: nothing enriched, nothing verbose, not listed.
    let other = attempt(&network(&e, b), 1);
    assert_eq!(other["incidentId"], Value::Null, "{other}");
    assert_eq!(other["captured"], false);
    let (_, event) = e.api(&format!("/api/v1/sessions/{b}/events/{}", other["eventId"]));
    assert!(event["data"].get("requestHeaders").is_none(), "{event}");
    assert!(console(&e, b)
        .iter()
        .all(|l| l["level"] != "debug" && l["level"] != "info"));
    assert!(logs(&e, &format!("session={b}"))
        .iter()
        .all(|l| l["severityText"] != "DEBUG" && l["incidentId"].is_null()));
    let (_, listed) = e.api(&format!("/api/v1/sessions?incident={first}"));
    let listed: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![a]);

    // The incident's page lists the requests it caught: the one of the first user.
    let (status, caught) = e.api(&format!("/api/v1/incidents/{first}/requests"));
    assert_eq!(status, 200, "{caught}");
    let caught = caught["requests"].as_array().unwrap();
    assert_eq!(caught.len(), 1, "{caught:#?}");
    assert_eq!(caught[0]["eventId"], one["eventId"]);
    assert_eq!(
        (
            caught[0]["status"].as_str(),
            caught[0]["method"].as_str(),
            caught[0]["userId"].as_str()
        ),
        (Some("402"), Some("POST"), Some("incident-user"))
    );
    assert_eq!(caught[0]["captured"], true);

    // The same, as a person sees it: the incident's page, the request's captured headers and
    // bodies with the redactions marked, the window on the scrubber, the filters.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let ui = node_client([
        "ui-incident-capture.mjs",
        &format!("http://{}/", e.ui),
        first,
        shots.to_str().unwrap(),
    ]);
    assert_eq!(
        (ui["sessions"].as_u64(), ui["failing"].as_u64()),
        (Some(1), Some(1)),
        "{ui}"
    );
    assert_eq!(ui["headers"]["authorization"], "REDACTED", "{ui}");
    assert_eq!(ui["headers"]["content-type"], "application/json");
    assert!(
        ui["redactedShown"].as_u64() >= Some(2),
        "header and card number: {ui}"
    );
    assert!(
        ui["bodies"][1].as_str().unwrap().contains("card_declined"),
        "{ui}"
    );
    assert_eq!(ui["bands"], 2, "both windows on session A's scrubber: {ui}");
    assert_eq!(ui["filtered"]["sessions"], 1, "{ui}");
    assert_eq!(ui["filtered"]["traces"], 2, "attempts 1 and 3: {ui}");
    assert!(
        ui["shaded"].as_u64() > Some(0) && ui["edges"].as_u64() > Some(0),
        "{ui}"
    );

    // 7. After the window was stopped, and after a short one ran out: normal capture again,
    //    in the same page. Inside the short window it was on.
    // Logged after the stop, before the recorder heard of it: the engine drops the stale stamp.
    let after = lines
        .iter()
        .find(|l| l["target"] == "after the stop")
        .unwrap_or_else(|| panic!("no 'after the stop' in {lines:#?}"));
    assert_eq!(after["incidentId"], Value::Null, "{after}");
    let three = attempt(&requests, 3);
    assert_eq!(
        (three["incidentId"].as_str(), three["captured"].as_bool()),
        (Some(short), Some(true)),
        "{three}"
    );
    for n in [2, 4] {
        let r = attempt(&requests, n);
        assert_eq!(r["incidentId"], Value::Null, "attempt {n}: {r}");
        assert_eq!(r["captured"], false, "attempt {n}: {r}");
        assert!(
            lines.iter().all(|l| !(l["level"] == "debug"
                && l["target"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("attempt {n}")))),
            "console.debug is not recorded outside a window (attempt {n})"
        );
        let verbose = logs(&e, &format!("session={a}&q=checkout%20request"));
        assert!(
            verbose
                .iter()
                .all(|l| attr(l, "checkout.attempt") != &Value::String(n.to_string())),
            "attempt {n}: {verbose:#?}"
        );
    }
    assert_eq!(
        logs(&e, &format!("incident={short}&q=checkout%20request")).len(),
        1
    );
}
