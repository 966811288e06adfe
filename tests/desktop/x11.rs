//! What the desktop tests do to the app's windows on Xvfb, as a user (or a window manager)
//! would: find a window by title, ask it to close (WM_DELETE_WINDOW), press a key or click in
//! it, move and resize it, and read where it is.

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConfigureWindowAux, ConnectionExt as _, CreateWindowAux,
    EventMask, InputFocus, MapState, Window, WindowClass,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::CURRENT_TIME;

pub struct Screen {
    conn: RustConnection,
    root: Window,
}

impl Screen {
    pub fn open(display: &str) -> Screen {
        let (conn, n) = x11rb::connect(Some(display)).expect("the X server answers");
        let root = conn.setup().roots[n].root;
        Screen { conn, root }
    }

    fn title(&self, w: Window) -> String {
        let prop = |atom| {
            self.conn
                .get_property(false, w, atom, AtomEnum::ANY, 0, 1024)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.value).into_owned())
                .unwrap_or_default()
        };
        let net = self
            .conn
            .intern_atom(false, b"_NET_WM_NAME")
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| r.atom);
        let name = net.map(prop).unwrap_or_default();
        if name.is_empty() {
            prop(AtomEnum::WM_NAME.into())
        } else {
            name
        }
    }

    /// Top-level windows titled exactly `title`, mapped or not.
    pub fn windows(&self, title: &str) -> Vec<Window> {
        let tree = self
            .conn
            .query_tree(self.root)
            .expect("query_tree")
            .reply()
            .expect("the window tree");
        tree.children
            .into_iter()
            .filter(|w| self.title(*w) == title)
            .collect()
    }

    pub fn viewable(&self, w: Window) -> bool {
        self.conn
            .get_window_attributes(w)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == MapState::VIEWABLE)
    }

    /// The viewable window titled `title`, waiting up to 30 s for it.
    pub fn wait_for(&self, title: &str) -> Window {
        for _ in 0..300 {
            if let Some(w) = self.windows(title).into_iter().find(|w| self.viewable(*w)) {
                return w;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no window titled {title:?} appeared");
    }

    /// What a window manager sends when the user clicks the close button.
    pub fn close(&self, w: Window) {
        let (protocols, delete) = (self.atom(b"WM_PROTOCOLS"), self.atom(b"WM_DELETE_WINDOW"));
        let event = ClientMessageEvent::new(32, w, protocols, [delete, CURRENT_TIME, 0, 0, 0]);
        self.conn
            .send_event(false, w, EventMask::NO_EVENT, event)
            .expect("send_event");
        self.conn.flush().expect("flush");
    }

    /// Focuses `w` and presses Return in it (through XTEST, as a keyboard would).
    pub fn press_return(&self, w: Window) {
        self.conn
            .set_input_focus(InputFocus::PARENT, w, CURRENT_TIME)
            .expect("focus");
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = self
            .conn
            .get_keyboard_mapping(min, max - min + 1)
            .expect("keymap")
            .reply()
            .expect("keymap reply");
        let per = map.keysyms_per_keycode as usize;
        const RETURN: u32 = 0xff0d;
        let index = map
            .keysyms
            .chunks(per)
            .position(|syms| syms.contains(&RETURN))
            .expect("a Return key");
        let code = min + index as u8;
        for kind in [2u8, 3u8] {
            // KeyPress, KeyRelease
            self.conn
                .xtest_fake_input(kind, code, CURRENT_TIME, self.root, 0, 0, 0)
                .expect("fake input");
        }
        self.conn.flush().expect("flush");
    }

    /// Moves the pointer to (`x`, `y`) on the screen and clicks the first button there
    /// (through XTEST, as a mouse would).
    pub fn click(&self, x: i16, y: i16) {
        // MotionNotify (absolute), then ButtonPress and ButtonRelease of button 1.
        self.conn
            .xtest_fake_input(6, 0, CURRENT_TIME, self.root, x, y, 0)
            .expect("fake motion");
        for kind in [4u8, 5u8] {
            self.conn
                .xtest_fake_input(kind, 1, CURRENT_TIME, self.root, 0, 0, 0)
                .expect("fake click");
        }
        self.conn.flush().expect("flush");
    }

    fn atom(&self, name: &[u8]) -> u32 {
        self.conn
            .intern_atom(false, name)
            .expect("intern")
            .reply()
            .expect("atom")
            .atom
    }

    /// The clipboard's text, asked of its owner as any application pasting would.
    pub fn clipboard(&self) -> Option<String> {
        let win = self.conn.generate_id().ok()?;
        self.conn
            .create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                win,
                self.root,
                0,
                0,
                1,
                1,
                0,
                WindowClass::INPUT_OUTPUT,
                0,
                &CreateWindowAux::new(),
            )
            .ok()?;
        let (clipboard, utf8, into) = (
            self.atom(b"CLIPBOARD"),
            self.atom(b"UTF8_STRING"),
            self.atom(b"SIGHTLINE_PASTE"),
        );
        self.conn
            .convert_selection(win, clipboard, utf8, into, CURRENT_TIME)
            .ok()?;
        self.conn.flush().ok()?;
        for _ in 0..100 {
            match self.conn.poll_for_event().ok()? {
                Some(Event::SelectionNotify(e)) if e.requestor == win => {
                    if e.property == u32::from(AtomEnum::NONE) {
                        return None;
                    }
                    let value = self
                        .conn
                        .get_property(false, win, into, AtomEnum::ANY, 0, 1 << 16)
                        .ok()?
                        .reply()
                        .ok()?
                        .value;
                    return String::from_utf8(value).ok();
                }
                Some(_) => {}
                None => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
        None
    }

    pub fn move_resize(&self, w: Window, x: i32, y: i32, width: u32, height: u32) {
        let aux = ConfigureWindowAux::new()
            .x(x)
            .y(y)
            .width(width)
            .height(height);
        self.conn.configure_window(w, &aux).expect("configure");
        self.conn.flush().expect("flush");
    }

    /// (x, y, width, height) of a top-level window.
    pub fn geometry(&self, w: Window) -> (i32, i32, u32, u32) {
        let g = self
            .conn
            .get_geometry(w)
            .expect("geometry")
            .reply()
            .expect("geometry reply");
        (
            i32::from(g.x),
            i32::from(g.y),
            u32::from(g.width),
            u32::from(g.height),
        )
    }
}
