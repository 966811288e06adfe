//! Recorder batches (`POST /v1/replay`): validation, the facts the store indexes (time range,
//! full snapshots, pages, session meta), and compression.
//!
//! Body: `{ "sessionId", "batch", "events": [rrweb events], "meta": { "userId"?, "userEmail"?,
//! "url"?, "userAgent"?, "viewport"?, …free attributes } }`. A batch is all or nothing: one bad
//! event refuses the batch, with a message that names it.

use serde_json::{Map, Value};
use sightline_store::model::{ReplayChunkRow, ReplayMeta, SessionEventRow};

use crate::error::{IngestError, Result};

use crate::session::{valid_id, MAX_SESSION_ID_LEN};

/// Events in one batch. The recorder sends a few seconds' worth; a full snapshot is one event.
pub const MAX_EVENTS_PER_BATCH: usize = 100_000;

/// rrweb's event types run from 0 (DomContentLoaded) to 6 (Plugin).
const MAX_EVENT_TYPE: u64 = 6;
const FULL_SNAPSHOT: u64 = 2;
const META: u64 = 4;

/// zstd level for chunks: compression runs on the request's task, and level 9 buys noticeably
/// smaller DOM snapshots than the default 3 at a cost still far below decoding the JSON.
const ZSTD_LEVEL: i32 = 9;

/// Accepts `application/json`, and `text/plain` because `navigator.sendBeacon` cannot set
/// another type without a CORS preflight.
pub fn check_content_type(header: Option<&str>) -> Result<()> {
    match crate::content::media_type(header).as_str() {
        "application/json" | "text/plain" => Ok(()),
        _ => Err(IngestError::UnsupportedReplayMediaType(
            header.unwrap_or("").to_owned(),
        )),
    }
}

fn bad(reason: impl Into<String>) -> IngestError {
    IngestError::Decode {
        message: "replay batch",
        format: "JSON",
        reason: reason.into(),
    }
}

fn text(meta: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("meta.{key} must be a string"))),
    }
}

/// Decodes, validates and compresses one batch. `None` for a batch with no events (nothing to
/// store; the recorder may flush an empty batch on unload).
pub fn decode(body: &[u8], received_ms: i64) -> Result<Option<ReplayChunkRow>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    let Value::Object(mut top) = value else {
        return Err(bad("the body must be a JSON object"));
    };

    let session_id = match top.get("sessionId") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("sessionId must be a string")),
        None => return Err(bad("sessionId is missing")),
    };
    let batch = match top.get("batch") {
        Some(Value::Number(n)) => {
            n.as_u64()
                .filter(|b| *b <= i64::MAX as u64)
                .ok_or_else(|| bad("batch must be a non-negative integer"))? as i64
        }
        Some(_) => return Err(bad("batch must be a non-negative integer")),
        None => return Err(bad("batch is missing")),
    };
    let events = match top.remove("events") {
        Some(Value::Array(events)) => events,
        Some(_) => return Err(bad("events must be an array")),
        None => return Err(bad("events is missing")),
    };
    let meta = match top.remove("meta") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("meta must be an object")),
    };
    build_chunk(session_id, batch, events, &meta, received_ms)
}

