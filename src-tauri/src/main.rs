//! The desktop app's entry: with a command (`serve`, `dev seed`, …) it is exactly the
//! `sightline` binary; with no display it runs headless and prints the UI address; otherwise it
//! is the desktop app ([`desktop`]): the engine in this process, its UI in a window, a tray.
//! The UI is the same build a browser gets; data flows through the engine's HTTP API, never
//! through IPC.

mod desktop;
mod notify;
mod open;
mod startup;
mod tray;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use sightline_server::settings::{self, Loaded, SettingsStore};

/// WebKitGTK's accelerated compositing keeps GPU-style layer buffers for every page; for a
/// tool's mostly static screens it costs about 100 MB of the web process's memory (measured
/// under Xvfb: 283 → 183 MB RSS) and buys nothing visible. A value already set wins.
const WEBKIT_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

fn main() -> ExitCode {
    // Before any thread exists: the environment is process-wide.
    if std::env::var_os(WEBKIT_COMPOSITING).is_none() {
        std::env::set_var(WEBKIT_COMPOSITING, "1");
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let autostart = args.len() == 2 && args[1] == desktop::AUTOSTART_ARG;
    // `sightline-desktop bug.sightline …` (a double-click, through the file association) opens
    // the app with those bundles.
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let open = open::bundle_args(&words, &cwd);
    let link = open::link_route(&words);
    let opening = !words.is_empty() && open.len() + usize::from(link.is_some()) == words.len();
    // The same executable runs headless: `sightline-desktop serve …` (and every other command
    // of the `sightline` binary) behaves exactly as the engine's binary.
    if args.len() > 1 && !autostart && !opening {
        return sightline_server::cli::run(args);
    }
    if !has_display() {
        eprintln!(
            "sightline: no display; running headless. Open the printed ui= address in a browser."
        );
        let serve = vec![args[0].clone(), "serve".into()];
        return sightline_server::cli::run(serve);
    }
    sightline_server::cli::init_logging();
    let runtime = match sightline_server::cli::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let overrides = match overrides() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("sightline: {message}");
            return ExitCode::FAILURE;
        }
    };
    let path = std::env::var_os("SIGHTLINE_SETTINGS")
        .map(Into::into)
        .unwrap_or_else(settings::default_settings_path);
    let (store, loaded) = SettingsStore::open(path);
    if let Loaded::Replaced(why) = loaded {
        tracing::warn!("{why}");
    }
    let launch = desktop::Launch {
        settings: Arc::new(store),
        overrides,
        hidden: autostart,
        open,
        link,
    };
    match desktop::run(&runtime, launch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sightline: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Addresses and data directory from the environment, as `serve`'s flags would give them (a
/// bare port means 127.0.0.1:PORT; 0 picks a free one). They win over the settings file.
fn overrides() -> Result<startup::Overrides, String> {
    let mut o = startup::Overrides {
        data_dir: std::env::var_os("SIGHTLINE_DATA_DIR").map(Into::into),
        ..Default::default()
    };
    for (var, slot) in [
        ("SIGHTLINE_OTLP_GRPC", &mut o.otlp_grpc),
        ("SIGHTLINE_OTLP_HTTP", &mut o.otlp_http),
        ("SIGHTLINE_UI", &mut o.ui),
    ] {
        if let Ok(text) = std::env::var(var) {
            *slot = Some(parse_addr(&text).ok_or_else(|| {
                format!("{var}={text:?} is not an address (HOST:PORT or a port)")
            })?);
        }
    }
    Ok(o)
}

fn parse_addr(text: &str) -> Option<SocketAddr> {
    match text.parse::<u16>() {
        Ok(port) => Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
        Err(_) => text.parse().ok(),
    }
}

/// Whether a window can be shown. macOS and Windows always have a display; on Linux it takes
/// an X11 or Wayland session.
fn has_display() -> bool {
    !cfg!(target_os = "linux")
        || std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
}
