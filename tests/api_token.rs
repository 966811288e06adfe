//! The token that guards the UI address when it is reachable from other machines.

use std::net::SocketAddr;

use sightline_tests::Engine;

const TOKEN: &str = "correct-horse-battery-staple";

fn get(e: &Engine, host: &str, auth: Option<&str>, query: &str) -> reqwest::blocking::Response {
    let mut req = reqwest::blocking::Client::new()
        .get(format!("http://{}/api/v1/stats{query}", e.ui))
        .header("host", host);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    req.send().expect("request")
}

#[test]
fn a_reachable_address_needs_a_long_enough_token() {
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let refused = Engine::with_config(|c| c.ui = any).err().expect("refused");
    assert!(
        refused.to_string().contains("--token"),
        "the refusal says what to do: {refused}"
    );
    let short = Engine::with_config(|c| {
        c.ui = any;
        c.api_token = Some("hunter2".into());
    })
    .err()
    .expect("a short token is refused");
    assert!(short.to_string().contains("16 characters"), "{short}");
    let spaced = Engine::with_config(|c| c.api_token = Some("a token with; odd characters".into()))
        .err()
        .expect("a token that cannot travel in a cookie is refused");
    assert!(spaced.to_string().contains("A-Z a-z 0-9"), "{spaced}");
    Engine::with_config(|c| {
        c.ui = any;
        c.api_token = Some(TOKEN.into());
    })
    .expect("with a token it starts");
}

#[test]
fn with_a_token_every_request_carries_it_and_any_host_name_may_be_used() {
    let e = Engine::with_config(|c| c.api_token = Some(TOKEN.into())).expect("starts");
    let lan = "sightline.lan:4320";

    let missing = get(&e, "127.0.0.1", None, "");
    assert_eq!(missing.status(), 401, "even from loopback");
    let body: serde_json::Value = missing.json().unwrap();
    assert_eq!(body["error"], "unauthorized");
    assert!(body["message"].as_str().unwrap().contains("Bearer"));

    assert_eq!(
        get(&e, lan, Some("Bearer wrong-token-of-some-length"), "").status(),
        401
    );
    assert_eq!(
        get(&e, lan, Some(&format!("Bearer {TOKEN}")), "").status(),
        200
    );

    // A browser opens the UI once with ?token=, then its cookie carries the token.
    let opened = get(&e, lan, None, &format!("?token={TOKEN}"));
    assert_eq!(opened.status(), 200);
    let cookie = opened
        .headers()
        .get("set-cookie")
        .expect("a cookie for the page's later requests")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let later = reqwest::blocking::Client::new()
        .get(format!("http://{}/api/v1/stats", e.ui))
        .header("host", lan)
        .header("cookie", format!("theme=dark; {pair}"))
        .send()
        .unwrap();
    assert_eq!(later.status(), 200);
}

#[test]
fn without_a_token_only_loopback_names_are_answered() {
    let e = Engine::start();
    assert_eq!(get(&e, "localhost:4320", None, "").status(), 200);
    assert_eq!(get(&e, "sightline.lan:4320", None, "").status(), 403);
    assert_eq!(
        get(&e, "sightline.lan", Some(&format!("Bearer {TOKEN}")), "").status(),
        403,
        "a token means nothing to an engine that has none"
    );
}

/// An agent reaches a token-holding engine over MCP with the token, both ways in, and not
/// without it (the official TypeScript SDK's client).
#[test]
#[ignore = "needs tests/clients (npm ci); the README's test command runs it"]
fn mcp_needs_the_token_too() {
    let e = Engine::with_config(|c| c.api_token = Some(TOKEN.into())).expect("starts");
    let url = format!("http://{}/mcp", e.ui);
    let http = sightline_tests::node_client(["mcp-agent.mjs", "http", &url, TOKEN]);
    assert_eq!(http["server"]["name"], "sightline", "{http}");
    let bin = sightline_tests::sightline_bin();
    let ui = e.ui.to_string();
    let stdio = sightline_tests::node_client([
        "mcp-agent.mjs".as_ref(),
        "stdio".as_ref(),
        bin.as_os_str(),
        ui.as_ref(),
        TOKEN.as_ref(),
    ]);
    assert_eq!(stdio["server"]["name"], "sightline", "{stdio}");
    // Without it: refused before MCP sees the request.
    let refused = reqwest::blocking::Client::new()
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);
    // And `sightline mcp` without it says so in one line, naming what to do.
    let out = std::process::Command::new(sightline_tests::sightline_bin())
        .args(["mcp", "--ui", &e.ui.to_string()])
        .env_remove("SIGHTLINE_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("token"), "{said}");
}