/// Validates a session's batch of rrweb events and turns it into a stored chunk. Shared by
/// `/v1/replay` and the replay that arrives inside OTLP logs.
pub fn build_chunk(
    session_id: String,
    batch: i64,
    mut events: Vec<Value>,
    meta: &Map<String, Value>,
    received_ms: i64,
) -> Result<Option<ReplayChunkRow>> {
    // Checked here, not by each caller: a bundle's or an OTLP log's batch meets the same rule.
    if session_id.chars().any(char::is_control) {
        return Err(bad("sessionId must not contain control characters"));
    }
    let Some(session_id) = valid_id(&session_id).map(str::to_owned) else {
        return Err(bad(format!(
            "sessionId must be 1 to {MAX_SESSION_ID_LEN} characters"
        )));
    };
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(bad(format!(
            "a batch holds at most {MAX_EVENTS_PER_BATCH} events; this one has {}",
            events.len()
        )));
    }
    let mut first_ms = i64::MAX;
    let mut last_ms = i64::MIN;
    let mut checkpoints = Vec::new();
    let mut pages = Vec::new();
    for (i, event) in events.iter_mut().enumerate() {
        let Value::Object(e) = event else {
            return Err(bad(format!("events[{i}] must be an object")));
        };
        let kind = e
            .get("type")
            .and_then(Value::as_u64)
            .filter(|t| *t <= MAX_EVENT_TYPE)
            .ok_or_else(|| {
                bad(format!(
                    "events[{i}].type must be an rrweb event type (an integer 0-{MAX_EVENT_TYPE})"
                ))
            })?;
        let ts = e
            .get("timestamp")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e15)
            .ok_or_else(|| {
                bad(format!(
                    "events[{i}].timestamp must be a positive number of Unix milliseconds"
                ))
            })? as i64;
        if !e.contains_key("data") {
            return Err(bad(format!("events[{i}].data is missing")));
        }
        first_ms = first_ms.min(ts);
        last_ms = last_ms.max(ts);
        if kind == FULL_SNAPSHOT {
            checkpoints.push((ts, i as u32));
        }
        if kind == META {
            // A page's address may carry `?token=…`: redacted where the player and the
            // pages list read it.
            if let Some(Value::String(href)) = e.get_mut("data").and_then(|d| d.get_mut("href")) {
                *href = sightline_store::redact::redacted(std::mem::take(href));
                pages.push((href.clone(), ts));
            }
        }
    }
    let url = text(meta, "url")?.map(sightline_store::redact::redacted);
    if let Some(url) = &url {
        if !pages.iter().any(|(p, _)| p == url) {
            pages.push((url.clone(), first_ms));
        }
    }
    let viewport = match meta.get("viewport") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.to_string()),
        Some(_) => return Err(bad("meta.viewport must be an object")),
    };
    let known = ["userId", "userEmail", "url", "userAgent", "viewport"];
    let mut attributes = Value::Object(
        meta.iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    // Free attributes are whatever the page sent: redacted by name and content, like spans'.
    sightline_store::redact::redact(&mut attributes);
    // Clients that send no meta URL (rrweb-only, HyperDX) still have page views: the batch's
    // first page view is its URL.
    let url = url.or_else(|| pages.iter().min_by_key(|(_, t)| *t).map(|(p, _)| p.clone()));
    let meta = ReplayMeta {
        user_id: text(meta, "userId")?,
        user_email: text(meta, "userEmail")?,
        url,
        user_agent: text(meta, "userAgent")?,
        viewport,
        attributes: attributes.to_string(),
    };
    // Checked after meta, so a bad batch is refused even when it has no events.
    if events.is_empty() {
        return Ok(None);
    }
    // The second line of defence behind the recorder's own redaction: captured headers and
    // payloads (custom events) never reach the chunk or the index with a credential in them.
    for event in &mut events {
        if event.get("type").and_then(Value::as_u64) == Some(CUSTOM) {
            if let Some(payload) = event.get_mut("data").and_then(|d| d.get_mut("payload")) {
                sightline_store::redact::redact(payload);
            }
        }
    }

    let json = serde_json::to_vec(&events).map_err(|e| bad(e.to_string()))?;
    let data = zstd::bulk::compress(&json, ZSTD_LEVEL).map_err(|e| bad(e.to_string()))?;
    let index = index_events(&events);
    // Single-page navigations and the pages semantic events name are pages of the session
    // too, not only the page each document loaded at.
    let mut known: std::collections::HashSet<String> =
        pages.iter().map(|(p, _)| p.clone()).collect();
    for e in index.iter().filter(|e| e.kind == "page_view") {
        if known.len() >= MAX_PAGES_PER_BATCH {
            break;
        }
        if let Some(url) = &e.target {
            if known.insert(url.clone()) {
                pages.push((url.clone(), e.timestamp_ms));
            }
        }
    }
    let mut mirror = crate::dom::Mirror::default();
    for event in &events {
        mirror.event(event);
    }
    Ok(Some(ReplayChunkRow {
        session_id,
        batch,
        first_ms,
        last_ms,
        event_count: events.len() as u32,
        raw_bytes: json.len() as u64,
        data,
        checkpoints,
        pages,
        meta,
        received_ms,
        index,
        nodes: mirror.finish(),
    }))
}

