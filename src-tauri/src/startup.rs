//! Starting the engine for the desktop app, where every startup problem is a dialog with a fix
//! instead of an exit with a line on stderr nobody sees: a port in use (use a free one near
//! it), a data directory that cannot be written, a database from a newer Sightline (choose
//! another folder). A chosen fix is saved to the settings, so the next launch just works.

use std::net::SocketAddr;
use std::path::PathBuf;

use sightline_server::settings::{self, Settings, SettingsStore};
use sightline_server::{ServerConfig, ServerError};
use sightline_store::StoreError;
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

/// Addresses and data directory given in the environment (tests, portable setups); they win
/// over the settings file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub otlp_grpc: Option<SocketAddr>,
    pub otlp_http: Option<SocketAddr>,
    pub ui: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

impl Overrides {
    /// The engine's configuration: settings first, then these.
    pub fn config(&self, settings: &Settings) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.apply_settings(settings);
        if let Some(a) = self.otlp_grpc {
            config.otlp_grpc = a;
        }
        if let Some(a) = self.otlp_http {
            config.otlp_http = a;
        }
        if let Some(a) = self.ui {
            config.ui = a;
        }
        if let Some(d) = &self.data_dir {
            config.data_dir = d.clone();
        }
        config
    }
}

/// Which receiver a port belongs to, as the engine's errors name it by flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    OtlpGrpc,
    OtlpHttp,
    Ui,
}

impl Port {
    fn from_flag(flag: &str) -> Option<Port> {
        match flag {
            "--otlp-grpc" => Some(Port::OtlpGrpc),
            "--otlp-http" => Some(Port::OtlpHttp),
            "--ui" => Some(Port::Ui),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Port::OtlpGrpc => "OTLP/gRPC",
            Port::OtlpHttp => "OTLP/HTTP",
            Port::Ui => "UI",
        }
    }

    fn set(self, settings: &mut Settings, overrides: &mut Overrides, port: u16) {
        let (slot, over) = match self {
            Port::OtlpGrpc => (&mut settings.otlp_grpc_port, &mut overrides.otlp_grpc),
            Port::OtlpHttp => (&mut settings.otlp_http_port, &mut overrides.otlp_http),
            Port::Ui => (&mut settings.ui_port, &mut overrides.ui),
        };
        *slot = port;
        if let Some(addr) = over {
            addr.set_port(port);
        }
    }
}

/// What a startup failure offers the user.
#[derive(Debug, PartialEq, Eq)]
pub enum Remedy {
    /// "Port P (OTLP/HTTP) is in use … Use port Q?"
    OtherPort { port: Port, busy: u16, offer: u16 },
    /// "The data directory … cannot be written / holds a newer database … Choose another?"
    OtherFolder { title: &'static str, why: String },
    /// Nothing to offer: say what happened and quit.
    Fatal(String),
}

/// The remedy for a failed start of `config`.
pub fn remedy(err: &ServerError, config: &ServerConfig) -> Remedy {
    match err {
        ServerError::PortInUse { flag, addr, .. } => {
            let taken = [
                config.otlp_grpc.port(),
                config.otlp_http.port(),
                config.ui.port(),
            ];
            match (
                Port::from_flag(flag),
                settings::free_port_near(addr.port(), &taken),
            ) {
                (Some(port), Some(offer)) => Remedy::OtherPort {
                    port,
                    busy: addr.port(),
                    offer,
                },
                _ => Remedy::Fatal(err.to_string()),
            }
        }
        ServerError::Store(StoreError::NewerSchema { .. }) => Remedy::OtherFolder {
            title: "A newer Sightline's database",
            why: err.to_string(),
        },
        ServerError::Store(StoreError::DataDir { .. } | StoreError::Open { .. }) => {
            Remedy::OtherFolder {
                title: "The data directory cannot be used",
                why: err.to_string(),
            }
        }
        other => Remedy::Fatal(other.to_string()),
    }
}

/// The dialogs, behind a trait so the decisions are testable without a display.
pub trait Ask {
    /// Offers `yes`; false for "Quit".
    fn confirm(&mut self, title: &str, text: &str, yes: &str) -> bool;
    /// Offers another folder; `None` for "Quit".
    fn folder(&mut self, title: &str, text: &str) -> Option<PathBuf>;
    fn fatal(&mut self, text: &str);
}

/// Native dialogs (GTK on Linux, AppKit on macOS) through the dialog plugin. Its blocking
/// calls wait for the main thread's event loop, so they run on another thread.
pub struct Dialogs(pub tauri::AppHandle);

impl Ask for Dialogs {
    fn confirm(&mut self, title: &str, text: &str, yes: &str) -> bool {
        self.0
            .dialog()
            .message(text)
            .title(title)
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(
                yes.to_owned(),
                "Quit".to_owned(),
            ))
            .blocking_show()
    }

    fn folder(&mut self, title: &str, text: &str) -> Option<PathBuf> {
        if !self.confirm(title, text, "Choose another folder…") {
            return None;
        }
        self.0
            .dialog()
            .file()
            .set_title("A folder for Sightline's data")
            .blocking_pick_folder()
            .and_then(|p| p.into_path().ok())
    }

    fn fatal(&mut self, text: &str) {
        self.0
            .dialog()
            .message(text)
            .title("Sightline cannot start")
            .kind(MessageDialogKind::Error)
            .buttons(MessageDialogButtons::Ok)
            .blocking_show();
    }
}

