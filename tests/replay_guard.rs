//! A recording cannot make the player call out: in Debian's Chromium, through the real engine,
//! a session whose snapshot and later mutations point at an "attacker" server on another
//! loopback port (`<img>`, `srcset`, `<link>` and `@import` stylesheets, CSS `url()`, `<base>`,
//! a meta refresh, `<iframe>`, `<object>`, `<embed>`, `<video>`, SVG `<image>`) is opened and
//! played, and that server hears nothing, while the page's own image, served from the origin
//! the recorder captured, still loads. The player says how many outside resources it left out.
//!
//! Needs Chromium and `tests/clients` installed (the README's test command does both).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use sightline_tests::{node_client, Engine};

/// An HTTP server on a loopback port that answers every GET with a 1×1 GIF (or empty CSS) and
/// writes down each path asked for.
fn listener() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    let socket = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().unwrap();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for stream in socket.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            seen.lock().unwrap().push(path.clone());
            let (kind, body): (&str, &[u8]) = if path.ends_with(".css") {
                ("text/css", b"")
            } else {
                ("image/gif", GIF)
            };
            let mut out = &stream;
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(body);
        }
    });
    (addr, hits)
}

fn el(id: u64, tag: &str, attrs: Value, children: Vec<Value>) -> Value {
    json!({"type": 2, "id": id, "tagName": tag, "attributes": attrs, "childNodes": children})
}

fn svg(id: u64, tag: &str, attrs: Value, children: Vec<Value>) -> Value {
    json!({"type": 2, "id": id, "tagName": tag, "attributes": attrs, "childNodes": children, "isSVG": true})
}

fn text(id: u64, s: &str) -> Value {
    json!({"type": 3, "id": id, "textContent": s})
}

/// A checkout page recorded at `own`, with every kind of planted URL pointing at `evil`; then a
/// mutation that adds an image and changes an image's `src` and an element's style to `evil`.
fn recording(own: SocketAddr, evil: SocketAddr, t: u64) -> Vec<Value> {
    let own = format!("http://{own}");
    let evil = format!("http://{evil}");
    let head = el(
        3,
        "head",
        json!({}),
        vec![
            el(30, "base", json!({"href": format!("{evil}/")}), vec![]),
            el(
                31,
                "link",
                json!({"rel": "stylesheet", "href": format!("{evil}/sheet.css")}),
                vec![],
            ),
            el(
                32,
                "style",
                json!({}),
                vec![json!({"type": 3, "id": 33, "isStyle": true,
                "textContent": format!("@import url(\"{evil}/import.css\"); body {{ background: url({evil}/body.gif) }} h1 {{ background-image: image-set(\"{evil}/set.gif\" 1x) }}")})],
            ),
            el(
                34,
                "meta",
                json!({"http-equiv": "refresh", "content": format!("0;url={evil}/refresh")}),
                vec![],
            ),
            el(
                35,
                "link",
                json!({"rel": "preload", "as": "image", "imagesrcset": format!("{evil}/preload.gif 1x")}),
                vec![],
            ),
        ],
    );
    let body = el(
        4,
        "body",
        json!({"style": "font: 20px sans-serif; margin: 40px"}),
        vec![
            el(5, "h1", json!({}), vec![text(6, "Guarded shop")]),
            el(
                7,
                "img",
                json!({"src": format!("{own}/logo.gif"), "alt": "logo", "width": "40", "height": "40"}),
                vec![],
            ),
            el(
                8,
                "img",
                json!({"src": format!("{evil}/pixel.gif"), "width": "10", "height": "10"}),
                vec![],
            ),
            el(
                9,
                "img",
                json!({"srcset": format!("{evil}/a.gif 1x, {evil}/b.gif 2x")}),
                vec![],
            ),
            el(
                10,
                "div",
                json!({"style": format!("width: 20px; height: 20px; background-image: url('{evil}/div\\2e gif')")}),
                vec![],
            ),
            el(
                11,
                "iframe",
                json!({"src": format!("{evil}/frame.html")}),
                vec![],
            ),
            el(
                12,
                "object",
                json!({"data": format!("{evil}/object.gif"), "type": "image/gif"}),
                vec![],
            ),
            el(
                13,
                "embed",
                json!({"src": format!("{evil}/embed.gif"), "type": "image/gif"}),
                vec![],
            ),
            el(
                14,
                "video",
                json!({"poster": format!("{evil}/poster.gif"), "src": format!("{evil}/video.mp4")}),
                vec![],
            ),
            svg(
                15,
                "svg",
                json!({"width": "10", "height": "10"}),
                vec![svg(
                    16,
                    "image",
                    json!({"href": format!("{evil}/svg.gif"), "width": "10", "height": "10"}),
                    vec![],
                )],
            ),
            el(17, "img", json!({"src": "relative.gif"}), vec![]),
            el(18, "p", json!({}), vec![text(19, "Thanks for shopping")]),
        ],
    );
    vec![
        json!({"type": 4, "timestamp": t, "data": {"href": format!("{own}/checkout"), "width": 1024, "height": 640}}),
        json!({"type": 2, "timestamp": t + 5, "data": {"initialOffset": {"left": 0, "top": 0},
            "node": {"type": 0, "id": 1, "childNodes": [el(2, "html", json!({}), vec![head, body])]}}}),
        json!({"type": 3, "timestamp": t + 1_000, "data": {"source": 0,
        "adds": [{"parentId": 4, "nextId": null, "node": el(40, "img", json!({"src": format!("{evil}/late.gif")}), vec![])}],
        "removes": [],
        "texts": [{"id": 19, "value": "Order placed"}],
        "attributes": [
            {"id": 7, "attributes": {"src": format!("{evil}/changed.gif")}},
            {"id": 18, "attributes": {"style": {"background": format!("url({evil}/declared.gif)")}}}
        ]}}),
        json!({"type": 3, "timestamp": t + 2_500, "data": {"source": 1, "positions": [{"x": 1, "y": 1, "id": 4, "timeOffset": 0}]}}),
    ]
}

#[test]
#[ignore = "needs Chromium and tests/clients (npm ci); the README's test command runs it"]
fn the_player_fetches_nothing_a_recording_plants() {
    let (own, own_hits) = listener();
    let (evil, evil_hits) = listener();
    let e = Engine::start();
    let t = 1_763_000_000_000;
    e.post_replay(
        &json!({"sessionId": "guarded", "batch": 0, "meta": {"userEmail": "guard@example.com"},
        "events": recording(own, evil, t)}),
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let seen = node_client([
        "ui-replay-guard.mjs",
        &format!("http://{}/", e.ui),
        shots.to_str().unwrap(),
        "guarded",
    ]);
    let evil_hits = evil_hits.lock().unwrap().clone();
    assert_eq!(
        evil_hits,
        Vec::<String>::new(),
        "the attacker's server heard from the player; {seen:#}"
    );
    let own_hits = own_hits.lock().unwrap().clone();
    assert!(
        own_hits.iter().any(|p| p == "/logo.gif"),
        "the page's own image loads: {own_hits:?}"
    );
    let note = seen["note"].as_str().unwrap_or_default();
    assert!(note.ends_with("outside resources not loaded"), "{seen:#}");
}
