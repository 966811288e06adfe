//! The desktop app's lifetime: one instance, the engine started in-process (with startup
//! dialogs), the window on its UI, the tray, settings applied as they are saved (new ports or
//! data restart the engine and the window follows; launch at login; notifications), closing to
//! the tray when chosen, and the engine's orderly shutdown at exit.

use std::sync::{Arc, Mutex};

use sightline_server::settings::{Settings, SettingsStore};
use sightline_server::{Handle, Monitor};
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tauri_plugin_autostart::{MacosLauncher, ManagerExt};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tokio::sync::watch;

use crate::startup::{self, Overrides};
use crate::tray::Tray;
use sightline_server::incidents::StartRequest;
use sightline_store::incident::Origin;

/// The argument a login launch carries: start in the tray, window hidden.
pub const AUTOSTART_ARG: &str = "--autostart";

pub const WINDOW: &str = "main";

/// What the app's handlers share.
pub struct Desktop {
    pub(crate) rt: tokio::runtime::Handle,
    settings: Arc<SettingsStore>,
    overrides: Mutex<Overrides>,
    engine: Mutex<Option<Handle>>,
    pub(crate) monitor: watch::Sender<Option<Monitor>>,
    tray: Mutex<Option<Arc<Tray>>>,
}

pub struct Launch {
    pub settings: Arc<SettingsStore>,
    pub overrides: Overrides,
    /// Launched at login: the window starts hidden.
    pub hidden: bool,
    /// Bundles to open once the engine runs (a double-clicked `.sightline`).
    pub open: Vec<std::path::PathBuf>,
    /// A `sightline://` link to show once the engine runs (as a UI route).
    pub link: Option<String>,
}

pub fn run(rt: &tokio::runtime::Runtime, launch: Launch) -> anyhow::Result<()> {
    let desktop = Arc::new(Desktop {
        rt: rt.handle().clone(),
        settings: launch.settings,
        overrides: Mutex::new(launch.overrides),
        engine: Mutex::new(None),
        monitor: watch::Sender::new(None),
        tray: Mutex::new(None),
    });
    let hidden = launch.hidden;
    let open = launch.open;
    let link = launch.link;
    let shared = desktop.clone();
    let app = tauri::Builder::default()
        // A second launch (a click on the launcher while running in the tray) shows this window
        // instead of starting a second engine.
        .plugin(tauri_plugin_single_instance::init(|app, args, cwd| {
            show_window(app);
            // A double-clicked bundle or a link while the app runs: this instance opens it.
            let given = args.get(1..).unwrap_or_default();
            let files = crate::open::bundle_args(given, std::path::Path::new(&cwd));
            crate::open::open_bundles(app, files);
            crate::open::open_link(app, crate::open::link_route(given));
        }))
        // The window comes back where and as large as it was left.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            Some(vec![AUTOSTART_ARG]),
        ))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            app.manage(shared.clone());
            // After the single-instance check (a second launch hands over to the first before
            // it tries the same ports and database), and on a thread of its own: startup
            // problems are dialogs that wait for the user, while the event loop runs.
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("startup".into())
                .spawn(move || start(handle, shared, hidden, open, link))?;
            Ok(())
        })
        .menu(app_menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            OPEN_MENU => crate::open::pick_and_open(app),
            QUIT_MENU => app.exit(0),
            _ => {}
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let keep = window
                    .app_handle()
                    .try_state::<Arc<Desktop>>()
                    .is_some_and(|d| d.settings.get().keep_running_in_tray);
                if keep {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!())?;
    app.run(move |_app, event| {
        if let RunEvent::Exit = event {
            let engine = lock(&desktop.engine).take();
            desktop.monitor.send_replace(None);
            if let Some(engine) = engine {
                desktop.rt.block_on(engine.shutdown());
            }
        }
    });
    Ok(())
}

