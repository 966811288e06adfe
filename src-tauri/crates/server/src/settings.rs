//! The desktop app's settings: what the user chose (ports, data directory, tray and login
//! behaviour, notifications), persisted as one JSON file, and the checks a choice must pass
//! before it is saved. The engine serves them at `/api/v1/settings` when it runs inside the
//! desktop app; the app follows [`SettingsStore::watch`] to apply them without a reinstall.
//! `sightline serve` has no settings file: its flags are its settings.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sightline_store::retention::RetentionConfig;
use tokio::sync::watch;

use crate::error::{Result, ServerError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Settings {
    pub otlp_grpc_port: u16,
    pub otlp_http_port: u16,
    pub ui_port: u16,
    /// `None`: the platform's data directory ([`default_data_dir`]).
    #[schema(value_type = Option<String>)]
    pub data_dir: Option<PathBuf>,
    pub launch_at_login: bool,
    /// Closing the window hides it; the receivers keep running in the tray.
    pub keep_running_in_tray: bool,
    /// A desktop notification when a new session records an error.
    pub notify_error_sessions: bool,
    /// Import what is dropped into the inbox folder.
    pub watch_inbox: bool,
    /// `None`: [`default_inbox_dir`] (`~/Sightline/Inbox`).
    #[schema(value_type = Option<String>)]
    pub inbox_dir: Option<PathBuf>,
    /// An OTLP JSON lines file to follow as it grows (the Collector's file exporter).
    #[schema(value_type = Option<String>)]
    pub tail_file: Option<PathBuf>,
    /// Retention: days sessions without errors, with errors, and traces and logs of no session
    /// are kept; the database's size cap in MiB (0: none).
    pub keep_days: u32,
    pub keep_error_days: u32,
    pub keep_orphan_days: u32,
    pub max_database_mib: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            otlp_grpc_port: 4317,
            otlp_http_port: 4318,
            ui_port: 4320,
            data_dir: None,
            launch_at_login: false,
            keep_running_in_tray: false,
            notify_error_sessions: false,
            watch_inbox: true,
            inbox_dir: None,
            tail_file: None,
            keep_days: RetentionConfig::default().session_days,
            keep_error_days: RetentionConfig::default().error_session_days,
            keep_orphan_days: RetentionConfig::default().orphan_days,
            max_database_mib: RetentionConfig::default().max_db_bytes.unwrap_or(0) / (1024 * 1024),
        }
    }
}

impl Settings {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    pub fn inbox_dir(&self) -> PathBuf {
        self.inbox_dir.clone().unwrap_or_else(default_inbox_dir)
    }

    /// Whether going from `self` to `next` needs the engine restarted (new ports, data, inbox).
    pub fn needs_restart(&self, next: &Settings) -> bool {
        (
            self.otlp_grpc_port,
            self.otlp_http_port,
            self.ui_port,
            self.data_dir(),
            (self.watch_inbox, self.inbox_dir(), &self.tail_file),
            self.retention(),
        ) != (
            next.otlp_grpc_port,
            next.otlp_http_port,
            next.ui_port,
            next.data_dir(),
            (next.watch_inbox, next.inbox_dir(), &next.tail_file),
            next.retention(),
        )
    }

    pub fn retention(&self) -> RetentionConfig {
        RetentionConfig {
            session_days: self.keep_days,
            error_session_days: self.keep_error_days,
            orphan_days: self.keep_orphan_days,
            max_db_bytes: (self.max_database_mib > 0)
                .then_some(self.max_database_mib * 1024 * 1024),
        }
    }
}

/// The platform's data directory for Sightline (`~/.local/share/sightline` on Linux,
/// `~/Library/Application Support/sightline` on macOS); the working directory if there is no
/// home.
pub fn default_data_dir() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.data_dir().join("sightline"))
        .unwrap_or_else(|| PathBuf::from("sightline-data"))
}

/// Where the desktop app's inbox is unless the settings say otherwise: `~/Sightline/Inbox`.
pub fn default_inbox_dir() -> PathBuf {
    directories::UserDirs::new()
        .map(|d| d.home_dir().to_path_buf())
        .unwrap_or_default()
        .join("Sightline")
        .join("Inbox")
}

/// The platform's configuration file (`~/.config/sightline/settings.json` on Linux,
/// `~/Library/Application Support/sightline/settings.json` on macOS).
pub fn default_settings_path() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.config_dir().join("sightline"))
        .unwrap_or_else(|| PathBuf::from("sightline-config"))
        .join("settings.json")
}

