//! A mirror of the page from any rrweb stream: which element each node id is, what kind of
//! control it belongs to, and the name a person would give it. Built from full snapshots and
//! mutations, so clicks recorded by rrweb's own `record()` (which names nothing) are named like
//! the Sightline recorder's, and the frustration rules know a click into a text field from a
//! click on a dead button.
//!
//! Owns only the reading of rrweb's serialized nodes (rrweb-snapshot's `serializedNode`: type 0
//! document, 2 element, 3 text) for one batch; the store keeps what it finds per session, since
//! a click and the snapshot that defines its node often travel in different batches.

use std::collections::HashMap;

use serde_json::{Map, Value};
use sightline_store::model::NodeRow;

/// Nodes one batch may describe, over all its snapshots and mutations together. A very large
/// page has about 10,000; past this the rest of the batch goes unnamed (its clicks keep their
/// recorder-given names, if any), which bounds the rows and the work a hostile batch can cause.
pub const MAX_NODES_PER_BATCH: usize = 50_000;

/// Children one node may have: a long list is a few thousand; past this the rest are not
/// read for names (a flood of adds under one parent would otherwise grow without bound).
const MAX_CHILDREN: usize = 10_000;

/// Ancestors followed at most (for a control, a label, a name): deeper than real pages nest,
/// and a bound on a forged tree.
const MAX_DEPTH: usize = 256;

/// A text change is reported up to the nearest control, at most this many levels up.
const MAX_TOUCH_UP: usize = 32;

/// Descendants looked at for an icon's name (`alt`, `aria-label` of an image in a button).
const MAX_ICON_SEARCH_NODES: usize = 64;
const MAX_ICON_SEARCH_DEPTH: usize = 8;

/// Longest attribute value kept (an `href`, a `title`): enough to classify and name.
const MAX_ATTRIBUTE_CHARS: usize = 500;

/// Nodes visited at most while gathering one batch's texts: a few times the node cap, so a
/// forged tree whose children loop cannot spin.
const MAX_TEXT_VISITS: usize = 4 * MAX_NODES_PER_BATCH;

/// Longest name kept: enough for a button's or a link's text, not a paragraph.
pub const MAX_NAME_CHARS: usize = 80;

/// Text gathered per element while naming, before whitespace is collapsed: a little more than
/// a name, so the cut falls on what a person reads.
const MAX_GATHERED_CHARS: usize = 200;

const DOCUMENT: u64 = 0;
const ELEMENT: u64 = 2;
const TEXT: u64 = 3;

/// The kind of control a node belongs to (itself or its nearest control ancestor). The
/// frustration rules read these strings; they are stored as they are.
pub mod control {
    /// A field a click focuses (input, textarea, select, contenteditable, a label of one).
    pub const EDITABLE: &str = "editable";
    /// A link whose answer is outside the page: a download, a new tab, mail or phone.
    pub const EXTERNAL: &str = "external";
    pub const LINK: &str = "link";
    /// A button, or an element that says it is one (role, summary).
    pub const BUTTON: &str = "button";
    /// An element with a short text of its own, as a control reads (a styled div that looks
    /// like a button): the dead-click rule applies to it.
    pub const STATIC: &str = "static";
    /// Anything else: a paragraph, a container, an element with no text. A click there that
    /// changes nothing is a person clicking on the page, not a control that failed them.
    pub const CONTENT: &str = "content";
}

/// The attributes naming and classifying look at; the rest (styles, classes, values) are not
/// kept.
const KEPT_ATTRIBUTES: &[&str] = &[
    "aria-label",
    "alt",
    "title",
    "role",
    "type",
    "href",
    "download",
    "target",
    "contenteditable",
    "placeholder",
    "name",
    "id",
    "for",
];

#[derive(Debug, Default)]
struct Node {
    parent: Option<i64>,
    /// Lower-case tag name; `None` for text nodes.
    tag: Option<String>,
    attrs: HashMap<String, String>,
    /// Text nodes: their text.
    text: Option<String>,
    children: Vec<i64>,
}