/// Starts the engine (asking the user about any problem), then opens the window and the tray
/// on the main thread; quits if the user chose to.
fn start(
    app: AppHandle,
    desktop: Arc<Desktop>,
    hidden: bool,
    files: Vec<std::path::PathBuf>,
    link: Option<String>,
) {
    let started = {
        let mut overrides = lock(&desktop.overrides);
        startup::start(
            &desktop.rt,
            &desktop.settings,
            &mut overrides,
            &mut startup::Dialogs(app.clone()),
        )
    };
    let Some(engine) = started else {
        app.exit(1);
        return;
    };
    // For scripts and tests; a closed stdout (println! would panic) is not the app's problem.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "otlp-grpc={}", engine.otlp_grpc)
            .and_then(|()| writeln!(out, "otlp-http={}", engine.otlp_http))
            .and_then(|()| writeln!(out, "ui={}", engine.ui))
            .and_then(|()| out.flush());
    }
    let url = format!("http://{}/", engine.ui);
    desktop.monitor.send_replace(Some(engine.monitor()));
    *lock(&desktop.engine) = Some(engine);
    let main = app.clone();
    let opened = app.run_on_main_thread(move || {
        if let Err(err) = open(&main, &desktop, &url, hidden) {
            tracing::error!(%err, "the window could not be opened");
            main.exit(1);
        }
    });
    if let Err(err) = opened {
        tracing::error!(%err, "the event loop is gone");
    }
    crate::open::open_bundles(&app, files);
    if link.is_some() {
        // After the window exists (opened on the main thread just above).
        let main = app.clone();
        let _ = app.run_on_main_thread(move || crate::open::open_link(&main, link));
    }
}

const OPEN_MENU: &str = "file-open";
const QUIT_MENU: &str = "file-quit";

/// The window's menu: File › Open… (bundles) and Quit.
fn app_menu(app: &AppHandle) -> tauri::Result<tauri::menu::Menu<tauri::Wry>> {
    use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
    let open = MenuItem::with_id(app, OPEN_MENU, "Open…", true, Some("CmdOrCtrl+O"))?;
    let quit = MenuItem::with_id(app, QUIT_MENU, "Quit", true, Some("CmdOrCtrl+Q"))?;
    let file = Submenu::with_items(
        app,
        "File",
        true,
        &[&open, &PredefinedMenuItem::separator(app)?, &quit],
    )?;
    Menu::with_items(app, &[&file])
}

/// The window on the engine's UI, the tray, notifications and settings that follow it.
fn open(app: &AppHandle, desktop: &Arc<Desktop>, url: &str, hidden: bool) -> anyhow::Result<()> {
    WebviewWindowBuilder::new(app, WINDOW, WebviewUrl::External(url.parse()?))
        .title("Sightline")
        .inner_size(1360.0, 860.0)
        .min_inner_size(900.0, 560.0)
        .visible(!hidden)
        // Other pages (the demo shop, a link out) belong in the user's browser: they are web
        // pages to use, and a browser is what the recorder is made for. The window itself only
        // ever shows the engine's UI, wherever the engine listens now.
        .on_navigation({
            let desktop = desktop.clone();
            move |url| {
                let ui = desktop.monitor.borrow().as_ref().map(|m| m.ui);
                let ours = ui.is_some_and(|ui| {
                    url.host_str() == Some(ui.ip().to_string().as_str())
                        && url.port_or_known_default() == Some(ui.port())
                });
                ours || !matches!(url.scheme(), "http" | "https") || !open_in_browser(url.as_str())
            }
        })
        .on_new_window(|url, _| {
            if matches!(url.scheme(), "http" | "https") && open_in_browser(url.as_str()) {
                tauri::webview::NewWindowResponse::Deny
            } else {
                tauri::webview::NewWindowResponse::Allow
            }
        })
        .build()?;
    match Tray::build(app) {
        Ok(tray) => {
            let tray = Arc::new(tray);
            *lock(&desktop.tray) = Some(tray.clone());
            let engine = desktop.monitor.subscribe();
            desktop.rt.spawn(async move { tray.follow(engine).await });
        }
        // No tray host (a bare X server, some Wayland desktops): the app still works, it just
        // cannot hide to a tray.
        Err(err) => tracing::warn!(%err, "no tray icon"),
    }
    desktop.rt.spawn(crate::notify::follow(
        app.clone(),
        desktop.settings.clone(),
        desktop.monitor.subscribe(),
    ));
    apply_login_item(app, &desktop.settings.get());
    desktop
        .rt
        .spawn(follow_settings(app.clone(), desktop.clone()));
    Ok(())
}

