//! OTLP message bodies: decoding requests and encoding responses in either format.
//!
//! JSON is decoded strictly first (OTLP/JSON as the specification defines it). Only when that
//! fails, or when the body uses proto field names (`resource_spans`), does a second, lenient
//! pass rewrite what other proto3-JSON writers produce and the proto3 JSON mapping allows:
//! `null` for a default value, enum names (`"SPAN_KIND_SERVER"`), numbers as strings,
//! snake_case keys, and base64 ids. Conforming clients never pay for it.

use base64::Engine as _;
use bytes::Bytes;
use prost::Message;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::content::Format;
use crate::error::{IngestError, Result};

/// Decodes an OTLP request body. `message` names it in errors ("ExportTraceServiceRequest").
///
/// An empty body is the empty request in both formats (a protobuf message with no fields is
/// zero bytes; some JSON clients send nothing for "nothing to report").
pub fn decode<T>(body: &[u8], format: Format, message: &'static str) -> Result<T>
where
    T: Message + DeserializeOwned + Default,
{
    match format {
        Format::Protobuf => T::decode(body).map_err(|e| IngestError::Decode {
            message,
            format: "protobuf",
            reason: e.to_string(),
        }),
        Format::Json if body.iter().all(u8::is_ascii_whitespace) => Ok(T::default()),
        Format::Json => decode_json(body, message),
    }
}

fn decode_json<T: DeserializeOwned>(body: &[u8], message: &'static str) -> Result<T> {
    let strict = match serde_json::from_slice::<T>(body) {
        Ok(decoded) if !uses_proto_names(body) => return Ok(decoded),
        other => other,
    };
    let lenient = serde_json::from_slice::<Value>(body).and_then(|mut v| {
        relax(&mut v, None);
        serde_json::from_value::<T>(v)
    });
    match (lenient, strict) {
        (Ok(decoded), _) | (Err(_), Ok(decoded)) => Ok(decoded),
        // The strict error describes the body as sent, so that is the one reported.
        (Err(_), Err(e)) => Err(IngestError::Decode {
            message,
            format: "JSON",
            reason: e.to_string(),
        }),
    }
}

/// Whether the body names fields the proto way; the strict decoder would ignore them (unknown
/// fields are ignored) and store nothing.
fn uses_proto_names(body: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"\"resource_";
    body.windows(NEEDLE.len()).any(|w| w == NEEDLE)
}

fn snake_to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn enum_value(key: &str, name: &str) -> Option<i64> {
    const SPAN_KIND: &[&str] = &[
        "SPAN_KIND_UNSPECIFIED",
        "SPAN_KIND_INTERNAL",
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ];
    const STATUS: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
    const TEMPORALITY: &[&str] = &[
        "AGGREGATION_TEMPORALITY_UNSPECIFIED",
        "AGGREGATION_TEMPORALITY_DELTA",
        "AGGREGATION_TEMPORALITY_CUMULATIVE",
    ];
    const SEVERITY: &[&str] = &[
        "UNSPECIFIED",
        "TRACE",
        "TRACE2",
        "TRACE3",
        "TRACE4",
        "DEBUG",
        "DEBUG2",
        "DEBUG3",
        "DEBUG4",
        "INFO",
        "INFO2",
        "INFO3",
        "INFO4",
        "WARN",
        "WARN2",
        "WARN3",
        "WARN4",
        "ERROR",
        "ERROR2",
        "ERROR3",
        "ERROR4",
        "FATAL",
        "FATAL2",
        "FATAL3",
        "FATAL4",
    ];
    let table: &[&str] = match key {
        "kind" => SPAN_KIND,
        "code" => STATUS,
        "aggregationTemporality" => TEMPORALITY,
        "severityNumber" => {
            let short = name.strip_prefix("SEVERITY_NUMBER_")?;
            return SEVERITY.iter().position(|n| *n == short).map(|i| i as i64);
        }
        _ => return None,
    };
    table.iter().position(|n| *n == name).map(|i| i as i64)
}

/// Integer fields that some writers quote.
const NUMERIC_KEYS: &[&str] = &[
    "droppedAttributesCount",
    "droppedEventsCount",
    "droppedLinksCount",
    "flags",
    "kind",
    "code",
    "severityNumber",
    "aggregationTemporality",
    "scale",
    "offset",
];

fn rebase64_id(s: &str, width: usize) -> Option<String> {
    if s.len() == width * 2 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    (bytes.len() == width).then(|| hex::encode(bytes))
}

/// Rewrites one JSON value in place into strict OTLP/JSON (see the module header).
fn relax(value: &mut Value, key: Option<&str>) {
    match value {
        Value::Object(map) => {
            let old = std::mem::take(map);
            let mut new = Map::with_capacity(old.len());
            for (k, mut v) in old {
                if v.is_null() {
                    continue;
                }
                let k = if k.contains('_') {
                    snake_to_camel(&k)
                } else {
                    k
                };
                relax(&mut v, Some(&k));
                new.insert(k, v);
            }
            *map = new;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| relax(v, None)),
        Value::String(s) => {
            let Some(key) = key else { return };
            if let Some(n) = enum_value(key, s) {
                *value = Value::from(n);
            } else if NUMERIC_KEYS.contains(&key) {
                if let Ok(n) = s.parse::<i64>() {
                    *value = Value::from(n);
                }
            } else if let Some(hex) = match key {
                "traceId" => rebase64_id(s, 16),
                "spanId" | "parentSpanId" => rebase64_id(s, 8),
                _ => None,
            } {
                *value = Value::String(hex);
            }
        }
        _ => {}
    }
}

/// Encodes a response message in the request's format. In JSON, unset fields are left out
/// (`{}` for full success), as the OTLP/JSON encoding of an unset `partial_success` is absence.
pub fn encode<T: Message + Serialize>(message: &T, format: Format) -> Bytes {
    match format {
        Format::Protobuf => message.encode_to_vec().into(),
        Format::Json => {
            let mut json = serde_json::to_value(message).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut json {
                map.retain(|_, v| !v.is_null());
            }
            serde_json::to_vec(&json)
                .unwrap_or_else(|_| b"{}".to_vec())
                .into()
        }
    }
}