/// The elements of one batch, as its events describe them.
#[derive(Debug, Default)]
pub struct Mirror {
    nodes: HashMap<i64, Node>,
    /// Elements to report, with the first time the batch showed each.
    touched: Vec<(i64, i64)>,
    /// Where each touched element is in `touched`.
    seen: HashMap<i64, usize>,
    out: Vec<NodeRow>,
    full: bool,
    /// Nodes added in this batch, over every snapshot: the [`MAX_NODES_PER_BATCH`] count.
    added: usize,
}

fn id_of(node: &Value) -> Option<i64> {
    node.get("id").and_then(Value::as_i64)
}

impl Mirror {
    /// Takes one rrweb event into the mirror.
    pub fn event(&mut self, event: &Value) {
        let ts = event
            .get("timestamp")
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as i64;
        let data = event.get("data").unwrap_or(&Value::Null);
        match event.get("type").and_then(Value::as_u64) {
            // A full snapshot starts a new id space (a page load) or restates the current one.
            Some(2) => {
                self.flush();
                self.nodes.clear();
                if let Some(node) = data.get("node") {
                    self.add(node, None, ts);
                }
            }
            Some(3) if data.get("source").and_then(Value::as_u64) == Some(0) => {
                // Removed nodes leave their parent (rrweb applies removes before adds): their
                // text no longer names it. They stay known, so a click on them before they
                // went is still named.
                for remove in data
                    .get("removes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(id) = id_of(remove) else { continue };
                    let parent = self.nodes.get_mut(&id).and_then(|n| n.parent.take());
                    if let Some(p) = parent.and_then(|p| self.nodes.get_mut(&p)) {
                        p.children.retain(|c| *c != id);
                    }
                    if let Some(parent) = parent {
                        self.touch_up(parent, ts);
                    }
                }
                for add in data
                    .get("adds")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(node) = add.get("node") {
                        let parent = add.get("parentId").and_then(Value::as_i64);
                        let next = add.get("nextId").and_then(Value::as_i64);
                        let added = self.add(node, parent, ts);
                        if let (Some(parent), Some(added)) = (parent, added) {
                            if let Some(p) = self
                                .nodes
                                .get_mut(&parent)
                                .filter(|p| p.children.len() < MAX_CHILDREN)
                            {
                                // rrweb sends a new subtree's children last first, each placed
                                // before its next sibling: text reads in page order only if
                                // they are put there.
                                match next.and_then(|n| p.children.iter().position(|c| *c == n)) {
                                    Some(at) => p.children.insert(at, added),
                                    None => p.children.push(added),
                                }
                            }
                            self.touch_up(parent, ts);
                        }
                    }
                }
                for text in data
                    .get("texts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(id) = id_of(text) else { continue };
                    let parent = self.nodes.get_mut(&id).and_then(|n| {
                        n.text = text.get("value").and_then(Value::as_str).map(str::to_owned);
                        n.parent
                    });
                    if let Some(parent) = parent {
                        self.touch_up(parent, ts);
                    }
                }
                for change in data
                    .get("attributes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(id) = id_of(change) else { continue };
                    let Some(Value::Object(attrs)) = change.get("attributes") else {
                        continue;
                    };
                    if let Some(n) = self.nodes.get_mut(&id) {
                        for (k, v) in attrs {
                            if KEPT_ATTRIBUTES.contains(&k.as_str()) {
                                match v.as_str() {
                                    Some(v) => n.attrs.insert(k.clone(), v.to_owned()),
                                    None => n.attrs.remove(k),
                                };
                            }
                        }
                        self.touch_up(id, ts);
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds a serialized node and its subtree; returns its id.
    fn add(&mut self, node: &Value, parent: Option<i64>, ts: i64) -> Option<i64> {
        let id = id_of(node)?;
        if self.added >= MAX_NODES_PER_BATCH {
            self.full = true;
            return None;
        }
        // An id already in the mirror is a move (rrweb re-adds moved nodes) or a forgery that
        // would make a node its own ancestor: the node is detached from its old parent and
        // its subtree read again, never linked twice.
        if parent == Some(id) {
            return None;
        }
        if let Some(old) = self.nodes.remove(&id) {
            if let Some(p) = old.parent.and_then(|p| self.nodes.get_mut(&p)) {
                p.children.retain(|c| *c != id);
            }
        }
        self.added += 1;
        let kind = node.get("type").and_then(Value::as_u64);
        let mut n = Node {
            parent,
            ..Node::default()
        };
        match kind {
            Some(ELEMENT) => {
                let tag = node
                    .get("tagName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_lowercase();
                // The head and what never renders are not clicked.
                if matches!(
                    tag.as_str(),
                    "head" | "script" | "style" | "noscript" | "template"
                ) {
                    return None;
                }
                if let Some(Value::Object(attrs)) = node.get("attributes") {
                    n.attrs = kept(attrs);
                }
                n.tag = Some(tag);
            }
            Some(TEXT) => {
                // rrweb marks a <style>'s text; it is CSS, not words.
                if node.get("isStyle").and_then(Value::as_bool) == Some(true) {
                    return None;
                }
                n.text = node
                    .get("textContent")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            Some(DOCUMENT) => {}
            _ => return None,
        }
        let is_element = n.tag.is_some();
        self.nodes.insert(id, n);
        if is_element {
            self.touch(id, ts);
        }
        let children: Vec<i64> = node
            .get("childNodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(MAX_CHILDREN)
            .filter_map(|c| self.add(c, Some(id), ts))
            .collect();
        if let Some(n) = self.nodes.get_mut(&id) {
            n.children = children;
        }
        Some(id)
    }

    fn touch(&mut self, id: i64, ts: i64) {
        match self.seen.get(&id) {
            // A node's row starts when the batch first showed it: a later change (its text,
            // an attribute) renames it, but clicks in between hit the same element.
            Some(&at) => self.touched[at].1 = self.touched[at].1.min(ts),
            None => {
                self.seen.insert(id, self.touched.len());
                self.touched.push((id, ts));
            }
        }
    }

    /// A change inside an element changes its name and its control's: both are reported again.
    fn touch_up(&mut self, from: i64, ts: i64) {
        let mut at = Some(from);
        let mut steps = 0;
        while let Some(id) = at {
            let Some(n) = self.nodes.get(&id) else { break };
            let is_element = n.tag.is_some();
            let is_control = is_element && classify(n).1;
            let parent = n.parent;
            if is_element {
                self.touch(id, ts);
            }
            // Names are read up to the nearest control; past it nothing depends on this text.
            steps += 1;
            if is_control || steps > MAX_TOUCH_UP {
                break;
            }
            at = parent;
        }
    }

    /// Reports what the mirror holds now and forgets which elements were reported.
    fn flush(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        let mut texts: HashMap<i64, String> = HashMap::new();
        let labels = self.labels(&mut texts);
        for (id, since) in std::mem::take(&mut self.touched) {
            let Some(node) = self.nodes.get(&id) else {
                continue;
            };
            let Some(tag) = node.tag.clone() else {
                continue;
            };
            // The element's control: itself, or the nearest ancestor that is one.
            let (control_id, mut control) = self.control_of(id);
            let named = control_id.unwrap_or(id);
            let name = self.name_of(named, &labels, &mut texts);
            if control == control::STATIC && !reads_as_label(&self.text_of(id, &mut texts)) {
                control = control::CONTENT;
            }
            self.out.push(NodeRow {
                node_id: id,
                since_ms: since,
                tag,
                control,
                name,
            });
        }
        self.seen.clear();
    }

    /// The reported elements, in the order they became known.
    pub fn finish(mut self) -> Vec<NodeRow> {
        self.flush();
        self.out
    }

    /// Whether the batch described more elements than [`MAX_NODES_PER_BATCH`].
    pub fn truncated(&self) -> bool {
        self.full
    }

    fn control_of(&self, id: i64) -> (Option<i64>, &'static str) {
        let mut at = Some(id);
        let mut depth = 0;
        while let Some(i) = at {
            let Some(n) = self.nodes.get(&i) else { break };
            if n.tag.is_some() {
                let (kind, is_control) = classify(n);
                if is_control {
                    return (Some(i), kind);
                }
            }
            depth += 1;
            if depth > MAX_DEPTH {
                break;
            }
            at = n.parent;
        }
        (None, control::STATIC)
    }

    /// `label[for]` targets: element id attribute → the label's node id.
    fn labels(&self, texts: &mut HashMap<i64, String>) -> HashMap<String, i64> {
        let mut out = HashMap::new();
        let ids: Vec<i64> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.tag.as_deref() == Some("label") && n.attrs.contains_key("for"))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let target = self.nodes[&id].attrs["for"].clone();
            let _ = self.text_of(id, texts);
            out.insert(target, id);
        }
        out
    }

    fn name_of(
        &self,
        id: i64,
        labels: &HashMap<String, i64>,
        texts: &mut HashMap<i64, String>,
    ) -> Option<String> {
        let n = self.nodes.get(&id)?;
        let attr = |k: &str| {
            n.attrs
                .get(k)
                .map(|v| collapse(v))
                .filter(|v| !v.is_empty())
        };
        if let Some(v) = attr("aria-label") {
            return Some(v);
        }
        let tag = n.tag.as_deref().unwrap_or("");
        if matches!(tag, "input" | "select" | "textarea") {
            // Its label: one that names it by id, or one that wraps it.
            let by_for = n
                .attrs
                .get("id")
                .and_then(|i| labels.get(i))
                .map(|l| self.text_of(*l, texts))
                .filter(|t| !t.is_empty());
            let wrapping = || {
                self.ancestors(id)
                    .find(|a| {
                        self.nodes
                            .get(a)
                            .is_some_and(|n| n.tag.as_deref() == Some("label"))
                    })
                    .map(|l| self.text_of(l, texts))
                    .filter(|t| !t.is_empty())
            };
            if let Some(t) = by_for.or_else(wrapping) {
                return Some(t);
            }
            if matches!(
                n.attrs.get("type").map(String::as_str),
                Some("submit" | "button" | "reset")
            ) {
                // A button input's value is its visible label, and not typed text; rrweb
                // keeps it only as `value`, which is not read here.
                return attr("title").or_else(|| Some(tag.to_owned()));
            }
            return attr("placeholder")
                .or_else(|| attr("name"))
                .or_else(|| attr("id").map(|i| format!("#{i}")))
                .or_else(|| Some(tag.to_owned()));
        }
        if let Some(v) = attr("alt").or_else(|| attr("title")) {
            return Some(v);
        }
        // A contenteditable or a custom text box holds what the user typed: its text is never
        // its name (inputs are never read; neither are these).
        if classify(n).0 == control::EDITABLE && tag != "label" {
            return attr("placeholder")
                .or_else(|| attr("aria-placeholder"))
                .or_else(|| attr("id").map(|i| format!("#{i}")))
                .or_else(|| Some(tag.to_owned()));
        }
        let text = self.text_of(id, texts);
        if !text.is_empty() {
            return Some(text);
        }
        // An icon button: the name of the image inside.
        if let Some(v) = self.descendant_attr(id, &["aria-label", "alt", "title"]) {
            return Some(v);
        }
        attr("id")
            .map(|i| format!("#{i}"))
            .or_else(|| Some(tag.to_owned()))
    }

    fn ancestors(&self, id: i64) -> impl Iterator<Item = i64> + '_ {
        let mut at = self.nodes.get(&id).and_then(|n| n.parent);
        let mut depth = 0;
        // Stops at the first ancestor this batch does not know (one from an earlier batch).
        std::iter::from_fn(move || {
            let id = at?;
            let n = self.nodes.get(&id)?;
            depth += 1;
            if depth > MAX_DEPTH {
                return None;
            }
            at = n.parent;
            Some(id)
        })
    }

    fn descendant_attr(&self, id: i64, keys: &[&str]) -> Option<String> {
        let mut stack = vec![(id, 0)];
        let mut visited = 0;
        while let Some((i, depth)) = stack.pop() {
            visited += 1;
            if visited > MAX_ICON_SEARCH_NODES || depth > MAX_ICON_SEARCH_DEPTH {
                break;
            }
            let n = self.nodes.get(&i)?;
            if i != id {
                for k in keys {
                    if let Some(v) = n
                        .attrs
                        .get(*k)
                        .map(|v| collapse(v))
                        .filter(|v| !v.is_empty())
                    {
                        return Some(v);
                    }
                }
            }
            stack.extend(n.children.iter().map(|c| (*c, depth + 1)));
        }
        None
    }

    /// The element's text as read, whitespace collapsed and cut at [`MAX_NAME_CHARS`];
    /// memoized, so naming every element of a snapshot stays linear.
    fn text_of(&self, id: i64, memo: &mut HashMap<i64, String>) -> String {
        if let Some(t) = memo.get(&id) {
            return cut(t);
        }
        // Iterative post-order: a deep page cannot exhaust the stack. A node already on the
        // path is not entered again, and the visits are bounded, so no forged tree loops.
        let mut stack = vec![(id, false)];
        let mut open: std::collections::HashSet<i64> = std::collections::HashSet::new();
        let mut visits = 0usize;
        while let Some((i, done)) = stack.pop() {
            visits += 1;
            if visits > MAX_TEXT_VISITS {
                break;
            }
            if memo.contains_key(&i) {
                continue;
            }
            if !done && !open.insert(i) {
                continue;
            }
            let Some(n) = self.nodes.get(&i) else {
                memo.insert(i, String::new());
                continue;
            };
            if let Some(t) = &n.text {
                memo.insert(i, gathered(t));
                continue;
            }
            // What the user typed is no element's name, not even a container's.
            if holds_typed_text(n) {
                memo.insert(i, String::new());
                continue;
            }
            if !done {
                stack.push((i, true));
                stack.extend(
                    n.children
                        .iter()
                        .filter(|c| !memo.contains_key(c) && !open.contains(c))
                        .map(|c| (*c, false)),
                );
                continue;
            }
            let mut text = String::new();
            for c in &n.children {
                let t = memo.get(c).map(String::as_str).unwrap_or("");
                if t.is_empty() {
                    continue;
                }
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(t);
                if text.chars().count() >= MAX_GATHERED_CHARS {
                    break;
                }
            }
            memo.insert(i, gathered(&text));
        }
        let t = memo.get(&id).cloned().unwrap_or_default();
        cut(&t)
    }
}

fn kept(attrs: &Map<String, Value>) -> HashMap<String, String> {
    attrs
        .iter()
        .filter(|(k, _)| KEPT_ATTRIBUTES.contains(&k.as_str()))
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.chars().take(MAX_ATTRIBUTE_CHARS).collect())),
            // rrweb writes boolean attributes (`download`, `contenteditable`) as true or "".
            Value::Bool(true) => Some((k.clone(), String::new())),
            _ => None,
        })
        .collect()
}

