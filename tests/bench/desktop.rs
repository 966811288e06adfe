//! The desktop app's startup time and idle memory, under Xvfb (no window manager, software
//! rendering), on an empty database.
//!
//!   cargo bench --bench desktop -- [--runs 5] [--idle-secs 10]
//!
//! For each run it launches the release build with a fresh home and prints:
//! - engine: from launch until the engine listens (the `ui=` line);
//! - window: from launch until the window is mapped;
//! - painted: from launch until the window shows the UI (the screen holds the rendered page,
//!   not a blank or single-colour surface), and that minus `window`: the time to ready after
//!   the window appears;
//! - after `--idle-secs` on the session list: RSS, PSS (shared pages split among the
//!   processes that map them) and USS (private pages) of the app and of each WebKit helper
//!   process it started.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sightline_tests::{desktop_bin, xvfb, Killed};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};

#[path = "../desktop/x11.rs"]
#[allow(dead_code)]
mod x11;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Distinct colours in a 600×300 patch of the window's top left (the nav and the toolbar).
fn colours(display: &str) -> usize {
    let Ok((conn, n)) = x11rb::connect(Some(display)) else {
        return 0;
    };
    let root = conn.setup().roots[n].root;
    let Some(image) = conn
        .get_image(ImageFormat::Z_PIXMAP, root, 0, 0, 600, 300, !0)
        .ok()
        .and_then(|c| c.reply().ok())
    else {
        return 0;
    };
    let mut px: Vec<&[u8]> = image.data.chunks(4).collect();
    px.sort_unstable();
    px.dedup();
    px.len()
}

/// (RSS, PSS, USS) in KiB of one process; USS is its private pages, what it alone costs.
fn memory(pid: u32) -> Option<(u64, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    let private = field("Private_Clean:")? + field("Private_Dirty:")?;
    Some((field("Rss:")?, field("Pss:")?, private))
}

/// The process and every process it started (WebKit's web and network processes), by name.
fn family(root: u32) -> Vec<(u32, String)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces, so split after the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head
            .split_once('(')
            .map(|(_, n)| n.to_owned())
            .unwrap_or_default();
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        all.push((pid, ppid, name));
    }
    let mut out = vec![(root, String::from("sightline-desktop"))];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].0;
        for (pid, ppid, name) in &all {
            if *ppid == parent && !out.iter().any(|(p, _)| p == pid) {
                out.push((*pid, name.clone()));
            }
        }
        i += 1;
    }
    out
}

fn main() {
    let runs = arg("--runs", 5);
    let idle = Duration::from_secs(arg("--idle-secs", 10));
    let bin = desktop_bin();
    println!("desktop app: {}", bin.display());
    println!("run  engine_ms  window_ms  painted_ms  ready_after_window_ms  rss_total_mib  pss_total_mib  uss_total_mib  (per process rss/pss/uss MiB)");
    for run in 1..=runs {
        let (_xvfb, display) = xvfb("1400x900x24");
        let home = tempfile::tempdir().expect("home");
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .env("DISPLAY", &display)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("SIGHTLINE_SETTINGS", home.path().join("settings.json"))
            .env("SIGHTLINE_DATA_DIR", home.path().join("data"))
            .env("SIGHTLINE_OTLP_GRPC", "0")
            .env("SIGHTLINE_OTLP_HTTP", "0")
            .env("SIGHTLINE_UI", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the app starts");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let app = Killed(child);
        let mut lines = out.lines();
        let engine = loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("ui=") => break started.elapsed(),
                Some(_) => continue,
                None => panic!("the app ended before its engine listened"),
            }
        };
        let screen = x11::Screen::open(&display);
        screen.wait_for("Sightline");
        let window = started.elapsed();
        let blank = colours(&display);
        let painted = loop {
            if colours(&display) > blank.max(8) + 8 {
                break started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the UI never painted"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        std::thread::sleep(idle);
        let procs = family(app.0.id());
        let mut total = (0, 0, 0);
        let mut each = Vec::new();
        for (pid, name) in &procs {
            if let Some((rss, pss, uss)) = memory(*pid) {
                total.0 += rss;
                total.1 += pss;
                total.2 += uss;
                let mib = |k: u64| k as f64 / 1024.0;
                each.push(format!(
                    "{name} {:.0}/{:.0}/{:.0}",
                    mib(rss),
                    mib(pss),
                    mib(uss)
                ));
            }
        }
        println!(
            "{run:>3}  {:>9}  {:>9}  {:>10}  {:>21}  {:>13.0}  {:>13.0}  {:>13.0}  ({})",
            engine.as_millis(),
            window.as_millis(),
            painted.as_millis(),
            (painted - window).as_millis(),
            total.0 as f64 / 1024.0,
            total.1 as f64 / 1024.0,
            total.2 as f64 / 1024.0,
            each.join(", ")
        );
        drop(app);
    }
}
