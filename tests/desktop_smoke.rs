//! The desktop app under Xvfb: it starts the engine in-process and shows the UI in its window;
//! an OTLP span and a replay batch sent to it make a session that the window lists. A
//! screenshot of the screen is saved (`CARGO_TARGET_TMPDIR/desktop/window.png`) and must not be
//! blank.
//!
//! Needs Xvfb, xwd (x11-apps) and the webkit packages (`.ci/run` installs them).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::json;
use sightline_tests::{api_get, desktop_bin, eventually, xvfb, Killed};

#[path = "desktop/tray_host.rs"]
mod tray_host;
#[path = "desktop/x11.rs"]
mod x11;

/// Every receiver on a free port, through the environment (which wins over settings).
const ZERO_PORTS: [(&str, &str); 3] = [
    ("SIGHTLINE_OTLP_GRPC", "0"),
    ("SIGHTLINE_OTLP_HTTP", "0"),
    ("SIGHTLINE_UI", "0"),
];

/// One launch of the desktop app on a display, with a home of its own (window state, login
/// items) and a settings file there (`settings` plus a data directory in that home).
struct App {
    child: Child,
    out: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl App {
    fn launch(
        bin: &Path,
        display: &str,
        home: &Path,
        settings: &serde_json::Value,
        env: &[(&str, &str)],
    ) -> App {
        let mut settings = settings.clone();
        if settings.get("dataDir").is_none() {
            settings["dataDir"] = json!(home.join("data"));
        }
        let file = home.join("settings.json");
        std::fs::write(&file, settings.to_string()).unwrap();
        let mut child = Command::new(bin)
            .env("DISPLAY", display)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("SIGHTLINE_SETTINGS", &file)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the app starts");
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        App { child, out }
    }

    /// The OTLP/HTTP and UI addresses the app prints once its engine listens.
    fn addresses(&mut self) -> (SocketAddr, SocketAddr) {
        let mut http = None;
        for line in self.out.by_ref().map_while(Result::ok) {
            if let Some(v) = line.strip_prefix("otlp-http=") {
                http = v.parse::<SocketAddr>().ok();
            } else if let Some(v) = line.strip_prefix("ui=") {
                let ui = v.parse().expect("a UI address");
                return (http.expect("the OTLP/HTTP address first"), ui);
            }
        }
        panic!("the app ended before its engine listened");
    }

    /// Waits (bounded) for the app to exit on its own; its exit status.
    fn exits(&mut self) -> Option<std::process::ExitStatus> {
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves the whole screen as a PNG in `CARGO_TARGET_TMPDIR/desktop/NAME.png`; the number of
/// distinct colours in it (a blank screen has one or two).
fn screenshot(display: &str, name: &str) -> usize {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop");
    std::fs::create_dir_all(&dir).unwrap();
    let xwd = dir.join(format!("{name}.xwd"));
    let shot = Command::new("xwd")
        .args(["-root", "-silent", "-display", display, "-out"])
        .arg(&xwd)
        .status()
        .expect("xwd runs");
    assert!(shot.success());
    let (width, height, rgb) = read_xwd(&std::fs::read(&xwd).unwrap());
    let png = std::fs::File::create(dir.join(format!("{name}.png"))).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(png), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&rgb)
        .unwrap();
    let _ = std::fs::remove_file(&xwd);
    let mut colours: Vec<[u8; 3]> = rgb.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
#[ignore = "needs Xvfb, xwd and webkit; the README's test command runs it"]
fn the_desktop_window_lists_a_new_session() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1400x900x24");

    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut app = App::launch(&bin, &display, home.path(), &json!({}), &ZERO_PORTS);
    let (http, ui) = app.addresses();
    let (status, _) = api_get(ui, "/api/v1/status");
    assert_eq!(status, 200, "the engine answers");
    eprintln!("engine ready {:?} after launch", started.elapsed());

    let t = now_ms();
    let span = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![7; 16],
                    span_id: vec![7; 8],
                    name: "POST /api/checkout".into(),
                    start_time_unix_nano: t * 1_000_000,
                    end_time_unix_nano: (t + 40) * 1_000_000,
                    attributes: vec![KeyValue {
                        key: "session.id".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("desk-1".into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let client = reqwest::blocking::Client::new();
    let resp = client
        .post(format!("http://{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(span.encode_to_vec())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let replay = json!({"sessionId": "desk-1", "batch": 0, "meta": {"userEmail": "desk@example.com"},
        "events": [{"type": 4, "timestamp": t, "data": {"href": "http://shop.test/", "width": 1200, "height": 800}},
                   {"type": 2, "timestamp": t + 1, "data": {"node": {"type": 0, "id": 1, "childNodes": []}, "initialOffset": {"left": 0, "top": 0}}}]});
    let resp = client
        .post(format!("http://{http}/v1/replay"))
        .json(&replay)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, list) = api_get(ui, "/api/v1/sessions");
    assert_eq!(list["sessions"][0]["sessionId"], "desk-1", "{list}");
    assert_eq!(list["sessions"][0]["traceCount"], 1);

    // The window refreshes from the live stream; give it a moment, then look.
    std::thread::sleep(Duration::from_secs(4));
    let colours = screenshot(&display, "window");
    assert!(
        colours > 50,
        "the screenshot is not blank ({colours} colours)"
    );
}

/// A new user's first minute: the empty Sessions page in the window offers the demo, and its
/// button starts the demo shop next to the app's engine and hands the shop's address to the
/// desktop's browser opener (`xdg-open`, a stand-in here that writes down what it was given).
#[test]
#[ignore = "needs Xvfb, xwd and webkit; the README's test command runs it"]
fn try_the_demo_opens_the_shop_in_the_browser() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1400x900x24");
    let home = tempfile::tempdir().unwrap();
    let opener = home.path().join("bin");
    std::fs::create_dir_all(&opener).unwrap();
    let opened = home.path().join("opened.txt");
    let script = opener.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        opener.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = ZERO_PORTS.to_vec();
    env.push(("PATH", &path));
    let mut app = App::launch(&bin, &display, home.path(), &json!({}), &env);
    let (_, ui) = app.addresses();
    let screen = x11::Screen::open(&display);
    let window = screen.wait_for("Sightline");
    screen.move_resize(window, 0, 0, 1360, 860);
    // The page has loaded and laid out (no event says so from outside).
    std::thread::sleep(Duration::from_secs(4));
    assert!(screenshot(&display, "empty-state") > 50);
    let (_, demo) = api_get(ui, "/api/v1/demo");
    assert_eq!(demo["running"], false, "{demo}");

    screen.click(DEMO_BUTTON.0, DEMO_BUTTON.1);
    eventually("the demo to start", || {
        api_get(ui, "/api/v1/demo").1["running"] == true
    });
    let (_, demo) = api_get(ui, "/api/v1/demo");
    let url = demo["url"].as_str().unwrap().to_owned();
    // One click: the page cannot open a window after awaiting the start, so it goes to the
    // shop, and the app hands that navigation to the browser instead.
    let handed = || std::fs::read_to_string(&opened).is_ok_and(|o| o.lines().any(|l| l == url));
    eventually("the shop to be handed to the browser", handed);
    std::thread::sleep(Duration::from_secs(1));
    screenshot(&display, "demo-running");
    // The window still shows Sightline, and the button is now a link back to the shop.
    let (_, list) = api_get(ui, "/api/v1/sessions");
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(0), "{list}");
    screen.click(DEMO_BUTTON.0, DEMO_BUTTON.1);
    eventually("the shop to be handed over again", || {
        std::fs::read_to_string(&opened).is_ok_and(|o| o.lines().filter(|l| *l == url).count() == 2)
    });
    let page = reqwest::blocking::get(&url).and_then(|r| r.text()).unwrap();
    assert!(page.contains("Fernhill Supply"));
    std::thread::sleep(Duration::from_secs(1));
    screenshot(&display, "demo-started");
}

/// Where "Try the demo" is on the screen with the window at (0, 0), 1360×860: the empty page's
/// layout is fixed (the setup column is centred and 760 px wide).
const DEMO_BUTTON: (i16, i16) = (1080, 260);

/// The pixels of a 24-bit ZPixmap XWD dump (what `xwd` writes for Xvfb's root window, at 3 or 4
/// bytes a pixel), as RGB rows.
fn read_xwd(data: &[u8]) -> (u32, u32, Vec<u8>) {
    let word = |i: usize| u32::from_be_bytes(data[i * 4..i * 4 + 4].try_into().unwrap());
    let (header, width, height) = (word(0) as usize, word(4), word(5));
    let (byte_order, bits_per_pixel, bytes_per_line) = (word(7), word(11), word(12) as usize);
    let ncolors = word(19) as usize;
    let size = bits_per_pixel as usize / 8;
    assert!(
        size == 3 || size == 4,
        "a 24-bit screen: {bits_per_pixel} bits a pixel"
    );
    let masks = (word(14), word(15), word(16));
    let pixels = &data[header + ncolors * 12..];
    let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height as usize {
        for x in 0..width as usize {
            let p = &pixels[y * bytes_per_line + x * size..][..size];
            let v = if byte_order == 0 {
                p.iter().rev().fold(0u32, |v, b| (v << 8) | u32::from(*b))
            } else {
                p.iter().fold(0u32, |v, b| (v << 8) | u32::from(*b))
            };
            for mask in [masks.0, masks.1, masks.2] {
                rgb.push(((v & mask) >> mask.trailing_zeros()) as u8);
            }
        }
    }
    (width, height, rgb)
}

/// The same executable runs headless: `sightline-desktop serve …` is the engine's binary.
#[test]
#[ignore = "needs webkit to build the desktop app; the README's test command runs it"]
fn the_desktop_executable_serves_headless() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(desktop_bin())
        .args(["serve", "--otlp-grpc", "0", "--otlp-http", "0", "--ui", "0"])
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let out = BufReader::new(child.stdout.take().unwrap());
    let _child = Killed(child);
    let ui = out
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("ui=")
                .and_then(|v| v.parse::<SocketAddr>().ok())
        })
        .expect("prints its UI address");
    let (status, body) = api_get(ui, "/api/v1/status");
    assert_eq!(status, 200);
    assert_eq!(
        body["dataDir"],
        data.path().to_str().unwrap(),
        "the flags are the engine's"
    );
}