/// Words a control's text has at most: "Estimate shipping", "Load more", not a paragraph.
const MAX_LABEL_WORDS: usize = 6;
/// And characters.
const MAX_LABEL_CHARS: usize = 60;

fn reads_as_label(text: &str) -> bool {
    let words = text.split_whitespace().count();
    (1..=MAX_LABEL_WORDS).contains(&words) && text.chars().count() <= MAX_LABEL_CHARS
}

fn collapse(s: &str) -> String {
    cut(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn gathered(s: &str) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(MAX_GATHERED_CHARS).collect()
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_NAME_CHARS {
        s.to_owned()
    } else {
        s.chars().take(MAX_NAME_CHARS).collect::<String>() + "…"
    }
}

/// An element whose text is what the user typed: a contenteditable, a text box by role, a
/// textarea.
fn holds_typed_text(n: &Node) -> bool {
    let attr = |k: &str| n.attrs.get(k).map(|v| v.to_ascii_lowercase());
    n.tag.as_deref() == Some("textarea")
        || attr("contenteditable").is_some_and(|v| v != "false")
        || matches!(attr("role").as_deref(), Some("textbox" | "searchbox"))
}

/// The control an element is, and whether it is one (rather than something inside one).
fn classify(n: &Node) -> (&'static str, bool) {
    let tag = n.tag.as_deref().unwrap_or("");
    let attr = |k: &str| n.attrs.get(k).map(|v| v.to_ascii_lowercase());
    if let Some(ce) = attr("contenteditable") {
        if ce != "false" {
            return (control::EDITABLE, true);
        }
    }
    match tag {
        "input" => match attr("type").as_deref() {
            Some("button" | "submit" | "reset" | "image") => (control::BUTTON, true),
            // Text, checkboxes, radios, files, ranges: a click focuses or sets them.
            _ => (control::EDITABLE, true),
        },
        "textarea" | "select" | "option" => (control::EDITABLE, true),
        // A label moves focus to its field.
        "label" => (control::EDITABLE, true),
        "a" if n.attrs.contains_key("href") => {
            let href = attr("href").unwrap_or_default();
            let external = n.attrs.contains_key("download")
                || attr("target").is_some_and(|t| t != "_self" && !t.is_empty())
                || href.starts_with("mailto:")
                || href.starts_with("tel:");
            (
                if external {
                    control::EXTERNAL
                } else {
                    control::LINK
                },
                true,
            )
        }
        "button" | "summary" => (control::BUTTON, true),
        _ => match attr("role").as_deref() {
            Some(
                "textbox" | "searchbox" | "combobox" | "checkbox" | "radio" | "switch" | "slider"
                | "spinbutton" | "option",
            ) => (control::EDITABLE, true),
            Some("link") => (control::LINK, true),
            Some("button" | "menuitem" | "tab" | "menuitemcheckbox" | "menuitemradio") => {
                (control::BUTTON, true)
            }
            _ => (control::STATIC, false),
        },
    }
}

/// The control a semantic event's `target.element` names (`button`, `INPUT#email`,
/// `a.nav-link`): its tag decides.
pub fn control_of_element(element: &str) -> &'static str {
    let tag: String = element
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if tag == "a" {
        // The event names a link; whether it had an href is not said.
        return control::LINK;
    }
    let n = Node {
        tag: Some(tag),
        ..Node::default()
    };
    classify(&n).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn el(id: i64, tag: &str, attrs: Value, children: Vec<Value>) -> Value {
        json!({"type": 2, "id": id, "tagName": tag, "attributes": attrs, "childNodes": children})
    }
    fn text(id: i64, t: &str) -> Value {
        json!({"type": 3, "id": id, "textContent": t})
    }
    fn snapshot(ts: i64, body: Vec<Value>) -> Value {
        json!({"type": 2, "timestamp": ts, "data": {"node": {"type": 0, "id": 1, "childNodes": [
            el(2, "html", json!({}), vec![
                el(3, "head", json!({}), vec![el(4, "title", json!({}), vec![text(5, "Shop")])]),
                el(6, "body", json!({}), body),
            ])
        ]}}})
    }
    fn rows(events: &[Value]) -> HashMap<i64, NodeRow> {
        let mut m = Mirror::default();
        for e in events {
            m.event(e);
        }
        m.finish().into_iter().map(|r| (r.node_id, r)).collect()
    }

    #[test]
    fn elements_are_named_as_read_and_classified() {
        let page = snapshot(
            1000,
            vec![
                el(
                    10,
                    "a",
                    json!({"href": "/cart", "class": "cart-link"}),
                    vec![
                        text(11, "Cart "),
                        el(12, "span", json!({"class": "badge"}), vec![text(13, "2")]),
                    ],
                ),
                el(
                    20,
                    "label",
                    json!({"for": "email"}),
                    vec![text(21, "Email")],
                ),
                el(
                    22,
                    "input",
                    json!({"id": "email", "type": "email", "value": "ada@x"}),
                    vec![],
                ),
                el(
                    30,
                    "div",
                    json!({"class": "fake-button", "style": "cursor: pointer"}),
                    vec![text(31, "  Estimate\n   shipping ")],
                ),
                el(
                    40,
                    "a",
                    json!({"href": "/r.csv", "download": ""}),
                    vec![text(41, "Download CSV")],
                ),
                el(
                    50,
                    "button",
                    json!({"aria-label": "Close"}),
                    vec![text(51, "×")],
                ),
                el(
                    60,
                    "input",
                    json!({"type": "text", "placeholder": "Promo code"}),
                    vec![],
                ),
                el(70, "p", json!({}), vec![text(71, &"word ".repeat(50))]),
            ],
        );
        let r = rows(&[page]);
        assert!(!r.contains_key(&4), "the head is not kept");
        assert_eq!(
            r[&12].name.as_deref(),
            Some("Cart 2"),
            "a badge reads with its link"
        );
        assert_eq!(r[&12].control, control::LINK);
        assert_eq!(r[&12].tag, "span");
        assert_eq!(r[&10].since_ms, 1000);
        assert_eq!(
            (r[&22].name.as_deref(), r[&22].control),
            (Some("Email"), control::EDITABLE)
        );
        assert_eq!(
            r[&20].control,
            control::EDITABLE,
            "a label focuses its field"
        );
        assert_eq!(
            (r[&30].name.as_deref(), r[&30].control),
            (Some("Estimate shipping"), control::STATIC)
        );
        assert_eq!(r[&40].control, control::EXTERNAL);
        assert_eq!(r[&50].name.as_deref(), Some("Close"));
        assert_eq!(r[&60].name.as_deref(), Some("Promo code"));
        assert_eq!(
            r[&70].control,
            control::CONTENT,
            "a paragraph is not a control"
        );
        assert_eq!(r[&6].control, control::CONTENT, "nor is the page");
        let p = r[&70].name.as_deref().unwrap();
        assert!(
            p.chars().count() <= MAX_NAME_CHARS + 1 && p.ends_with('…'),
            "{p}"
        );
        assert!(
            !format!("{r:?}").contains("ada@x"),
            "input values are never read"
        );
    }

    #[test]
    fn mutations_add_and_rename_and_a_new_page_starts_over() {
        let page = snapshot(
            1000,
            vec![el(10, "button", json!({}), vec![text(11, "Add to cart")])],
        );
        let added = json!({"type": 3, "timestamp": 1500, "data": {"source": 0,
            "adds": [
                {"parentId": 6, "nextId": null, "node": el(80, "div", json!({"role": "button"}), vec![])},
                {"parentId": 80, "nextId": null, "node": text(81, "Load more")}
            ],
            "texts": [{"id": 11, "value": "Added"}], "attributes": [], "removes": []}});
        let next_page = snapshot(
            3000,
            vec![el(10, "textarea", json!({"name": "note"}), vec![])],
        );
        let mut m = Mirror::default();
        m.event(&page);
        m.event(&added);
        let first: Vec<NodeRow> = {
            let mut m2 = Mirror::default();
            m2.event(&page);
            m2.event(&added);
            m2.finish()
        };
        let b80 = first.iter().find(|r| r.node_id == 80).unwrap();
        assert_eq!(
            (b80.name.as_deref(), b80.control, b80.since_ms),
            (Some("Load more"), control::BUTTON, 1500)
        );
        let b10 = first.iter().find(|r| r.node_id == 10).unwrap();
        assert_eq!(
            (b10.name.as_deref(), b10.since_ms),
            (Some("Added"), 1000),
            "renamed, from when it was first shown"
        );
        // An attribute change later in the batch does not move where the element starts.
        let mut m3 = Mirror::default();
        m3.event(&page);
        m3.event(
            &json!({"type": 3, "timestamp": 2500, "data": {"source": 0, "adds": [], "texts": [],
            "removes": [], "attributes": [{"id": 10, "attributes": {"title": "Add it"}}]}}),
        );
        let rows = m3.finish();
        assert_eq!(
            rows.iter().find(|r| r.node_id == 10).unwrap().since_ms,
            1000
        );
        m.event(&next_page);
        let all = m.finish();
        let latest = all.iter().rfind(|r| r.node_id == 10).unwrap();
        assert_eq!(
            (latest.tag.as_str(), latest.control, latest.since_ms),
            ("textarea", control::EDITABLE, 3000),
            "node ids restart with a page load"
        );
    }

    #[test]
    fn children_added_last_first_read_in_page_order() {
        let page = snapshot(1000, vec![]);
        let added = json!({"type": 3, "timestamp": 1500, "data": {"source": 0, "texts": [],
        "attributes": [], "removes": [], "adds": [
            {"parentId": 6, "nextId": null, "node": el(90, "label", json!({"for": "card"}), vec![])},
            {"parentId": 90, "nextId": null, "node": text(93, "(test cards)")},
            {"parentId": 90, "nextId": 93, "node": text(92, "number")},
            {"parentId": 90, "nextId": 92, "node": text(91, "Card")},
            {"parentId": 6, "nextId": null, "node": el(94, "input", json!({"id": "card"}), vec![])},
        ]}});
        let r = rows(&[page, added]);
        assert_eq!(r[&94].name.as_deref(), Some("Card number (test cards)"));
    }

    #[test]
    fn a_field_added_under_a_parent_of_an_earlier_batch_is_named() {
        // The form's container came in an earlier batch: this one knows only the new nodes.
        let added = json!({"type": 3, "timestamp": 1500, "data": {"source": 0, "texts": [],
        "attributes": [], "removes": [], "adds": [
            {"parentId": 400, "nextId": null, "node": el(401, "input", json!({"name": "q"}), vec![])},
        ]}});
        let r = rows(&[added]);
        assert_eq!(
            (r[&401].name.as_deref(), r[&401].control),
            (Some("q"), control::EDITABLE)
        );
    }

    #[test]
    fn replaced_text_names_by_what_the_page_shows() {
        let page = snapshot(
            1000,
            vec![el(10, "button", json!({}), vec![text(11, "Loading…")])],
        );
        let swap = json!({"type": 3, "timestamp": 1200, "data": {"source": 0, "texts": [],
            "attributes": [], "removes": [{"parentId": 10, "id": 11}],
            "adds": [{"parentId": 10, "nextId": null, "node": text(12, "Add to cart")}]}});
        let r = rows(&[page, swap]);
        assert_eq!(r[&10].name.as_deref(), Some("Add to cart"));
    }

    #[test]
    fn forged_loops_end() {
        // A node that claims to be its own child, and two that claim each other.
        let own = json!({"type": 3, "timestamp": 10, "data": {"source": 0, "texts": [],
        "attributes": [], "removes": [], "adds": [
            {"parentId": 6, "nextId": null, "node": el(50, "div", json!({}), vec![el(50, "span", json!({}), vec![])])},
            {"parentId": 50, "nextId": null, "node": el(50, "b", json!({}), vec![])},
            {"parentId": 60, "nextId": null, "node": el(61, "div", json!({}), vec![])},
            {"parentId": 61, "nextId": null, "node": el(60, "div", json!({}), vec![text(62, "x")])},
            {"parentId": 60, "nextId": null, "node": el(61, "div", json!({}), vec![])},
        ]}});
        let r = rows(&[snapshot(1, vec![]), own]);
        assert!(r.contains_key(&50) && r.contains_key(&60));
    }

    #[test]
    fn what_is_typed_into_an_editable_element_never_names_it() {
        let page = snapshot(
            1,
            vec![el(
                70,
                "div",
                json!({"contenteditable": "true", "placeholder": "Message"}),
                vec![text(71, "my secret note")],
            )],
        );
        let r = rows(&[page]);
        assert_eq!(r[&70].name.as_deref(), Some("Message"));
        assert!(!format!("{r:?}").contains("secret"));
    }

    #[test]
    fn hostile_snapshots_are_bounded() {
        // Wide groups, each under the per-node child cap, past the batch's node cap together.
        let per = MAX_CHILDREN as i64 / 2;
        let groups = MAX_NODES_PER_BATCH as i64 / per + 1;
        let many: Vec<Value> = (0..groups)
            .map(|g| {
                let kids = (0..per)
                    .map(|i| el(1_000 + g * per + i, "span", json!({}), vec![]))
                    .collect();
                el(100 + g, "div", json!({}), kids)
            })
            .collect();
        let mut m = Mirror::default();
        m.event(&snapshot(1, many.clone()));
        assert!(m.truncated());
        // The cap holds for the batch, not each snapshot in it.
        m.event(&snapshot(2, many));
        assert!(m.finish().len() <= MAX_NODES_PER_BATCH);
    }

    #[test]
    fn semantic_elements_are_classified_by_tag() {
        assert_eq!(control_of_element("INPUT#email"), control::EDITABLE);
        assert_eq!(control_of_element("button.primary"), control::BUTTON);
        assert_eq!(control_of_element("div"), control::STATIC);
        assert_eq!(control_of_element("a"), control::LINK);
    }
}
