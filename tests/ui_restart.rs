//! The UI when its engine stops and comes back, in Debian's Chromium: what was loaded stays, a
//! banner says the engine is not answering, and it clears by itself once the engine is back on
//! the same port.
//!
//! A test binary of its own: while the engine is down its port is free, and an engine started
//! by a sibling test in the same process could be given that port, answering in its place.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn the_ui_shows_an_engine_that_stops_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    // A free port for the UI, kept across the restart.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let out = Command::new("node")
        .current_dir(&clients)
        .arg("ui-engine-restart.mjs")
        .arg(sightline_tests::sightline_bin())
        .arg(dir.path())
        .arg(port.to_string())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(seen["down"], "engine not answering");
    assert!(
        seen["back"].as_str().unwrap().starts_with("receiving on :"),
        "{seen}"
    );
}
