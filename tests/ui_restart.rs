//! The UI when its engine stops and comes back, in Debian's Chromium: what was loaded stays, a
//! banner says the engine is not answering, and it clears by itself once the engine is back on
//! the same port.
//!
//! A test binary of its own: while the engine is down its port is free, and an engine started
//! by a sibling test in the same process could be given that port, answering in its place.

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
    let seen = sightline_tests::node_client([
        std::ffi::OsString::from("ui-engine-restart.mjs"),
        sightline_tests::sightline_bin().into(),
        dir.path().into(),
        port.to_string().into(),
    ]);
    assert_eq!(seen["down"], "engine not answering");
    assert!(
        seen["back"].as_str().unwrap().starts_with("receiving on :"),
        "{seen}"
    );
}