/// A second launch hands over to the first (which shows its window) and exits, instead of
/// starting a second engine on the same data.
#[test]
#[ignore = "needs Xvfb, dbus-run-session and webkit; the README's test command runs it"]
fn a_second_launch_hands_over_to_the_first() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1280x800x24");
    let data = tempfile::tempdir().unwrap();
    let first_out = data.path().join("first.out");
    // Both launches share one session bus, as two clicks in one desktop session would.
    let script = format!(
        r#"{bin} > {first} 2>/dev/null &
first=$!
for i in $(seq 1 300); do grep -q '^ui=' {first} && break; sleep 0.1; done
timeout 30 {bin} > /dev/null 2>&1; echo "second=$?"
kill -0 $first 2>/dev/null && echo "first=running"
kill $first"#,
        bin = bin.display(),
        first = first_out.display(),
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "bash", "-c", &script])
        .env("DISPLAY", &display)
        .env("HOME", data.path())
        .env("XDG_CONFIG_HOME", data.path().join(".config"))
        .env("SIGHTLINE_SETTINGS", data.path().join("settings.json"))
        .env("SIGHTLINE_DATA_DIR", data.path())
        .env("SIGHTLINE_OTLP_GRPC", "0")
        .env("SIGHTLINE_OTLP_HTTP", "0")
        .env("SIGHTLINE_UI", "0")
        .stderr(Stdio::null())
        .output()
        .expect("dbus-run-session runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("second=0"),
        "the second launch exits cleanly: {said}"
    );
    assert!(
        said.contains("first=running"),
        "the first keeps running: {said}"
    );
    let first = std::fs::read_to_string(&first_out).unwrap();
    assert!(
        first.contains("ui="),
        "the first started its engine: {first}"
    );
}

