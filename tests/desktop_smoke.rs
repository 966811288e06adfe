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
use sightline_tests::{api_get, desktop_bin};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual screen on a display number nobody else uses (Xvfb picks it and says which);
/// it goes away when the guard is dropped.
fn xvfb(screen: &str) -> (Killed, String) {
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            screen,
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb runs");
    let mut line = String::new();
    BufReader::new(xvfb.stdout.take().expect("Xvfb's stdout"))
        .read_line(&mut line)
        .expect("Xvfb names its display");
    (Killed(xvfb), format!(":{}", line.trim()))
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

    let data = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut app = Command::new(&bin)
        .env("DISPLAY", &display)
        .env("SIGHTLINE_DATA_DIR", data.path())
        .env("SIGHTLINE_OTLP_GRPC", "0")
        .env("SIGHTLINE_OTLP_HTTP", "0")
        .env("SIGHTLINE_UI", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the app starts");
    let out = BufReader::new(app.stdout.take().unwrap());
    let _app = Killed(app);
    let (mut http, mut ui) = (None, None);
    for line in out.lines().map_while(Result::ok) {
        if let Some(v) = line.strip_prefix("otlp-http=") {
            http = v.parse::<SocketAddr>().ok();
        } else if let Some(v) = line.strip_prefix("ui=") {
            ui = v.parse::<SocketAddr>().ok();
            break;
        }
    }
    let (http, ui) = (http.expect("OTLP address"), ui.expect("UI address"));
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
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop");
    std::fs::create_dir_all(&dir).unwrap();
    let xwd = dir.join("window.xwd");
    let shot = Command::new("xwd")
        .args(["-root", "-silent", "-display", &display, "-out"])
        .arg(&xwd)
        .status()
        .expect("xwd runs");
    assert!(shot.success());
    let (width, height, rgb) = read_xwd(&std::fs::read(&xwd).unwrap());
    let png = std::fs::File::create(dir.join("window.png")).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(png), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&rgb)
        .unwrap();
    let mut colours: Vec<[u8; 3]> = rgb.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 50,
        "the screenshot is not blank ({} colours)",
        colours.len()
    );
}

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
