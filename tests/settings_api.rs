//! `/api/v1/settings`: the desktop app's settings, changed through the engine's API (the UI's
//! Settings page), checked before they are saved, and published to the app that applies them.

use std::sync::Arc;

use serde_json::{json, Value};
use sightline_server::settings::{Settings, SettingsStore};
use sightline_tests::Engine;

fn patch(e: &Engine, body: &str) -> (u16, Value) {
    let resp = reqwest::blocking::Client::new()
        .patch(e.api_url("/api/v1/settings"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    (resp.status().as_u16(), resp.json().unwrap())
}

#[test]
fn settings_are_checked_saved_and_published() {
    let conf = tempfile::tempdir().unwrap();
    let file = conf.path().join("settings.json");
    let (store, _) = SettingsStore::open(file.clone());
    let store = Arc::new(store);
    let mut published = store.watch();
    let e = Engine::with_config(|c| c.settings = Some(store.clone())).unwrap();

    let (status, now) = e.api("/api/v1/settings");
    assert_eq!(status, 200, "{now}");
    assert_eq!(now["settings"]["otlpHttpPort"], 4318);
    assert_eq!(
        now["settings"]["notifyErrorSessions"], false,
        "off by default"
    );
    assert_eq!(now["file"], json!(file));
    // The inbox: watched by default, in ~/Sightline/Inbox; paths must be absolute; a new one
    // restarts the receivers (which start watching it).
    assert_eq!(now["settings"]["watchInbox"], true);
    assert_eq!(now["settings"]["inboxDir"], Value::Null);
    assert!(
        now["defaultInboxDir"]
            .as_str()
            .unwrap()
            .ends_with("Sightline/Inbox"),
        "{now}"
    );
    let (status, refused) = patch(&e, r#"{"tailFile": "traces.jsonl"}"#);
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("absolute"),
        "{refused}"
    );
    // Retention: the policy's defaults, and what is out of range said.
    assert_eq!(
        (
            now["settings"]["keepDays"].as_u64(),
            now["settings"]["keepErrorDays"].as_u64()
        ),
        (Some(14), Some(60))
    );
    let (status, refused) = patch(&e, r#"{"keepDays": 0}"#);
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("1 to 3650"),
        "{refused}"
    );

    // A tray preference: saved, published, no restart.
    let (status, saved) = patch(&e, r#"{"keepRunningInTray": true}"#);
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["restart"], false);
    assert!(published.has_changed().unwrap());
    assert!(published.borrow_and_update().keep_running_in_tray);
    let on_disk: Settings = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(on_disk.keep_running_in_tray);

    // A port another program holds is refused, with a free one offered.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let (status, err) = patch(&e, &format!(r#"{{"otlpHttpPort": {port}}}"#));
    assert_eq!(status, 400, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("in use by another program") && message.contains("is free"),
        "{message}"
    );

    // The ports the running engine holds are its own, not a conflict.
    let (status, same) = patch(&e, &format!(r#"{{"uiPort": {}}}"#, e.ui.port()));
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["restart"], true, "the UI moves to another port");
    assert_eq!(published.borrow_and_update().ui_port, e.ui.port());

    for (body, says) in [
        (r#"{"uiPort": 0}"#, "1-65535"),
        (r#"{"uiPrt": 4400}"#, "unknown field"),
        (r#"{"dataDir": "relative/dir"}"#, "absolute"),
        (r#"{"dataDir": "/proc/sightline"}"#, "cannot be created"),
        ("[]", "JSON object"),
    ] {
        let (status, err) = patch(&e, body);
        assert_eq!(status, 400, "{body}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(says),
            "{body}: {err}"
        );
    }
    // Refusals change nothing.
    let kept: Settings = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(kept, store.get());
    assert!(!published.has_changed().unwrap());
}

#[test]
fn the_headless_engine_has_no_settings() {
    let e = Engine::start();
    let (status, err) = e.api("/api/v1/settings");
    assert_eq!(status, 404);
    assert!(err["message"].as_str().unwrap().contains("flags"), "{err}");
}