/// A bundle of one recorded session, made by an engine of its own.
fn bundle(dir: &Path, name: &str, session: &str) -> std::path::PathBuf {
    let e = sightline_tests::Engine::start();
    let t = now_ms();
    e.post_replay(&json!({"sessionId": session, "batch": 0, "meta": {"userEmail": "qa@example.com"},
        "events": [{"type": 4, "timestamp": t, "data": {"href": "http://shop.test/checkout", "width": 1200, "height": 800}},
                   {"type": 2, "timestamp": t + 1, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset": {"left": 0, "top": 0}}}]}));
    let bytes = reqwest::blocking::get(e.api_url(&format!("/api/v1/export?session={session}")))
        .unwrap()
        .bytes()
        .unwrap();
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    file
}

/// A double-clicked `.sightline` file opens in the app (the file association passes it as an
/// argument), and one double-clicked while the app runs is handed to the running app.
#[test]
#[ignore = "needs Xvfb, dbus-daemon and webkit; the README's test command runs it"]
fn double_clicked_bundles_open_in_the_app() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1280x800x24");
    let data = tempfile::tempdir().unwrap();
    let first = bundle(data.path(), "first.sightline", "opened-at-launch");
    let second = bundle(data.path(), "second.sightline", "handed-over");
    let (first_out, script_out, done) = (
        data.path().join("first.out"),
        data.path().join("script.out"),
        data.path().join("done"),
    );
    // Both launches share one session bus, as two double-clicks in one desktop session would.
    let script = format!(
        r#"{bin} {first_bundle} > {first} 2>/dev/null &
pid=$!
for i in $(seq 1 300); do grep -q '^ui=' {first} && break; sleep 0.1; done
timeout 30 {bin} {second_bundle} > /dev/null 2>&1; echo "second=$?"
for i in $(seq 1 600); do [ -e {done} ] && break; sleep 0.1; done
kill $pid"#,
        bin = bin.display(),
        first = first_out.display(),
        first_bundle = first.display(),
        second_bundle = second.display(),
        done = done.display(),
    );
    let mut run = Killed(
        Command::new("dbus-run-session")
            .args(["--", "bash", "-c", &script])
            .env("DISPLAY", &display)
            .env("HOME", data.path())
            .env("XDG_CONFIG_HOME", data.path().join(".config"))
            .env("SIGHTLINE_SETTINGS", data.path().join("settings.json"))
            .env("SIGHTLINE_DATA_DIR", data.path().join("app"))
            .envs(ZERO_PORTS)
            .stdout(std::fs::File::create(&script_out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut ui = None;
    eventually("the app's engine listens", || {
        ui = std::fs::read_to_string(&first_out)
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("ui=")
                    .and_then(|v| v.parse::<SocketAddr>().ok())
            });
        ui.is_some()
    });
    let ui = ui.unwrap();
    let imported_from = |session: &str| {
        let (status, detail) = api_get(ui, &format!("/api/v1/sessions/{session}"));
        (status == 200).then(|| detail["importedFrom"]["fileName"].clone())
    };
    eventually("the bundle given at launch is imported", || {
        imported_from("opened-at-launch") == Some(json!("first.sightline"))
    });
    eventually("the second launch hands its bundle over", || {
        std::fs::read_to_string(&script_out)
            .unwrap_or_default()
            .contains("second=0")
            && imported_from("handed-over") == Some(json!("second.sightline"))
    });
    // The inbox is watched by default, in ~/Sightline/Inbox.
    let inbox = data.path().join("Sightline/Inbox");
    eventually("the inbox is created", || inbox.join("Imported").is_dir());
    std::fs::copy(
        bundle(data.path(), "dropped.sightline", "dropped-in-inbox"),
        inbox.join("dropped.sightline"),
    )
    .unwrap();
    eventually("a file dropped in the inbox is imported", || {
        imported_from("dropped-in-inbox") == Some(json!("dropped.sightline"))
            && inbox.join("Imported/dropped.sightline").is_file()
    });
    std::fs::write(&done, "").unwrap();
    let _ = run.0.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn patch_settings(ui: SocketAddr, body: serde_json::Value) -> serde_json::Value {
    let resp = reqwest::blocking::Client::new()
        .patch(format!("http://{ui}/api/v1/settings"))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().unwrap()
}

/// A port another program holds is a dialog offering a free one; accepting it (Return, the
/// default button) starts the engine there and saves the choice.
#[test]
#[ignore = "needs Xvfb and webkit; the README's test command runs it"]
fn a_port_in_use_is_a_dialog_that_offers_a_free_one() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1280x800x24");
    let home = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let settings =
        json!({"otlpHttpPort": busy_port, "otlpGrpcPort": free_port(), "uiPort": free_port()});
    let mut app = App::launch(&bin, &display, home.path(), &settings, &[]);

    let screen = x11::Screen::open(&display);
    let dialog = screen.wait_for("A port is in use");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        screenshot(&display, "port-in-use-dialog") > 20,
        "the dialog is drawn"
    );
    screen.press_return(dialog);

    let (http, ui) = app.addresses();
    assert_ne!(http.port(), busy_port);
    assert!(http.port() > busy_port, "a port near the busy one");
    assert_eq!(api_get(ui, "/api/v1/status").0, 200);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("settings.json")).unwrap()).unwrap();
    assert_eq!(saved["otlpHttpPort"], http.port(), "the choice is saved");
}

/// Closing the window quits the app, unless the user chose to keep it in the tray: then the
/// window hides and the receivers keep listening. The window comes back where it was left.
#[test]
#[ignore = "needs Xvfb and webkit; the README's test command runs it"]
fn closing_the_window_quits_or_keeps_running_in_the_tray() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1600x1000x24");
    let screen = x11::Screen::open(&display);
    let home = tempfile::tempdir().unwrap();

    // Kept in the tray.
    let mut app = App::launch(
        &bin,
        &display,
        home.path(),
        &json!({"keepRunningInTray": true}),
        &ZERO_PORTS,
    );
    let (_, ui) = app.addresses();
    let window = screen.wait_for("Sightline");
    screen.close(window);
    eventually("the window hides", || !screen.viewable(window));
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        app.child.try_wait().unwrap().is_none(),
        "the app keeps running"
    );
    assert_eq!(
        api_get(ui, "/api/v1/status").0,
        200,
        "the receivers keep listening"
    );
    drop(app);

    // Not kept: closing quits, cleanly, and the engine's port is released. Before that, the
    // window is moved and resized, as a user would.
    let mut app = App::launch(&bin, &display, home.path(), &json!({}), &ZERO_PORTS);
    let (_, ui) = app.addresses();
    let window = screen.wait_for("Sightline");
    screen.move_resize(window, 120, 90, 1100, 700);
    eventually("the window takes its new size", || {
        let (_, _, w, h) = screen.geometry(window);
        (w, h) == (1100, 700)
    });
    std::thread::sleep(Duration::from_millis(500));
    screen.close(window);
    let status = app.exits().expect("the app quits when its window closes");
    assert!(status.success(), "{status}");
    assert!(
        std::net::TcpStream::connect(ui).is_err(),
        "the engine stopped with the app"
    );

    // The next launch puts the window back as it was left.
    let mut app = App::launch(&bin, &display, home.path(), &json!({}), &ZERO_PORTS);
    app.addresses();
    let window = screen.wait_for("Sightline");
    // The saved state is applied once the window is up.
    eventually("the size is remembered", || {
        let (_, _, w, h) = screen.geometry(window);
        (w, h) == (1100, 700)
    });
    let (x, y, _, _) = screen.geometry(window);
    assert!(
        (x - 120).abs() <= 40 && (y - 90).abs() <= 40,
        "the position is remembered: {x},{y}"
    );
}