/// Longest text kept for an indexed event's target (a console message, a URL).
const MAX_TARGET_CHARS: usize = 500;
/// Largest JSON detail kept for an indexed event; larger payloads keep only their shape.
const MAX_DATA_BYTES: usize = 4096;
/// Largest detail kept for a network event: the recorder caps each captured body at 64 KiB,
/// so two bodies, their headers and JSON escaping fit.
const MAX_NETWORK_DATA_BYTES: usize = 320 * 1024;
/// Longest incident id taken from a client; the engine's ids are far shorter.
const MAX_INCIDENT_ID_CHARS: usize = 64;
/// rrweb's click and the recorder's named click of it are at most this far apart (both come
/// from the same DOM event; the slack covers a busy main thread).
const CLICK_PAIR_MS: i64 = 50;
/// DOM mutations (and text selection changes) are indexed at most once per this many ms: the
/// dead-click rule asks only whether the page changed, and a busy page mutates hundreds of
/// times a second.
const DOM_BUCKET_MS: i64 = 100;
/// Longest frustration type a client may report; the engine's own names are far shorter.
const MAX_SIGNAL_NAME_CHARS: usize = 40;
/// Pages one batch may add to its session: a page that rewrites its URL as the user types
/// (`replaceState`) makes many; the session keeps the first this many of each batch.
const MAX_PAGES_PER_BATCH: usize = 200;
/// A reported signal's numbers are kept only within these bounds (a score is at most
/// [`MAX_REPORTED_SCORE`]; a burst has at most this many clicks and lasts at most this long).
const MAX_REPORTED_SCORE: f64 = 100.0;
const MAX_REPORTED_CLICKS: f64 = 10_000.0;
const MAX_REPORTED_DURATION_MS: f64 = 3_600_000.0;

/// The signal types a client may report, as the rules name them; any other is kept as
/// `reported`, with the client's name for it.
fn reported_kind(name: &str) -> &'static str {
    match name {
        "rage" | "rage_click" => "rage_click",
        "dead" | "dead_click" => "dead_click",
        "error" | "error_click" => "error_click",
        "thrash" | "thrashing" => "thrashing",
        _ => "reported",
    }
}

/// A reported signal's kind and the facts the rules read, taken out of the record's
/// attributes here (they may be too large to keep whole) and bounded.
fn reported_signal(name: &str, payload: &Value) -> (&'static str, String) {
    let num = |k: &str, max: f64| {
        let v = match payload.get(k) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        v.filter(|v: &f64| v.is_finite() && (0.0..=max).contains(v))
    };
    let kind = reported_kind(name);
    let mut data = serde_json::json!({
        "score": num("frustration.score", MAX_REPORTED_SCORE),
        "clickCount": num("frustration.click_count", MAX_REPORTED_CLICKS).map(|n| n as i64),
        "durationMs": num("frustration.duration_ms", MAX_REPORTED_DURATION_MS),
    });
    if kind == "reported" {
        data["type"] = Value::String(name.chars().take(MAX_SIGNAL_NAME_CHARS).collect());
    }
    (kind, data.to_string())
}

// rrweb's incremental sources and mouse interactions (rrweb `IncrementalSource`,
// `MouseInteractions`).
const SOURCE_MUTATION: u64 = 0;
const SOURCE_MOUSE_INTERACTION: u64 = 2;
const SOURCE_SCROLL: u64 = 3;
const SOURCE_INPUT: u64 = 5;
const SOURCE_SELECTION: u64 = 14;
const MOUSE_CLICK: u64 = 2;
const MOUSE_FOCUS: u64 = 5;
const INCREMENTAL: u64 = 3;
const CUSTOM: u64 = 5;
const PLUGIN: u64 = 6;

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TARGET_CHARS {
        s.to_owned()
    } else {
        s.chars().take(MAX_TARGET_CHARS).collect::<String>() + "…"
    }
}

fn detail(v: &Value) -> String {
    detail_within(v, MAX_DATA_BYTES)
}

fn detail_within(v: &Value, max: usize) -> String {
    let text = v.to_string();
    if text.len() <= max {
        text
    } else {
        serde_json::json!({ "truncated": true, "bytes": text.len() }).to_string()
    }
}