/// The settings file and the settings in effect; one per desktop app, shared by every engine
/// it starts (a restart for new ports keeps the same store).
#[derive(Debug)]
pub struct SettingsStore {
    path: PathBuf,
    current: watch::Sender<Settings>,
}

/// How a settings file was found at startup.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    Found,
    Missing,
    /// Unreadable or not our format: set aside (renamed `*.bad`) and defaults used, so one bad
    /// edit cannot keep the app from starting. The string says why.
    Replaced(String),
}

impl SettingsStore {
    /// Reads `path` (defaults when it does not exist yet).
    pub fn open(path: PathBuf) -> (SettingsStore, Loaded) {
        let (settings, loaded) = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Settings>(&bytes) {
                Ok(s) => (s, Loaded::Found),
                Err(e) => {
                    let aside = path.with_extension("json.bad");
                    let _ = std::fs::rename(&path, &aside);
                    let why = format!(
                        "{} could not be read ({e}); it was moved to {} and defaults are used",
                        path.display(),
                        aside.display()
                    );
                    (Settings::default(), Loaded::Replaced(why))
                }
            },
            Err(_) => (Settings::default(), Loaded::Missing),
        };
        let store = SettingsStore {
            path,
            current: watch::Sender::new(settings),
        };
        (store, loaded)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self) -> Settings {
        self.current.borrow().clone()
    }

    /// Follows the settings as they are saved.
    pub fn watch(&self) -> watch::Receiver<Settings> {
        self.current.subscribe()
    }

    /// Writes `next` (atomically: a crash leaves the old file or the new one, never half) and
    /// publishes it. Checks are the caller's ([`check`]).
    pub fn save(&self, next: Settings) -> Result<()> {
        let io = |what: &str, e: std::io::Error| {
            ServerError::Internal(format!("cannot {what} {}: {e}", self.path.display()))
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(&next)
            .map_err(|e| ServerError::Internal(format!("settings do not serialize: {e}")))?;
        std::fs::write(&tmp, body).map_err(|e| io("write", e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io("replace", e))?;
        self.current.send_replace(next);
        Ok(())
    }
}

/// Applies a partial JSON object (`{"uiPort": 4400}`) to `base`; unknown keys are an error.
pub fn merge(base: &Settings, patch: &[u8]) -> Result<Settings> {
    let bad = |e: String| ServerError::BadRequest(format!("settings: {e}"));
    let patch: serde_json::Value =
        serde_json::from_slice(patch).map_err(|e| bad(format!("the body must be JSON: {e}")))?;
    let serde_json::Value::Object(patch) = patch else {
        return Err(bad("the body must be a JSON object".into()));
    };
    let mut merged = match serde_json::to_value(base) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(ServerError::Internal("settings do not serialize".into())),
    };
    merged.extend(patch);
    serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| bad(e.to_string()))
}

/// Whether `next` can be put into effect on this machine, given the ports the running engine
/// holds now (those are busy, by us). Errors say what to change.
pub fn check(next: &Settings, running: &[u16]) -> Result<()> {
    let bad = |m: String| Err(ServerError::BadRequest(m));
    let ports = [
        ("OTLP/gRPC", next.otlp_grpc_port),
        ("OTLP/HTTP", next.otlp_http_port),
        ("UI", next.ui_port),
    ];
    for (i, (what, port)) in ports.iter().enumerate() {
        if *port == 0 {
            return bad(format!(
                "the {what} port must be 1-65535: clients need a fixed port"
            ));
        }
        if let Some((other, _)) = ports[..i].iter().find(|(_, p)| p == port) {
            return bad(format!(
                "the {what} and {other} ports are both {port}; each needs its own"
            ));
        }
        if !running.contains(port) && !port_is_free(*port) {
            let hint = free_port_near(*port, &ports.map(|(_, p)| p))
                .map(|p| format!("; {p} is free"))
                .unwrap_or_default();
            return bad(format!(
                "port {port} ({what}) is in use by another program{hint}"
            ));
        }
    }
    if let Some(dir) = &next.data_dir {
        if !dir.is_absolute() {
            return bad(format!(
                "the data directory must be an absolute path, not {}",
                dir.display()
            ));
        }
    }
    for (what, days) in [
        ("days sessions are kept", next.keep_days),
        ("days sessions with errors are kept", next.keep_error_days),
        (
            "days traces and logs of no session are kept",
            next.keep_orphan_days,
        ),
    ] {
        if !(1..=3650).contains(&days) {
            return bad(format!("the {what} must be 1 to 3650, not {days}"));
        }
    }
    if next.max_database_mib != 0 && next.max_database_mib < 100 {
        return bad(format!(
            "the database size cap must be at least 100 MiB (or 0 for none), not {}",
            next.max_database_mib
        ));
    }
    for (what, path) in [
        ("inbox folder", &next.inbox_dir),
        ("followed file", &next.tail_file),
    ] {
        if let Some(p) = path {
            if !p.is_absolute() {
                return bad(format!(
                    "the {what} must be an absolute path, not {}",
                    p.display()
                ));
            }
        }
    }
    check_data_dir(&next.data_dir()).map_err(ServerError::BadRequest)
}