/// Hands `url` to the desktop's default browser; false when there is no opener to ask.
fn open_in_browser(url: &str) -> bool {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    match command.arg(url).spawn() {
        Ok(mut child) => {
            // Reaped off the UI thread: openers return at once, but a zombie is untidy.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(err) => {
            tracing::warn!(%err, url, "no browser opener; opening in a window of the app");
            false
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The tray's menu.
pub fn on_menu(app: &AppHandle, id: &str) {
    let Some(desktop) = app.try_state::<Arc<Desktop>>() else {
        return;
    };
    let monitor = desktop.monitor.borrow().clone();
    match id {
        crate::tray::OPEN => show_window(app),
        crate::tray::COPY_ENDPOINT => {
            if let Some(m) = monitor {
                if let Err(err) = app
                    .clipboard()
                    .write_text(format!("http://{}", m.otlp_http))
                {
                    tracing::warn!(%err, "the clipboard refused the endpoint");
                }
            }
        }
        crate::tray::PAUSE => {
            let tray = lock(&desktop.tray).clone();
            if let (Some(m), Some(tray)) = (monitor, tray) {
                let paused = tray.pause_checked();
                if m.control().set_paused(paused) {
                    tracing::info!(paused, "ingest switched from the tray");
                }
            }
        }
        crate::tray::INCIDENT_START | crate::tray::INCIDENT_EXTEND | crate::tray::INCIDENT_STOP => {
            let Some(incidents) = monitor.as_ref().and_then(|m| m.incidents()) else {
                return;
            };
            let action = id.to_owned();
            desktop.rt.spawn(async move {
                let now = chrono::Utc::now().timestamp_millis();
                let newest = incidents.active(now).into_iter().next();
                let done = match (action.as_str(), newest) {
                    (crate::tray::INCIDENT_START, _) => incidents
                        .start(
                            StartRequest::everyone(crate::tray::INCIDENT_MINUTES, Origin::Tray),
                            now,
                        )
                        .await
                        .map(|_| ()),
                    (crate::tray::INCIDENT_EXTEND, Some(w)) => incidents
                        .extend(&w.id, crate::tray::INCIDENT_MINUTES, now)
                        .await
                        .map(|_| ()),
                    (crate::tray::INCIDENT_STOP, Some(w)) => {
                        incidents.stop(&w.id, now).await.map(|_| ())
                    }
                    // The window ended between the menu's last refresh and the click.
                    _ => Ok(()),
                };
                match done {
                    Ok(()) => tracing::info!(action, "incident window changed from the tray"),
                    Err(err) => tracing::warn!(%err, action, "the tray's incident item failed"),
                }
            });
        }
        crate::tray::QUIT => app.exit(0),
        _ => {}
    }
}

/// Keeps the login item as the settings say.
fn apply_login_item(app: &AppHandle, settings: &Settings) {
    let autolaunch = app.autolaunch();
    let now = autolaunch.is_enabled().unwrap_or(false);
    let result = match (settings.launch_at_login, now) {
        (true, false) => autolaunch.enable(),
        (false, true) => autolaunch.disable(),
        _ => Ok(()),
    };
    if let Err(err) = result {
        tracing::warn!(%err, "the login item could not be changed");
    }
}

/// Applies settings as they are saved: the login item at once; new ports or data by
/// restarting the engine, after which the window reloads at the new UI address.
async fn follow_settings(app: AppHandle, desktop: Arc<Desktop>) {
    let mut rx = desktop.settings.watch();
    let mut applied = rx.borrow_and_update().clone();
    while rx.changed().await.is_ok() {
        let next = rx.borrow_and_update().clone();
        if next.launch_at_login != applied.launch_at_login {
            apply_login_item(&app, &next);
        }
        if applied.needs_restart(&next) {
            let url = match restart(&desktop, &next).await {
                Ok(url) => url,
                Err(err) => {
                    // The API checked the ports and folder just before; something took them
                    // since. Go back to what worked (saving it again is then a no-op here).
                    tracing::error!(%err, "the engine did not restart with the new settings");
                    let back = restart(&desktop, &applied).await;
                    let _ = desktop.settings.save(applied.clone());
                    match back {
                        Ok(url) => url,
                        Err(err) => {
                            tracing::error!(%err, "the engine did not restart at all");
                            continue;
                        }
                    }
                }
            };
            if let (Some(window), Ok(url)) = (app.get_webview_window(WINDOW), url.parse()) {
                let _ = window.navigate(url);
            }
            if lock(&desktop.engine).is_none() {
                continue;
            }
        }
        applied = next;
    }
}

/// Stops the engine and starts it again with `settings`; the new UI address.
async fn restart(desktop: &Desktop, settings: &Settings) -> anyhow::Result<String> {
    let old = lock(&desktop.engine).take();
    desktop.monitor.send_replace(None);
    if let Some(old) = old {
        old.shutdown().await;
    }
    let mut config = lock(&desktop.overrides).config(settings);
    config.settings = Some(desktop.settings.clone());
    let engine = match sightline_server::start(config).await {
        Ok(engine) => engine,
        Err(err) => return Err(err.into()),
    };
    tracing::info!(ui = %engine.ui, "the engine restarted with new settings");
    let url = format!("http://{}/", engine.ui);
    desktop.monitor.send_replace(Some(engine.monitor()));
    *lock(&desktop.engine) = Some(engine);
    Ok(url)
}