/// Settings saved through the API apply at once: new ports restart the receivers there (the
/// old ports are released), and "launch at login" writes and removes the login item.
#[test]
#[ignore = "needs Xvfb and webkit; the README's test command runs it"]
fn saved_settings_apply_without_a_restart_of_the_app() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1280x800x24");
    let home = tempfile::tempdir().unwrap();
    let settings =
        json!({"otlpHttpPort": free_port(), "otlpGrpcPort": free_port(), "uiPort": free_port()});
    let mut app = App::launch(&bin, &display, home.path(), &settings, &[]);
    let (http, ui) = app.addresses();
    x11::Screen::open(&display).wait_for("Sightline");

    let login_item = home.path().join(".config/autostart/Sightline.desktop");
    assert!(!login_item.exists());
    patch_settings(ui, json!({"launchAtLogin": true}));
    eventually("the login item is written", || login_item.exists());
    let entry = std::fs::read_to_string(&login_item).unwrap();
    assert!(entry.contains("--autostart"), "{entry}");
    patch_settings(ui, json!({"launchAtLogin": false}));
    eventually("the login item is removed", || !login_item.exists());

    let (new_http, new_ui) = (free_port(), free_port());
    let answer = patch_settings(ui, json!({"otlpHttpPort": new_http, "uiPort": new_ui}));
    assert_eq!(answer["restart"], true);
    let moved: SocketAddr = format!("127.0.0.1:{new_ui}").parse().unwrap();
    eventually("the UI answers on its new port", || {
        reqwest::blocking::get(format!("http://{moved}/api/v1/status"))
            .is_ok_and(|r| r.status() == 200)
    });
    let (_, status) = api_get(moved, "/api/v1/status");
    assert_eq!(status["otlpHttp"], format!("127.0.0.1:{new_http}"));
    assert!(
        std::net::TcpStream::connect(ui).is_err(),
        "the old UI port is released"
    );
    assert!(
        std::net::TcpStream::connect(http).is_err(),
        "the old OTLP port is released"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        screenshot(&display, "after-new-ports") > 50,
        "the window shows the UI again"
    );
}

