//! The seed's storefront pages: their rrweb full snapshots, and the errors a page throws.

use super::*;

pub(super) const JS_ERRORS: [&str; 3] = [
    "TypeError: Cannot read properties of undefined (reading 'price')",
    "ReferenceError: dataLayer is not defined",
    "Error: Request failed with status code 500",
];
pub(super) const PAGES: [&str; 5] = ["/", "/products", "/products/{id}", "/cart", "/checkout"];
pub(super) const CSS: &str = "body{font:14px system-ui;margin:0;color:#1d2433}header{display:flex;gap:16px;padding:12px 24px;background:#1d2433;color:#fff}header a{color:#fff}main{padding:24px}.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:16px}.card{border:1px solid #dde;border-radius:8px;padding:12px}button{background:#3a5bd9;color:#fff;border:0;border-radius:6px;padding:8px 12px}";

/// A page's full snapshot (rrweb's serialized DOM) and the ids of its controls.
pub(super) struct Page {
    pub(super) snapshot: Value,
    pub(super) buttons: Vec<(u32, String)>,
    pub(super) input: u32,
}

pub(super) fn page_snapshot(path: &str, product: u32) -> Page {
    let mut next = 1u32;
    let mut id = || {
        next += 1;
        next
    };
    let mut buttons = Vec::new();
    let el = |id: u32, tag: &str, attrs: Value, children: Vec<Value>| json!({"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": id});
    let text = |id: u32, t: &str| json!({"type": 3, "textContent": t, "id": id});
    let title = match path {
        "/" => "Linen & Co — new season".to_owned(),
        "/products" => "All products".to_owned(),
        "/cart" => "Your cart".to_owned(),
        "/checkout" => "Checkout".to_owned(),
        _ => format!("Linen shirt no. {product}"),
    };
    let mut nav = Vec::new();
    for label in ["Shop", "Search", "Cart"] {
        let a = id();
        buttons.push((a, label.to_owned()));
        nav.push(el(a, "a", json!({"href": "#"}), vec![text(id(), label)]));
    }
    let mut cards = Vec::new();
    for i in 0..8 {
        // The button's text node directly follows it, as the nav links' do: the page's
        // reaction to a click rewrites that text.
        let b = id();
        let b_text = id();
        let label = if path == "/checkout" {
            "Place order"
        } else {
            "Add to cart"
        };
        buttons.push((b, label.to_owned()));
        cards.push(el(
            id(),
            "div",
            json!({"class": "card"}),
            vec![
                el(
                    id(),
                    "h3",
                    json!({}),
                    vec![text(id(), &format!("Linen shirt no. {}", product + i))],
                ),
                el(
                    id(),
                    "p",
                    json!({}),
                    vec![text(id(), &format!("€{}.00", 39 + i * 5))],
                ),
                el(
                    b,
                    "button",
                    json!({"type": "button"}),
                    vec![text(b_text, label)],
                ),
            ],
        ));
    }
    let input = id();
    let body = el(
        id(),
        "body",
        json!({}),
        vec![
            el(id(), "header", json!({}), nav),
            el(
                id(),
                "main",
                json!({}),
                vec![
                    el(id(), "h1", json!({}), vec![text(id(), &title)]),
                    el(
                        input,
                        "input",
                        json!({"type": "search", "placeholder": "Search"}),
                        vec![],
                    ),
                    el(id(), "div", json!({"class": "grid"}), cards),
                ],
            ),
        ],
    );
    let head = el(
        id(),
        "head",
        json!({}),
        vec![
            el(id(), "title", json!({}), vec![text(id(), &title)]),
            el(
                id(),
                "style",
                json!({}),
                vec![json!({"type": 3, "textContent": CSS, "isStyle": true, "id": id()})],
            ),
        ],
    );
    let html = el(id(), "html", json!({"lang": "en"}), vec![head, body]);
    Page {
        snapshot: json!({"node": {"type": 0, "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": id()}, html], "id": 1},
                         "initialOffset": {"left": 0, "top": 0}}),
        buttons,
        input,
    }
}
