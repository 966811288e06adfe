//! The desktop app: starts the engine in this process (OTLP receivers, store, UI/API) and shows
//! its UI in a window. The UI is the same build a browser gets from the engine; data flows
//! through the engine's HTTP API, never through IPC. Given a command (`serve`, `dev seed`), or
//! no display, it is the headless engine instead.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use sightline_server::ServerConfig;
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The same executable runs headless: `sightline-desktop serve …` (and every other command
    // of the `sightline` binary) behaves exactly as the engine's binary.
    if args.len() > 1 {
        return sightline_server::cli::run(args);
    }
    if !has_display() {
        eprintln!(
            "sightline: no display; running headless. Open the printed ui= address in a browser."
        );
        let mut serve = args;
        serve.push("serve".into());
        return sightline_server::cli::run(serve);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("sightline: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = ServerConfig::default();
    if let Some(dir) = std::env::var_os("SIGHTLINE_DATA_DIR") {
        config.data_dir = dir.into();
    }
    // Until the settings screen exists, addresses come from the environment, as `serve`'s
    // flags would give them (a bare port means 127.0.0.1:PORT; 0 picks a free one).
    for (var, slot) in [
        ("SIGHTLINE_OTLP_GRPC", &mut config.otlp_grpc),
        ("SIGHTLINE_OTLP_HTTP", &mut config.otlp_http),
        ("SIGHTLINE_UI", &mut config.ui),
    ] {
        if let Ok(text) = std::env::var(var) {
            match parse_addr(&text) {
                Some(addr) => *slot = addr,
                None => {
                    eprintln!("sightline: {var}={text:?} is not an address (HOST:PORT or a port)");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    // The engine starts inside `setup`, after the single-instance check: a second launch must
    // hand over to the first before it tries the same ports and database.
    let engine: std::sync::Arc<std::sync::Mutex<Option<sightline_server::Handle>>> =
        Default::default();
    let slot = engine.clone();
    let rt = runtime.handle().clone();
    let result = tauri::Builder::default()
        // A second launch (a click on the launcher, a file opened later) shows this window
        // instead of starting a second engine.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        // The window comes back where and as large as it was left.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(move |app| {
            let started = rt.block_on(sightline_server::start(config))?;
            println!("otlp-grpc={}", started.otlp_grpc);
            println!("otlp-http={}", started.otlp_http);
            println!("ui={}", started.ui);
            let url = format!("http://{}/", started.ui);
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(started);
            }
            WebviewWindowBuilder::new(app, "main", WebviewUrl::External(url.parse()?))
                .title("Sightline")
                .inner_size(1360.0, 860.0)
                .min_inner_size(900.0, 560.0)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    let started = engine.lock().ok().and_then(|mut slot| slot.take());
    if let Some(engine) = started {
        runtime.block_on(engine.shutdown());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sightline: {err}");
            ExitCode::FAILURE
        }
    }
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
