//! Recorder batches (`POST /v1/replay`): validation, the facts the store indexes (time range,
//! full snapshots, pages, session meta), and compression.
//!
//! Body: `{ "sessionId", "batch", "events": [rrweb events], "meta": { "userId"?, "userEmail"?,
//! "url"?, "userAgent"?, "viewport"?, …free attributes } }`. A batch is all or nothing: one bad
//! event refuses the batch, with a message that names it.

use serde_json::{Map, Value};
use sightline_store::model::{ReplayChunkRow, ReplayMeta};

use crate::error::{IngestError, Result};

/// Longest accepted session id; ids are UUIDs in practice.
pub const MAX_SESSION_ID_LEN: usize = 256;

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
    let raw = header.unwrap_or("");
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "text/plain" => Ok(()),
        _ => Err(IngestError::UnsupportedReplayMediaType(raw.to_owned())),
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
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_SESSION_ID_LEN => {
            if s.chars().any(char::is_control) {
                return Err(bad("sessionId must not contain control characters"));
            }
            s.clone()
        }
        Some(Value::String(_)) => {
            return Err(bad(format!(
                "sessionId must be 1 to {MAX_SESSION_ID_LEN} characters"
            )))
        }
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
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(bad(format!(
            "a batch holds at most {MAX_EVENTS_PER_BATCH} events; this one has {}",
            events.len()
        )));
    }
    let meta = match top.remove("meta") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("meta must be an object")),
    };

    let mut first_ms = i64::MAX;
    let mut last_ms = i64::MIN;
    let mut checkpoints = Vec::new();
    let mut pages = Vec::new();
    for (i, event) in events.iter().enumerate() {
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
            if let Some(href) = e
                .get("data")
                .and_then(|d| d.get("href"))
                .and_then(Value::as_str)
            {
                pages.push((href.to_owned(), ts));
            }
        }
    }
    let url = text(&meta, "url")?;
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
    let attributes: Map<String, Value> = meta
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let meta = ReplayMeta {
        user_id: text(&meta, "userId")?,
        user_email: text(&meta, "userEmail")?,
        url,
        user_agent: text(&meta, "userAgent")?,
        viewport,
        attributes: Value::Object(attributes).to_string(),
    };
    // Checked after meta, so a bad batch is refused even when it has no events.
    if events.is_empty() {
        return Ok(None);
    }

    let json = serde_json::to_vec(&events).map_err(|e| bad(e.to_string()))?;
    let data = zstd::bulk::compress(&json, ZSTD_LEVEL).map_err(|e| bad(e.to_string()))?;
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
    }))
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
    fn an_empty_batch_stores_nothing() {
        let b = body(json!({"sessionId": "s", "batch": 0, "events": []}));
        assert!(decode(&b, 0).unwrap().is_none());
    }
}