/// The tray, as a desktop panel shows it: the status line and today's counts follow the
/// engine; Copy OTLP endpoint fills the clipboard; Pause ingest refuses data (and follows a
/// pause switched in the UI); Quit ends the app and its engine. Notifications of new sessions
/// with errors reach the desktop's notification daemon once turned on.
#[test]
#[ignore = "needs Xvfb, dbus-daemon and webkit; the README's test command runs it"]
fn the_tray_shows_status_and_counts_and_its_items_work() {
    let bin = desktop_bin();
    let (_xvfb, display) = xvfb("1280x800x24");
    let host = tray_host::TrayHost::start();
    let home = tempfile::tempdir().unwrap();
    let mut env = ZERO_PORTS.to_vec();
    env.push(("DBUS_SESSION_BUS_ADDRESS", host.address.as_str()));
    let mut app = App::launch(&bin, &display, home.path(), &json!({}), &env);
    let (http, ui) = app.addresses();
    let grpc = api_get(ui, "/api/v1/status").1["otlpGrpc"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let label = |n: usize| host.entries()[n].label.clone();

    let listening = format!("Listening on :{} (HTTP) and :{grpc} (gRPC)", http.port());
    eventually("the status line", || label(0) == listening);
    let entries = host.entries();
    let labels: Vec<&str> = entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            listening.as_str(),
            "Today: 0 sessions · 0 traces",
            "Open Sightline",
            "Copy OTLP endpoint",
            "Pause ingest",
            "No incident window",
            "Start incident (15 min, everyone)",
            "Extend incident by 15 min",
            "Stop incident",
            "Quit Sightline"
        ]
    );
    assert!(
        !entries[0].enabled && !entries[1].enabled,
        "status lines are not items to click"
    );
    assert_eq!(entries[4].checked, Some(false));
    let enabled = |label: &str| {
        host.entries()
            .iter()
            .find(|e| e.label == label)
            .map(|e| e.enabled)
    };
    assert_eq!(enabled("Stop incident"), Some(false), "nothing to stop yet");

    // An incident window from the tray: started for everyone, shown with its countdown,
    // extended, stopped; the engine records each, as started from the tray.
    host.click("Start incident (15 min, everyone)");
    eventually("the window shows in the tray", || {
        label(5) == "Incident mode: everyone · 15 min left"
    });
    let (_, list) = api_get(ui, "/api/v1/incidents");
    let window = list["incidents"][0].clone();
    assert_eq!(
        (window["active"].as_bool(), window["startedBy"].as_str()),
        (Some(true), Some("tray")),
        "{list}"
    );
    assert_eq!(enabled("Start incident (15 min, everyone)"), Some(false));
    host.click("Extend incident by 15 min");
    eventually("extended", || {
        label(5) == "Incident mode: everyone · 30 min left"
    });
    host.click("Stop incident");
    eventually("stopped", || label(5) == "No incident window");
    let (_, stopped) = api_get(
        ui,
        &format!("/api/v1/incidents/{}", window["id"].as_str().unwrap()),
    );
    assert_eq!(
        (stopped["active"].as_bool(), stopped["endedEarly"].as_bool()),
        (Some(false), Some(true)),
        "{stopped}"
    );

    // A failing trace arrives: today's counts say so.
    let t = now_ms();
    let span = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![3; 16],
                    span_id: vec![3; 8],
                    name: "POST /api/pay".into(),
                    start_time_unix_nano: t * 1_000_000,
                    end_time_unix_nano: (t + 5) * 1_000_000,
                    status: Some(opentelemetry_proto::tonic::trace::v1::Status {
                        code: 2,
                        message: "declined".into(),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let post = || {
        reqwest::blocking::Client::new()
            .post(format!("http://{http}/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .body(span.encode_to_vec())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(post(), 200);
    eventually("today's counts", || {
        label(1) == "Today: 0 sessions · 1 trace · 1 failing"
    });

    host.click("Copy OTLP endpoint");
    let screen = x11::Screen::open(&display);
    let expected = format!("http://{http}");
    eventually("the endpoint on the clipboard", || {
        screen.clipboard().as_deref() == Some(expected.as_str())
    });

    host.click("Pause ingest");
    eventually("ingest paused", || {
        api_get(ui, "/api/v1/ingest").1["paused"] == true
    });
    assert_eq!(post(), 503, "a paused engine refuses data");
    eventually("the status line says paused", || {
        label(0) == "Paused: 1 request refused"
    });
    // Resumed from the UI: the tray follows.
    let resp = reqwest::blocking::Client::new()
        .put(format!("http://{ui}/api/v1/ingest"))
        .json(&json!({"paused": false}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    eventually("the tray shows the resume", || {
        let e = host.entries();
        e[0].label == listening && e[4].checked == Some(false)
    });

    // Notifications of sessions with errors: none while off (the default), one per session
    // once turned on.
    let erring = |id: &str| {
        let batch = json!({"sessionId": id, "batch": 0, "meta": {"userEmail": "ada@example.com"},
            "events": [{"type": 4, "timestamp": t, "data": {"href": "http://shop.test/checkout", "width": 1200, "height": 800}},
                       {"type": 5, "timestamp": t + 5, "data": {"tag": "error", "payload": {"message": "TypeError: total is undefined"}}}]});
        let resp = reqwest::blocking::Client::new()
            .post(format!("http://{http}/v1/replay"))
            .json(&batch)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
    };
    erring("quiet-1");
    std::thread::sleep(Duration::from_secs(2));
    assert!(host.notifications().is_empty(), "off by default");
    patch_settings(ui, json!({"notifyErrorSessions": true}));
    erring("loud-1");
    eventually("a notification", || !host.notifications().is_empty());
    assert_eq!(
        host.notifications(),
        [(
            "A session with errors".to_owned(),
            "ada@example.com on http://shop.test/checkout: 1 error".to_owned()
        )]
    );

    host.click("Quit Sightline");
    let status = app.exits().expect("Quit ends the app");
    assert!(status.success(), "{status}");
    assert!(std::net::TcpStream::connect(ui).is_err(), "and its engine");
}
