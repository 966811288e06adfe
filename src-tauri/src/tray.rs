//! The tray: a status line (listening, paused, not running), today's counts, Open Sightline,
//! Copy OTLP endpoint, Pause ingest, Quit. It follows the engine through a [`Monitor`]
//! (restarts for new ports replace it), refreshing on a pause switch at once and on counts
//! every [`COUNTS_EVERY`].

use std::time::Duration;

use sightline_server::Monitor;
use sightline_store::queries::Activity;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};
use tokio::sync::watch;

/// How often today's counts are refreshed: each refresh is three index range counts, cheap
/// even on a day of 500k traces, and a tray is glanced at, not watched.
pub const COUNTS_EVERY: Duration = Duration::from_secs(5);

pub const OPEN: &str = "open";
pub const COPY_ENDPOINT: &str = "copy-endpoint";
pub const PAUSE: &str = "pause";
pub const QUIT: &str = "quit";

pub struct Tray {
    status: MenuItem<Wry>,
    counts: MenuItem<Wry>,
    pause: CheckMenuItem<Wry>,
}

impl Tray {
    pub fn build(app: &AppHandle) -> tauri::Result<Tray> {
        let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
        let counts = MenuItem::with_id(app, "counts", "Today: nothing yet", false, None::<&str>)?;
        let open = MenuItem::with_id(app, OPEN, "Open Sightline", true, None::<&str>)?;
        let copy = MenuItem::with_id(app, COPY_ENDPOINT, "Copy OTLP endpoint", true, None::<&str>)?;
        let pause = CheckMenuItem::with_id(app, PAUSE, "Pause ingest", true, false, None::<&str>)?;
        let quit = MenuItem::with_id(app, QUIT, "Quit Sightline", true, None::<&str>)?;
        let menu = Menu::with_items(
            app,
            &[
                &status,
                &counts,
                &PredefinedMenuItem::separator(app)?,
                &open,
                &copy,
                &pause,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let mut builder = TrayIconBuilder::with_id("sightline")
            .tooltip("Sightline")
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(|app, event| crate::desktop::on_menu(app, event.id().as_ref()));
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        builder.build(app)?;
        Ok(Tray {
            status,
            counts,
            pause,
        })
    }

    /// Whether the Pause item is ticked (it ticks itself when clicked).
    pub fn pause_checked(&self) -> bool {
        self.pause.is_checked().unwrap_or(false)
    }

    fn show(&self, engine: Option<&Monitor>, today: Option<Activity>) {
        let paused = engine.is_some_and(|m| m.control().paused());
        let _ = self.status.set_text(status_line(engine.map(|m| {
            (
                m.otlp_http.port(),
                m.otlp_grpc.port(),
                paused,
                m.control().refused(),
            )
        })));
        let _ = self.counts.set_text(counts_line(today));
        let _ = self.pause.set_checked(paused);
        let _ = self.pause.set_enabled(engine.is_some());
    }

    /// Follows the engine (replaced on restarts) until the app ends.
    pub async fn follow(&self, mut engine: watch::Receiver<Option<Monitor>>) {
        loop {
            let current = engine.borrow_and_update().clone();
            let mut paused = current.as_ref().map(|m| m.control().watch_paused());
            loop {
                let today = match &current {
                    Some(m) => m.activity_since(local_midnight_ms()).await.ok(),
                    None => None,
                };
                self.show(current.as_ref(), today);
                let pause_flip = async {
                    match paused.as_mut() {
                        Some(rx) => rx.changed().await.is_ok(),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(COUNTS_EVERY) => {}
                    alive = pause_flip => if !alive { paused = None },
                    changed = engine.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        break;
                    }
                }
            }
        }
    }
}

/// The tray's first line: (HTTP port, gRPC port, paused, refused) of the running engine.
pub fn status_line(engine: Option<(u16, u16, bool, u64)>) -> String {
    match engine {
        None => "Not running".to_owned(),
        Some((_, _, true, refused)) => match refused {
            0 => "Paused: clients are told to retry".to_owned(),
            1 => "Paused: 1 request refused".to_owned(),
            n => format!("Paused: {n} requests refused"),
        },
        Some((http, grpc, false, _)) => format!("Listening on :{http} (HTTP) and :{grpc} (gRPC)"),
    }
}

pub fn counts_line(today: Option<Activity>) -> String {
    let Some(a) = today else {
        return "Today: no counts".to_owned();
    };
    let n = |count: i64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let mut parts = vec![
        n(a.sessions, "session", "sessions"),
        n(a.traces, "trace", "traces"),
    ];
    if a.failed_traces > 0 {
        parts.push(format!("{} failing", a.failed_traces));
    }
    format!("Today: {}", parts.join(" · "))
}

/// The start of today in this machine's time zone, as Unix milliseconds.
pub fn local_midnight_ms() -> i64 {
    use chrono::{Local, TimeZone};
    let today = Local::now().date_naive();
    today
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| Local.from_local_datetime(&midnight).earliest())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_says_listening_paused_or_not_running() {
        assert_eq!(
            status_line(Some((4318, 4317, false, 0))),
            "Listening on :4318 (HTTP) and :4317 (gRPC)"
        );
        assert_eq!(
            status_line(Some((4318, 4317, true, 0))),
            "Paused: clients are told to retry"
        );
        assert_eq!(
            status_line(Some((4318, 4317, true, 3))),
            "Paused: 3 requests refused"
        );
        assert_eq!(status_line(None), "Not running");
    }

    #[test]
    fn counts_read_as_words() {
        let a = Activity {
            sessions: 1,
            traces: 120,
            failed_traces: 4,
        };
        assert_eq!(
            counts_line(Some(a)),
            "Today: 1 session · 120 traces · 4 failing"
        );
        assert_eq!(
            counts_line(Some(Activity::default())),
            "Today: 0 sessions · 0 traces"
        );
    }

    #[test]
    fn midnight_is_today_and_in_the_past() {
        let now = chrono::Utc::now().timestamp_millis();
        let midnight = local_midnight_ms();
        assert!(midnight <= now && now - midnight <= 25 * 3600 * 1000);
    }
}
