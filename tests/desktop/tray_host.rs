//! A tray host for the desktop tests: `org.kde.StatusNotifierWatcher` (and a notification
//! daemon) on a private session bus, as a desktop's panel provides them. The app's tray icon (libayatana-appindicator)
//! registers with it; its menu is then read and clicked over `com.canonical.dbusmenu`, which
//! is what a panel does when the user opens the menu.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use zbus::blocking::Connection;
use zbus::message::Header;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// (bus name, object path) of each registered tray item.
type Items = Arc<Mutex<Vec<(String, String)>>>;

struct Watcher {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, service: &str, #[zbus(header)] header: Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // Items name either their object path (bus name = the sender) or their bus name.
        let (bus, path) = if service.starts_with('/') {
            (sender, service.to_owned())
        } else {
            (service.to_owned(), "/StatusNotifierItem".to_owned())
        };
        if let Ok(mut items) = self.items.lock() {
            items.push((bus, path));
        }
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .map(|items| {
                items
                    .iter()
                    .map(|(bus, path)| format!("{bus}{path}"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `org.freedesktop.Notifications`, as a desktop's notification daemon: remembers each
/// notification's (summary, body).
struct Notifications {
    shown: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        shown.push((summary.to_owned(), body.to_owned()));
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("test".into(), "sightline".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

/// One menu entry as the host sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    /// For check items: whether ticked.
    pub checked: Option<bool>,
}

pub struct TrayHost {
    bus: Child,
    pub address: String,
    conn: Connection,
    items: Items,
    shown: Arc<Mutex<Vec<(String, String)>>>,
}

impl Drop for TrayHost {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

impl TrayHost {
    /// A private session bus with a tray host on it.
    pub fn start() -> TrayHost {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("the bus address");
        let address = address.trim().to_owned();
        let items: Items = Default::default();
        let shown: Arc<Mutex<Vec<(String, String)>>> = Default::default();
        let conn = zbus::blocking::connection::Builder::address(address.as_str())
            .expect("address")
            .name("org.kde.StatusNotifierWatcher")
            .expect("name")
            .serve_at(
                "/StatusNotifierWatcher",
                Watcher {
                    items: items.clone(),
                },
            )
            .expect("serve")
            .name("org.freedesktop.Notifications")
            .expect("name")
            .serve_at(
                "/org/freedesktop/Notifications",
                Notifications {
                    shown: shown.clone(),
                },
            )
            .expect("serve")
            .build()
            .expect("the tray host connects");
        TrayHost {
            bus,
            address,
            conn,
            items,
            shown,
        }
    }

    /// The first registered item's menu: (bus name, menu object path), waiting for it.
    fn menu(&self) -> (String, OwnedObjectPath) {
        for _ in 0..300 {
            let first = self.items.lock().ok().and_then(|i| i.first().cloned());
            if let Some((bus, path)) = first {
                let props = zbus::blocking::fdo::PropertiesProxy::builder(&self.conn)
                    .destination(bus.as_str())
                    .expect("destination")
                    .path(path.as_str())
                    .expect("path")
                    .build()
                    .expect("properties proxy");
                let menu = props
                    .get(
                        "org.kde.StatusNotifierItem".try_into().expect("interface"),
                        "Menu",
                    )
                    .expect("the item has a menu");
                let menu = OwnedObjectPath::try_from(menu).expect("an object path");
                drop(props);
                return (bus, menu);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no tray icon registered within 30 s");
    }

    /// The notifications shown so far: (summary, body).
    pub fn notifications(&self) -> Vec<(String, String)> {
        self.shown.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The menu's top-level entries, as a panel would draw them now.
    pub fn entries(&self) -> Vec<Entry> {
        let (bus, menu) = self.menu();
        let reply = self
            .conn
            .call_method(
                Some(bus.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .expect("GetLayout");
        type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
        let (_revision, (_root, _props, children)): (u32, Node) =
            reply.body().deserialize().expect("a dbusmenu layout");
        children
            .into_iter()
            .filter_map(|child| {
                let (id, props, _): Node = Value::from(child).downcast().ok()?;
                let text = |key: &str| {
                    props
                        .get(key)
                        .and_then(|v| String::try_from(v.clone()).ok())
                };
                if text("type").as_deref() == Some("separator") {
                    return None;
                }
                let flag = |key: &str| props.get(key).and_then(|v| bool::try_from(v.clone()).ok());
                let checked = props
                    .get("toggle-state")
                    .and_then(|v| i32::try_from(v.clone()).ok())
                    .map(|s| s == 1);
                Some(Entry {
                    id,
                    label: text("label").unwrap_or_default().replace('_', ""),
                    enabled: flag("enabled").unwrap_or(true),
                    checked,
                })
            })
            .collect()
    }

    /// Clicks the entry labelled `label`, as the user would in the panel's menu.
    pub fn click(&self, label: &str) {
        let entry = self
            .entries()
            .into_iter()
            .find(|e| e.label == label)
            .unwrap_or_else(|| panic!("no menu entry {label:?}"));
        let (bus, menu) = self.menu();
        self.conn
            .call_method(
                Some(bus.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(entry.id, "clicked", Value::from(""), 0u32),
            )
            .expect("Event");
    }
}