/// Whether 127.0.0.1:`port` can be bound now.
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// How far past a busy port to look for a free one: a small neighbourhood keeps the offer
/// recognisable (4318 → 4319…), and ports are checked one bind at a time.
const PORT_SEARCH: u16 = 100;

/// The first free port after `port` (within [`PORT_SEARCH`]) that is not in `taken`.
pub fn free_port_near(port: u16, taken: &[u16]) -> Option<u16> {
    (1..=PORT_SEARCH)
        .filter_map(|d| port.checked_add(d))
        .find(|p| !taken.contains(p) && port_is_free(*p))
}

/// Creates `dir` if needed and proves it writable with a probe file; the error says which and
/// why, in words for a dialog.
pub fn check_data_dir(dir: &Path) -> std::result::Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "the data directory {} cannot be created: {e}",
            dir.display()
        )
    })?;
    let probe = dir.join(".sightline-write-probe");
    std::fs::write(&probe, b"ok")
        .map_err(|e| format!("the data directory {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_changes_only_what_it_names_and_rejects_typos() {
        let base = Settings::default();
        let next = merge(&base, br#"{"uiPort": 4400, "keepRunningInTray": true}"#).unwrap();
        assert_eq!(next.ui_port, 4400);
        assert!(next.keep_running_in_tray);
        assert_eq!(next.otlp_http_port, base.otlp_http_port);
        assert!(merge(&base, br#"{"uiPrt": 1}"#).is_err());
        assert!(merge(&base, br#"{"uiPort": 70000}"#).is_err());
        assert!(merge(&base, b"[1]").is_err());
    }

    #[test]
    fn checks_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let ok = Settings {
            otlp_grpc_port: 1,
            otlp_http_port: 2,
            ui_port: 3,
            data_dir: Some(dir.path().to_owned()),
            ..Settings::default()
        };
        // Ports the running engine holds are not "in use by another program".
        check(&ok, &[1, 2, 3]).unwrap();
        let same = Settings {
            ui_port: 2,
            ..ok.clone()
        };
        let err = check(&same, &[1, 2, 3]).unwrap_err().to_string();
        assert!(err.contains("both 2"), "{err}");
        let relative = Settings {
            data_dir: Some("data".into()),
            ..ok.clone()
        };
        assert!(check(&relative, &[1, 2, 3]).is_err());

        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        let clash = Settings {
            ui_port: port,
            ..ok.clone()
        };
        let err = check(&clash, &[1, 2]).unwrap_err().to_string();
        assert!(
            err.contains(&format!("port {port} (UI) is in use")),
            "{err}"
        );
        let offer = free_port_near(port, &[]).unwrap();
        assert!(offer > port && port_is_free(offer));
    }

    #[test]
    fn an_unwritable_data_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let err = check_data_dir(&file.join("data")).unwrap_err();
        assert!(err.contains("cannot be created"), "{err}");
        check_data_dir(&dir.path().join("new/deeper")).unwrap();
    }

    #[test]
    fn saved_settings_come_back_and_a_bad_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conf/settings.json");
        let (store, loaded) = SettingsStore::open(path.clone());
        assert_eq!(loaded, Loaded::Missing);
        let mut rx = store.watch();
        let next = Settings {
            keep_running_in_tray: true,
            ..store.get()
        };
        store.save(next.clone()).unwrap();
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), next);
        let (again, loaded) = SettingsStore::open(path.clone());
        assert_eq!((again.get(), loaded), (next, Loaded::Found));

        std::fs::write(&path, b"{not json").unwrap();
        let (bad, loaded) = SettingsStore::open(path.clone());
        assert!(matches!(loaded, Loaded::Replaced(_)));
        assert_eq!(bad.get(), Settings::default());
        assert!(path.with_extension("json.bad").exists());
    }
}
