//! The tray: a status line (listening, paused, not running), today's counts, Open Sightline,
//! Copy OTLP endpoint, Pause ingest, the incident window (what is open and for how long;
//! start one for everyone, extend it, stop it), Quit. It follows the engine through a
//! [`Monitor`] (restarts for new ports replace it), refreshing at once on a pause switch or an
//! incident change, and on counts and countdowns every [`COUNTS_EVERY`].

use std::time::Duration;

use sightline_server::Monitor;
use sightline_store::incident::Incident;
use sightline_store::views::Activity;
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
pub const INCIDENT_START: &str = "incident-start";
pub const INCIDENT_EXTEND: &str = "incident-extend";
pub const INCIDENT_STOP: &str = "incident-stop";
/// The tray's incident items start and extend windows by this much: the common case, one
/// click; other lengths and scopes are on the Incidents page.
pub const INCIDENT_MINUTES: i64 = 15;
pub const QUIT: &str = "quit";

pub struct Tray {
    status: MenuItem<Wry>,
    counts: MenuItem<Wry>,
    pause: CheckMenuItem<Wry>,
    incident: MenuItem<Wry>,
    incident_start: MenuItem<Wry>,
    incident_extend: MenuItem<Wry>,
    incident_stop: MenuItem<Wry>,
}

impl Tray {
    pub fn build(app: &AppHandle) -> tauri::Result<Tray> {
        let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
        let counts = MenuItem::with_id(app, "counts", "Today: nothing yet", false, None::<&str>)?;
        let open = MenuItem::with_id(app, OPEN, "Open Sightline", true, None::<&str>)?;
        let copy = MenuItem::with_id(app, COPY_ENDPOINT, "Copy OTLP endpoint", true, None::<&str>)?;
        let pause = CheckMenuItem::with_id(app, PAUSE, "Pause ingest", true, false, None::<&str>)?;
        let incident =
            MenuItem::with_id(app, "incident", incident_line(None, 0), false, None::<&str>)?;
        let incident_start = MenuItem::with_id(
            app,
            INCIDENT_START,
            format!("Start incident ({INCIDENT_MINUTES} min, everyone)"),
            true,
            None::<&str>,
        )?;
        let incident_extend = MenuItem::with_id(
            app,
            INCIDENT_EXTEND,
            format!("Extend incident by {INCIDENT_MINUTES} min"),
            false,
            None::<&str>,
        )?;
        let incident_stop =
            MenuItem::with_id(app, INCIDENT_STOP, "Stop incident", false, None::<&str>)?;
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
                &incident,
                &incident_start,
                &incident_extend,
                &incident_stop,
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
            incident,
            incident_start,
            incident_extend,
            incident_stop,
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
        let now = chrono::Utc::now().timestamp_millis();
        let active = engine
            .and_then(Monitor::incidents)
            .map(|i| i.active(now))
            .unwrap_or_default();
        let _ = self.incident.set_text(incident_line(active.first(), now));
        let _ = self
            .incident_start
            .set_enabled(engine.is_some() && active.is_empty());
        let _ = self.incident_extend.set_enabled(!active.is_empty());
        let _ = self.incident_stop.set_enabled(!active.is_empty());
    }

    /// Follows the engine (replaced on restarts) until the app ends.
    pub async fn follow(&self, mut engine: watch::Receiver<Option<Monitor>>) {
        loop {
            let current = engine.borrow_and_update().clone();
            let mut paused = current.as_ref().map(|m| m.control().watch_paused());
            let mut incidents = current
                .as_ref()
                .and_then(Monitor::incidents)
                .map(|i| i.watch());
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
                let incident_change = async {
                    match incidents.as_mut() {
                        Some(rx) => rx.changed().await.is_ok(),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(COUNTS_EVERY) => {}
                    alive = pause_flip => if !alive { paused = None },
                    alive = incident_change => if !alive { incidents = None },
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

/// The incident line: the newest open window, what it covers and how long it has left.
pub fn incident_line(window: Option<&Incident>, now_ms: i64) -> String {
    let Some(w) = window else {
        return "No incident window".to_owned();
    };
    let left_s = ((w.until_ms - now_ms).max(0) + 999) / 1000;
    let left = if left_s >= 120 {
        format!("{} min left", (left_s + 59) / 60)
    } else {
        format!("{left_s} s left")
    };
    let what = match &w.label {
        Some(label) => format!("“{label}”, "),
        None => String::new(),
    };
    let who = match &w.scope {
        sightline_store::incident::Scope::All => "everyone".to_owned(),
        sightline_store::incident::Scope::User(u) => format!("user {u}"),
        sightline_store::incident::Scope::Session(s) => format!("session {s}"),
        sightline_store::incident::Scope::Url(u) => format!("pages {u}"),
    };
    format!("Incident mode: {what}{who} · {left}")
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
    fn the_incident_line_says_what_is_open_and_for_how_long() {
        use sightline_store::incident::{Incident, Origin, Scope};
        assert_eq!(incident_line(None, 0), "No incident window");
        let mut w = Incident {
            id: "inc_1".into(),
            started_ms: 0,
            until_ms: 15 * 60_000,
            ended_early: false,
            scope: Scope::All,
            label: None,
            ticket_url: None,
            started_by: Origin::Tray,
        };
        assert_eq!(
            incident_line(Some(&w), 0),
            "Incident mode: everyone · 15 min left"
        );
        assert_eq!(
            incident_line(Some(&w), 15 * 60_000 - 90_500),
            "Incident mode: everyone · 91 s left"
        );
        w.label = Some("checkout".into());
        w.scope = Scope::User("ada".into());
        assert_eq!(
            incident_line(Some(&w), 60_000),
            "Incident mode: “checkout”, user ada · 14 min left"
        );
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