fn hex_id(v: Option<&Value>, len: usize) -> Option<String> {
    let s = v?.as_str()?.to_ascii_lowercase();
    (s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0'))
        .then_some(s)
}

/// The meaningful events of a batch: page views, clicks, inputs (never their text), network
/// requests, console output, errors, custom events, DOM activity and scrolls. Works on any
/// rrweb stream; the Sightline recorder's custom events (`network`, `error`, `click`) add what
/// rrweb alone does not say (trace ids, semantic click targets).
pub fn index_events(events: &[Value]) -> Vec<SessionEventRow> {
    let mut out: Vec<SessionEventRow> = Vec::new();
    let mut last_dom_bucket = i64::MIN;
    let mut last_selection_bucket = i64::MIN;
    // Semantic events name their page on each event; a change of it is a page view.
    let mut semantic_page: Option<String> = None;
    for e in events {
        let ts = e.get("timestamp").and_then(Value::as_f64).unwrap_or(0.0) as i64;
        let data = e.get("data").unwrap_or(&Value::Null);
        let num = |k: &str| data.get(k).and_then(Value::as_f64);
        // The recorder stamps events captured in an incident window (top level, or in a
        // custom event's payload).
        let incident_id = e
            .get("incidentId")
            .or_else(|| data.get("payload").and_then(|p| p.get("incidentId")))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.chars().count() <= MAX_INCIDENT_ID_CHARS)
            .map(str::to_owned);
        let row = |kind: &'static str| SessionEventRow {
            timestamp_ms: ts,
            kind,
            data: "{}".into(),
            incident_id: incident_id.clone(),
            ..Default::default()
        };
        match e.get("type").and_then(Value::as_u64) {
            Some(META) => {
                if let Some(href) = data.get("href").and_then(Value::as_str) {
                    out.push(SessionEventRow {
                        target: Some(clip(href)),
                        ..row("page_view")
                    });
                }
            }
            Some(INCREMENTAL) => match data.get("source").and_then(Value::as_u64) {
                Some(SOURCE_MUTATION) => {
                    let bucket = ts.div_euclid(DOM_BUCKET_MS);
                    if bucket != last_dom_bucket {
                        last_dom_bucket = bucket;
                        out.push(row("dom"));
                    }
                }
                Some(SOURCE_MOUSE_INTERACTION)
                    if data.get("type").and_then(Value::as_u64) == Some(MOUSE_CLICK) =>
                {
                    let node_id = data.get("id").and_then(Value::as_i64);
                    // The recorder's named click of the same moment may come first (its listener
                    // is older than rrweb's when rrweb waited for `load`): one click, not two.
                    match out.iter_mut().rev().find(|r| {
                        r.kind == "click"
                            && r.node_id.is_none()
                            && r.target.is_some()
                            && (r.timestamp_ms - ts).abs() <= CLICK_PAIR_MS
                    }) {
                        Some(click) => {
                            click.node_id = node_id;
                            click.x = click.x.or(num("x"));
                            click.y = click.y.or(num("y"));
                        }
                        None => out.push(SessionEventRow {
                            node_id,
                            x: num("x"),
                            y: num("y"),
                            ..row("click")
                        }),
                    }
                }
                // A click that focuses a control answered it (rrweb records focus as a mouse
                // interaction).
                Some(SOURCE_MOUSE_INTERACTION)
                    if data.get("type").and_then(Value::as_u64) == Some(MOUSE_FOCUS) =>
                {
                    out.push(SessionEventRow {
                        node_id: data.get("id").and_then(Value::as_i64),
                        ..row("focus")
                    })
                }
                Some(SOURCE_SELECTION) => {
                    let bucket = ts.div_euclid(DOM_BUCKET_MS);
                    if bucket != last_selection_bucket {
                        last_selection_bucket = bucket;
                        out.push(row("selection"));
                    }
                }
                Some(SOURCE_SCROLL) => out.push(SessionEventRow {
                    node_id: data.get("id").and_then(Value::as_i64),
                    x: num("x"),
                    y: num("y"),
                    ..row("scroll")
                }),
                Some(SOURCE_INPUT) => out.push(SessionEventRow {
                    node_id: data.get("id").and_then(Value::as_i64),
                    ..row("input")
                }),
                _ => {}
            },
            Some(CUSTOM) => {
                let tag = data.get("tag").and_then(Value::as_str).unwrap_or("");
                let payload = data.get("payload").unwrap_or(&Value::Null);
                let field = |k: &str| payload.get(k).and_then(Value::as_str).map(clip);
                let attr = |k: &str| payload.get(k).and_then(Value::as_str).map(clip);
                let name = tag.trim_start_matches("sightline.");
                // The OpenTelemetry session-replay agents' semantic events (log_replay.rs) say
                // which page they happened on.
                if name.starts_with("user.") {
                    if let Some(url) = attr("page.url") {
                        if semantic_page.as_deref() != Some(url.as_str())
                            && name != "user.navigation"
                        {
                            semantic_page = Some(url.clone());
                            // Derived: the writer drops it when the session is already on this
                            // page (each export starts with no page known).
                            out.push(SessionEventRow {
                                target: Some(url),
                                data: sightline_store::model::DERIVED_PAGE_VIEW.into(),
                                ..row("page_view")
                            });
                        }
                    }
                }
                match name {
                    "user.click" => out.push(SessionEventRow {
                        target: attr("target.semantic_name").or_else(|| attr("target.element")),
                        control: attr("target.element").map(|e| crate::dom::control_of_element(&e)),
                        data: detail(payload),
                        ..row("click")
                    }),
                    "user.navigation" => {
                        let url = attr("page.url")
                            .or_else(|| attr("url.full"))
                            .or_else(|| attr("navigation.to"));
                        semantic_page = url.clone();
                        out.push(SessionEventRow {
                            target: url,
                            data: detail(payload),
                            ..row("page_view")
                        })
                    }
                    "user.error" => out.push(SessionEventRow {
                        target: attr("error.message").or_else(|| attr("error.type")),
                        data: detail(payload),
                        ..row("error")
                    }),
                    // A signal the client found itself: the rules take it as the session's
                    // (frustration.rs), marked as reported.
                    t if t.starts_with("user.frustration.") => {
                        let named = attr("frustration.type")
                            .unwrap_or_else(|| t["user.frustration.".len()..].to_owned());
                        let (kind, data) = reported_signal(&named, payload);
                        out.push(SessionEventRow {
                            target: attr("target.semantic_name").or_else(|| attr("target.element")),
                            level: Some(kind.to_owned()),
                            data,
                            ..row("frustration")
                        })
                    }
                    // The recorder's SPA navigations (history API) are page views.
                    "navigation" => out.push(SessionEventRow {
                        target: field("url"),
                        ..row("page_view")
                    }),
                    t if t.starts_with("page.") && attr("page.url").is_some() => {
                        out.push(SessionEventRow {
                            target: attr("page.url"),
                            ..row("page_view")
                        })
                    }
                    "network" => out.push(SessionEventRow {
                        target: field("url"),
                        level: payload.get("status").map(|s| match s {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        }),
                        trace_id: hex_id(payload.get("traceId"), 32),
                        span_id: hex_id(payload.get("spanId"), 16),
                        data: detail_within(payload, MAX_NETWORK_DATA_BYTES),
                        ..row("network")
                    }),
                    "error" => out.push(SessionEventRow {
                        target: field("message"),
                        data: detail(payload),
                        ..row("error")
                    }),
                    "click" => {
                        // The recorder names the element a click hit; attach the name to
                        // rrweb's own click of the same moment, or index the click itself.
                        let target = field("target");
                        match out.iter_mut().rev().find(|r| {
                            r.kind == "click"
                                && r.target.is_none()
                                && (r.timestamp_ms - ts).abs() <= CLICK_PAIR_MS
                        }) {
                            Some(click) => click.target = target,
                            None => out.push(SessionEventRow {
                                target,
                                x: payload.get("x").and_then(Value::as_f64),
                                y: payload.get("y").and_then(Value::as_f64),
                                ..row("click")
                            }),
                        }
                    }
                    _ => out.push(SessionEventRow {
                        target: Some(clip(tag)),
                        data: detail(payload),
                        ..row("custom")
                    }),
                }
            }
            Some(PLUGIN)
                if data.get("plugin").and_then(Value::as_str) == Some("rrweb/console@1") =>
            {
                let payload = data.get("payload").unwrap_or(&Value::Null);
                let message = payload
                    .get("payload")
                    .and_then(Value::as_array)
                    .map(|parts| {
                        parts
                            .iter()
                            .map(|p| match p.as_str() {
                                // rrweb's console plugin sends each argument JSON-encoded: a
                                // string argument arrives in quotes, shown as the page
                                // printed it.
                                Some(s) => serde_json::from_str::<String>(s)
                                    .unwrap_or_else(|_| s.to_owned()),
                                None => p.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    });
                out.push(SessionEventRow {
                    level: payload
                        .get("level")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    target: message.as_deref().map(clip),
                    data: detail(payload),
                    ..row("console")
                });
            }
            _ => {}
        }
    }
    out.sort_by_key(|r| r.timestamp_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn a_valid_batch_is_indexed_and_compressed() {
        let b = body(json!({
            "sessionId": "s-1", "batch": 3,
            "events": [
                {"type": 4, "data": {"href": "http://shop/cart", "width": 800, "height": 600}, "timestamp": 1000},
                {"type": 2, "data": {"node": {}}, "timestamp": 1001},
                {"type": 3, "data": {"source": 2}, "timestamp": 1500.7}
            ],
            "meta": {"userId": "u1", "url": "http://shop/cart", "userAgent": "UA",
                     "viewport": {"width": 800, "height": 600}, "plan": "pro"}
        }));
        let c = decode(&b, 5).unwrap().unwrap();
        assert_eq!((c.first_ms, c.last_ms, c.event_count), (1000, 1500, 3));
        assert_eq!(c.checkpoints, vec![(1001, 1)]);
        assert_eq!(c.pages, vec![("http://shop/cart".to_owned(), 1000)]);
        assert_eq!(c.meta.user_id.as_deref(), Some("u1"));
        assert_eq!(c.meta.attributes, r#"{"plan":"pro"}"#);
        let events: Value =
            serde_json::from_slice(&zstd::bulk::decompress(&c.data, 1 << 20).unwrap()).unwrap();
        assert_eq!(events[2]["timestamp"], 1500.7);
    }

    #[test]
    fn captured_requests_are_redacted_kept_whole_and_marked_with_their_incident() {
        let big = "x".repeat(60 * 1024);
        let b = body(json!({
            "sessionId": "s-1", "batch": 1,
            "events": [
                {"type": 5, "incidentId": "inc-1", "timestamp": 1000, "data": {"tag": "sightline.network", "payload": {
                    "method": "POST", "url": "http://shop/api/pay", "status": 402, "incidentId": "inc-1",
                    "requestHeaders": {"authorization": "Bearer abc", "content-type": "application/json"},
                    "requestBody": "{\"cardNumber\":\"4111\",\"qty\":2}",
                    "responseBody": big,
                }}},
                {"type": 6, "incidentId": "inc-1", "timestamp": 1001, "data": {"plugin": "rrweb/console@1", "payload": {"level": "debug", "payload": ["\"cart\""]}}},
                {"type": 3, "timestamp": 1002, "data": {"source": 2, "type": 2, "id": 9}}
            ]
        }));
        let c = decode(&b, 5).unwrap().unwrap();
        let ids: Vec<_> = c.index.iter().map(|r| r.incident_id.as_deref()).collect();
        assert_eq!(ids, vec![Some("inc-1"), Some("inc-1"), None]);
        let network: Value = serde_json::from_str(&c.index[0].data).unwrap();
        assert_eq!(network["requestHeaders"]["authorization"], "[REDACTED]");
        assert_eq!(
            network["requestHeaders"]["content-type"],
            "application/json"
        );
        assert_eq!(
            network["requestBody"],
            r#"{"cardNumber":"[REDACTED]","qty":2}"#
        );
        assert_eq!(
            network["responseBody"].as_str().map(str::len),
            Some(60 * 1024)
        );
        // The stored replay holds the redacted request too.
        let raw = zstd::bulk::decompress(&c.data, 1 << 20).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        assert!(
            !raw.contains("Bearer abc") && !raw.contains("4111"),
            "{}",
            &raw[..300]
        );
    }

    #[test]
    fn bad_batches_say_what_is_wrong() {
        let cases = [
            (json!([]), "JSON object"),
            (json!({"batch": 1, "events": []}), "sessionId is missing"),
            (
                json!({"sessionId": "", "batch": 1, "events": []}),
                "sessionId must be 1 to",
            ),
            (
                json!({"sessionId": "s", "batch": -1, "events": []}),
                "batch must be",
            ),
            (json!({"sessionId": "s", "batch": 1}), "events is missing"),
            (
                json!({"sessionId": "s", "batch": 1, "events": [{"type": 9, "data": {}, "timestamp": 1}]}),
                "events[0].type",
            ),
            (
                json!({"sessionId": "s", "batch": 1, "events": [{"type": 3, "data": {}, "timestamp": 5}, {"type": 3, "data": {}}]}),
                "events[1].timestamp",
            ),
            (
                json!({"sessionId": "s", "batch": 1, "events": [{"type": 3, "timestamp": 5}]}),
                "events[0].data",
            ),
            (
                json!({"sessionId": "s", "batch": 1, "events": [], "meta": {"userId": 7}}),
                "meta.userId",
            ),
        ];
        for (v, expected) in cases {
            let err = decode(&body(v.clone()), 0).unwrap_err().to_string();
            assert!(err.contains(expected), "{v}: {err}");
        }
    }

    #[test]
    fn meaningful_events_are_indexed_and_input_text_is_not() {
        let events = vec![
            json!({"type": 4, "data": {"href": "http://shop/"}, "timestamp": 1000}),
            json!({"type": 3, "data": {"source": 0, "adds": []}, "timestamp": 1010}),
            json!({"type": 3, "data": {"source": 0, "adds": []}, "timestamp": 1050}),
            json!({"type": 3, "data": {"source": 2, "type": 2, "id": 9, "x": 10, "y": 20}, "timestamp": 1100}),
            json!({"type": 5, "data": {"tag": "sightline.click", "payload": {"target": "Add to cart"}}, "timestamp": 1101}),
            json!({"type": 3, "data": {"source": 5, "id": 12, "text": "hunter2"}, "timestamp": 1200}),
            json!({"type": 5, "data": {"tag": "network", "payload": {"method": "POST", "url": "/api/cart", "status": 500, "durationMs": 12, "traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "b7ad6b7169203331"}}, "timestamp": 1300}),
            json!({"type": 6, "data": {"plugin": "rrweb/console@1", "payload": {"level": "error", "payload": ["\"boom\"", "42"]}}, "timestamp": 1400}),
            json!({"type": 5, "data": {"tag": "checkout.step", "payload": {"step": 2}}, "timestamp": 1500}),
            json!({"type": 5, "data": {"tag": "sightline.navigation", "payload": {"url": "http://shop/cart"}}, "timestamp": 1600}),
        ];
        let rows = index_events(&events);
        let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                "page_view",
                "dom",
                "click",
                "input",
                "network",
                "console",
                "custom",
                "page_view"
            ],
            "one dom row per 100 ms"
        );
        assert_eq!(rows[2].target.as_deref(), Some("Add to cart"));
        assert_eq!(
            (rows[2].x, rows[2].y, rows[2].node_id),
            (Some(10.0), Some(20.0), Some(9))
        );
        assert!(
            !format!("{rows:?}").contains("hunter2"),
            "input text is never indexed"
        );
        assert_eq!(
            rows[4].trace_id.as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        assert_eq!(rows[4].level.as_deref(), Some("500"));
        assert_eq!(rows[5].level.as_deref(), Some("error"));
        assert_eq!(
            rows[5].target.as_deref(),
            Some("boom 42"),
            "as the page printed it"
        );
        assert_eq!(rows[6].target.as_deref(), Some("checkout.step"));
        assert_eq!(
            rows[7].target.as_deref(),
            Some("http://shop/cart"),
            "SPA navigation"
        );
    }

    #[test]
    fn a_named_click_before_rrwebs_is_still_one_click() {
        let events = vec![
            json!({"type": 5, "data": {"tag": "sightline.click", "payload": {"target": "Estimate shipping", "x": 5, "y": 6}}, "timestamp": 2000}),
            json!({"type": 3, "data": {"source": 2, "type": 2, "id": 31, "x": 5, "y": 6}, "timestamp": 2001}),
            json!({"type": 3, "data": {"source": 2, "type": 2, "id": 32, "x": 50, "y": 60}, "timestamp": 2400}),
        ];
        let rows = index_events(&events);
        let clicks: Vec<_> = rows
            .iter()
            .map(|r| (r.target.as_deref(), r.node_id))
            .collect();
        assert_eq!(
            clicks,
            [(Some("Estimate shipping"), Some(31)), (None, Some(32))],
            "paired within 50 ms; a later click is its own"
        );
    }

    #[test]
    fn an_empty_batch_stores_nothing() {
        let b = body(json!({"sessionId": "s", "batch": 0, "events": []}));
        assert!(decode(&b, 0).unwrap().is_none());
    }
}