/// Starts the engine, resolving startup problems with the user until it runs or they quit
/// (`None`). Fixes are saved to the settings.
pub fn start(
    rt: &tokio::runtime::Handle,
    store: &std::sync::Arc<SettingsStore>,
    overrides: &mut Overrides,
    ask: &mut dyn Ask,
) -> Option<sightline_server::Handle> {
    loop {
        let mut settings = store.get();
        let mut config = overrides.config(&settings);
        config.settings = Some(store.clone());
        let failure = match settings::check_data_dir(&config.data_dir) {
            Err(why) => Remedy::OtherFolder {
                title: "The data directory cannot be used",
                why,
            },
            Ok(()) => match rt.block_on(sightline_server::start(config.clone())) {
                Ok(handle) => return Some(handle),
                Err(err) => {
                    tracing::warn!(%err, "the engine did not start");
                    remedy(&err, &config)
                }
            },
        };
        match failure {
            Remedy::OtherPort { port, busy, offer } => {
                let text = format!(
                    "Port {busy} ({}) is in use by another program: another Sightline, an \
                     OpenTelemetry Collector, or an agent. Sightline can listen on port {offer} \
                     instead (your apps then need to send there; Settings shows the address).",
                    port.label()
                );
                if !ask.confirm("A port is in use", &text, &format!("Use port {offer}")) {
                    return None;
                }
                port.set(&mut settings, overrides, offer);
            }
            Remedy::OtherFolder { title, why } => {
                let dir = ask.folder(
                    title,
                    &format!("{why}\n\nChoose another folder for Sightline's data, or quit."),
                )?;
                settings.data_dir = Some(dir.clone());
                if overrides.data_dir.is_some() {
                    overrides.data_dir = Some(dir);
                }
            }
            Remedy::Fatal(text) => {
                ask.fatal(&text);
                return None;
            }
        }
        if let Err(err) = store.save(settings) {
            ask.fatal(&format!("The fix could not be saved: {err}"));
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};
    use std::sync::Arc;

    /// Answers every dialog as told, and remembers what it was shown.
    #[derive(Default)]
    struct Scripted {
        accept: bool,
        folder: Option<PathBuf>,
        shown: Vec<String>,
    }

    impl Ask for Scripted {
        fn confirm(&mut self, title: &str, text: &str, yes: &str) -> bool {
            self.shown.push(format!("{title}: {text} [{yes}]"));
            self.accept
        }
        fn folder(&mut self, title: &str, text: &str) -> Option<PathBuf> {
            self.shown.push(format!("{title}: {text}"));
            self.folder.clone()
        }
        fn fatal(&mut self, text: &str) {
            self.shown.push(format!("fatal: {text}"));
        }
    }

    fn free_port() -> u16 {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    fn store(dir: &std::path::Path, settings: Settings) -> Arc<SettingsStore> {
        let (store, _) = SettingsStore::open(dir.join("settings.json"));
        store.save(settings).unwrap();
        Arc::new(store)
    }

    #[test]
    fn a_busy_port_is_replaced_by_the_offered_one_and_saved() {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let settings = Settings {
            otlp_grpc_port: free_port(),
            otlp_http_port: busy_port,
            ui_port: free_port(),
            data_dir: Some(dir.path().join("data")),
            ..Settings::default()
        };
        let store = store(dir.path(), settings);
        let mut ask = Scripted {
            accept: true,
            ..Default::default()
        };
        let handle = start(rt.handle(), &store, &mut Overrides::default(), &mut ask).unwrap();
        assert_eq!(ask.shown.len(), 1, "{:?}", ask.shown);
        assert!(ask.shown[0].contains(&format!("Port {busy_port} (OTLP/HTTP) is in use")));
        let offered = handle.otlp_http.port();
        assert!(offered > busy_port);
        assert!(ask.shown[0].contains(&format!("[Use port {offered}]")));
        assert_eq!(store.get().otlp_http_port, offered, "the fix is saved");
        rt.block_on(handle.shutdown());
    }

    #[test]
    fn declining_quits_and_saves_nothing() {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let settings = Settings {
            ui_port: busy.local_addr().unwrap().port(),
            data_dir: Some(dir.path().join("data")),
            ..Settings::default()
        };
        let store = store(dir.path(), settings.clone());
        let mut ask = Scripted::default();
        let mut overrides = Overrides {
            otlp_grpc: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            otlp_http: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            ..Default::default()
        };
        assert!(start(rt.handle(), &store, &mut overrides, &mut ask).is_none());
        assert_eq!(store.get(), settings);
    }

    #[test]
    fn an_unwritable_folder_or_a_newer_database_asks_for_another_folder() {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, b"x").unwrap();
        let newer = dir.path().join("newer");
        std::fs::create_dir(&newer).unwrap();
        let db = sightline_store::Connection::open(newer.join("sightline.db")).unwrap();
        db.pragma_update(None, "user_version", 10_000).unwrap();
        drop(db);
        let good = dir.path().join("good");
        let zero = Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        for (bad, says) in [
            (blocker.join("data"), "cannot be created"),
            (newer, "newer Sightline"),
        ] {
            let store = store(
                dir.path(),
                Settings {
                    data_dir: Some(bad),
                    ..Settings::default()
                },
            );
            let mut ask = Scripted {
                folder: Some(good.clone()),
                ..Default::default()
            };
            let mut overrides = Overrides {
                otlp_grpc: zero,
                otlp_http: zero,
                ui: zero,
                data_dir: None,
            };
            let handle = start(rt.handle(), &store, &mut overrides, &mut ask).unwrap();
            assert!(ask.shown[0].contains(says), "{:?}", ask.shown);
            assert_eq!(store.get().data_dir.as_deref(), Some(good.as_path()));
            assert!(handle.database().starts_with(&good));
            rt.block_on(handle.shutdown());
        }
    }
}
