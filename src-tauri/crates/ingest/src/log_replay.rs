//! Replay carried inside OTLP logs, turned into the same session batches `/v1/replay` stores.
//!
//! Two schemes are understood:
//! - HyperDX's browser SDK (`@hyperdx/otel-web-session-recorder`): each log record's body is a
//!   piece of one JSON-stringified rrweb event, with `rr-web.event` (event number),
//!   `rr-web.chunk` / `rr-web.total-chunks` (1-based piece numbers), `rr-web.offset` (a
//!   per-record counter) and the session in `rum.sessionId`.
//! - The OpenTelemetry session-replay agents' semantic events: body `user.click`,
//!   `user.frustration.rage_click`, …, attributes `session.id`, `session.sequence`, `user.id`,
//!   `user.email`, `target.semantic_name`, `target.element`, `page.url`, `frustration.type`,
//!   `frustration.score`. Each becomes an rrweb custom event (tag = body, payload = attributes).
//!
//! HyperDX's pieces are consumed here (they are fragments of JSON, not log lines). Semantic
//! events stay log lines as well (the Logs page, log search and the `logs` SQL view show them,
//! with `session.id` and `page.url` queryable) and also feed the session. One OTLP request
//! yields at most one batch per session and scheme; its batch number comes from the records
//! themselves, so a retried request is stored once.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::{json, Map, Value};
use sightline_store::attrs::attrs_to_json;
use sightline_store::model::ReplayChunkRow;

use crate::replay::build_chunk;
use crate::session::session_for;

/// Semantic-event batches are numbered from here, so they can never collide with a recorder's
/// own batch numbers in the same session (those count up from 0).
pub const SEMANTIC_BATCH_BASE: i64 = 1 << 48;

fn int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Any::IntValue(i) => Some(*i),
            Any::StringValue(s) => s.parse().ok(),
            Any::DoubleValue(d) => Some(*d as i64),
            _ => None,
        }
    })
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Any::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    })
}

fn body_text(record: &LogRecord) -> Option<&str> {
    match record.body.as_ref()?.value.as_ref()? {
        Any::StringValue(s) => Some(s),
        _ => None,
    }
}

struct Piece {
    offset: i64,
    event: i64,
    chunk: i64,
    total: i64,
    body: String,
}

struct Semantic {
    sequence: i64,
    event: Value,
}

/// What a request's replay-carrying records became.
#[derive(Default)]
pub struct Carried {
    pub chunks: Vec<ReplayChunkRow>,
    pub rejected: i64,
    pub first_rejection: Option<String>,
}

impl Carried {
    fn reject(&mut self, count: i64, reason: String) {
        self.first_rejection.get_or_insert(reason);
        self.rejected += count;
    }
}

/// What became of a log record offered to the [`Collector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// Not replay: store it as a log line.
    Log,
    /// A semantic event: it feeds the session and is stored as a log line too.
    AlsoLog,
    /// A piece of a replay event: not a log line.
    Taken,
}

/// Collects replay-carrying log records across one request.
#[derive(Default)]
pub struct Collector {
    hyperdx: BTreeMap<String, Vec<Piece>>,
    semantic: BTreeMap<String, (Vec<Semantic>, Map<String, Value>)>,
    carried: Carried,
}

impl Collector {
    /// Takes what the record carries of replay, and says whether it is still a log line.
    pub fn offer(&mut self, record: &LogRecord, resource: &[KeyValue]) -> Offered {
        let attrs = &record.attributes;
        if let Some(event) = int(attrs, "rr-web.event") {
            let Some(session) = session_for(attrs, resource) else {
                self.carried.reject(
                    1,
                    "a replay log record (rr-web.event) has no session id (rum.sessionId)".into(),
                );
                return Offered::Taken;
            };
            self.hyperdx.entry(session).or_default().push(Piece {
                offset: int(attrs, "rr-web.offset").unwrap_or(event),
                event,
                chunk: int(attrs, "rr-web.chunk").unwrap_or(1),
                total: int(attrs, "rr-web.total-chunks").unwrap_or(1),
                body: body_text(record).unwrap_or_default().to_owned(),
            });
            return Offered::Taken;
        }
        let Some(tag) =
            body_text(record).filter(|b| b.starts_with("user.") || b.starts_with("page."))
        else {
            return Offered::Log;
        };
        let Some(session) = text(attrs, "session.id").or_else(|| session_for(attrs, resource))
        else {
            return Offered::Log;
        };
        let time_ns = if record.time_unix_nano > 0 {
            record.time_unix_nano
        } else {
            record.observed_time_unix_nano
        };
        let ms = (time_ns / 1_000_000) as i64;
        let payload: Value = serde_json::from_str(&attrs_to_json(attrs)).unwrap_or(Value::Null);
        let (events, meta) = self.semantic.entry(session).or_default();
        for (attr, key) in [
            ("user.id", "userId"),
            ("user.email", "userEmail"),
            ("page.url", "url"),
        ] {
            if let Some(v) = text(attrs, attr) {
                meta.entry(key).or_insert(Value::String(v));
            }
        }
        events.push(Semantic {
            sequence: int(attrs, "session.sequence").unwrap_or(ms),
            event: json!({"type": 5, "timestamp": ms, "data": {"tag": tag, "payload": payload}}),
        });
        Offered::AlsoLog
    }

    /// Assembles what was collected into session batches.
    pub fn finish(mut self, received_ms: i64) -> Carried {
        for (session, mut pieces) in std::mem::take(&mut self.hyperdx) {
            pieces.sort_by_key(|p| (p.event, p.chunk));
            let batch = pieces.iter().map(|p| p.offset).min().unwrap_or(0);
            let mut events = Vec::new();
            let mut i = 0;
            while i < pieces.len() {
                let event = pieces[i].event;
                let group: Vec<&Piece> = pieces[i..]
                    .iter()
                    .take_while(|p| p.event == event)
                    .collect();
                i += group.len();
                let total = group[0].total;
                let complete = group.len() as i64 == total
                    && group
                        .iter()
                        .enumerate()
                        .all(|(n, p)| p.chunk == n as i64 + 1);
                if !complete {
                    self.carried.reject(
                        group.len() as i64,
                        format!(
                            "replay event {event} of session {session} arrived in {} of its {total} \
                             pieces; an event split across requests cannot be assembled",
                            group.len()
                        ),
                    );
                    continue;
                }
                let text: String = group.iter().map(|p| p.body.as_str()).collect();
                match serde_json::from_str::<Value>(&text) {
                    Ok(ev) => events.push(ev),
                    Err(e) => self.carried.reject(
                        group.len() as i64,
                        format!("replay event {event} of session {session} is not JSON: {e}"),
                    ),
                }
            }
            self.push(session, batch, events, &Map::new(), received_ms);
        }
        for (session, (mut events, meta)) in std::mem::take(&mut self.semantic) {
            events.sort_by_key(|e| e.sequence);
            let batch =
                SEMANTIC_BATCH_BASE + events.first().map(|e| e.sequence.max(0)).unwrap_or(0);
            let events = events.into_iter().map(|e| e.event).collect();
            self.push(session, batch, events, &meta, received_ms);
        }
        self.carried
    }

    fn push(
        &mut self,
        session: String,
        batch: i64,
        events: Vec<Value>,
        meta: &Map<String, Value>,
        received_ms: i64,
    ) {
        let count = events.len() as i64;
        match build_chunk(session, batch, events, meta, received_ms) {
            Ok(Some(chunk)) => self.carried.chunks.push(chunk),
            Ok(None) => {}
            Err(e) => self.carried.reject(count, e.to_string()),
        }
    }
}
