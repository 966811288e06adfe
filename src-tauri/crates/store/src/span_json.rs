//! Span events and links as stored JSON documents, in OTLP/JSON field names (hex ids, times as
//! decimal strings) with attributes in the attribute encoding, so the API can pass them through.

use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
use serde::Serialize;
use serde_json::Value as Json;

use crate::attrs::{attrs_from_value, Attrs};

/// A span event as stored and served.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDoc<'a> {
    time_unix_nano: String,
    name: &'a str,
    #[schema(value_type = HashMap<String, Value>)]
    attributes: Attrs<'a>,
    dropped_attributes_count: u32,
}

/// A span link as stored and served.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkDoc<'a> {
    trace_id: String,
    span_id: String,
    trace_state: &'a str,
    #[schema(value_type = HashMap<String, Value>)]
    attributes: Attrs<'a>,
    dropped_attributes_count: u32,
    flags: u32,
}

pub fn events_to_json(events: &[Event]) -> String {
    if events.is_empty() {
        return "[]".to_owned();
    }
    let docs: Vec<_> = events
        .iter()
        .map(|e| EventDoc {
            time_unix_nano: e.time_unix_nano.to_string(),
            name: &e.name,
            attributes: Attrs(&e.attributes),
            dropped_attributes_count: e.dropped_attributes_count,
        })
        .collect();
    serde_json::to_string(&docs).unwrap_or_else(|_| "[]".to_owned())
}

pub fn links_to_json(links: &[Link]) -> String {
    if links.is_empty() {
        return "[]".to_owned();
    }
    let docs: Vec<_> = links
        .iter()
        .map(|l| LinkDoc {
            trace_id: hex::encode(&l.trace_id),
            span_id: hex::encode(&l.span_id),
            trace_state: &l.trace_state,
            attributes: Attrs(&l.attributes),
            dropped_attributes_count: l.dropped_attributes_count,
            flags: l.flags,
        })
        .collect();
    serde_json::to_string(&docs).unwrap_or_else(|_| "[]".to_owned())
}

fn str_field<'a>(doc: &'a Json, key: &str) -> &'a str {
    doc.get(key).and_then(Json::as_str).unwrap_or_default()
}

fn u32_field(doc: &Json, key: &str) -> u32 {
    doc.get(key).and_then(Json::as_u64).unwrap_or_default() as u32
}

fn items(text: &str) -> Vec<Json> {
    match serde_json::from_str(text) {
        Ok(Json::Array(items)) => items,
        _ => Vec::new(),
    }
}

pub fn events_from_json(text: &str) -> Vec<Event> {
    items(text)
        .iter()
        .map(|d| Event {
            time_unix_nano: str_field(d, "timeUnixNano").parse().unwrap_or_default(),
            name: str_field(d, "name").to_owned(),
            attributes: d
                .get("attributes")
                .map(attrs_from_value)
                .unwrap_or_default(),
            dropped_attributes_count: u32_field(d, "droppedAttributesCount"),
        })
        .collect()
}

pub fn links_from_json(text: &str) -> Vec<Link> {
    items(text)
        .iter()
        .map(|d| Link {
            trace_id: hex::decode(str_field(d, "traceId")).unwrap_or_default(),
            span_id: hex::decode(str_field(d, "spanId")).unwrap_or_default(),
            trace_state: str_field(d, "traceState").to_owned(),
            attributes: d
                .get("attributes")
                .map(attrs_from_value)
                .unwrap_or_default(),
            dropped_attributes_count: u32_field(d, "droppedAttributesCount"),
            flags: u32_field(d, "flags"),
        })
        .collect()
}
