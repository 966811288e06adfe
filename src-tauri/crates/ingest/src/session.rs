//! Finding the user session a span or log record belongs to.
//!
//! Browser SDKs and replay tools name it differently; Sightline accepts them all. The record's
//! own attributes win over its resource's (a backend resource may serve many sessions).

use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};

/// Attribute keys that carry a session id, in order of preference.
pub const SESSION_KEYS: &[&str] = &[
    "session.id",
    "session.replay_id",
    "rum.sessionId",
    "multiplayer.session.id",
    "$session_id",
    "sessionId",
];

/// Attribute keys whose value is a W3C baggage header, which may carry `session.id=…`.
const BAGGAGE_KEYS: &[&str] = &["baggage", "http.request.header.baggage"];

/// A session id longer than this is not an id; it is not indexed. Ids are UUIDs in practice.
pub const MAX_SESSION_ID_LEN: usize = 256;

/// `raw` as a session id, if it is one: 1 to [`MAX_SESSION_ID_LEN`] bytes once trimmed and no
/// control characters (a CR/LF or NUL in an id forges lines in logs, exports and headers). The
/// one rule for every way an id arrives: OTLP attributes, baggage, `/v1/replay`, bundles.
pub fn valid_id(raw: &str) -> Option<&str> {
    let id = raw.trim();
    (!id.is_empty() && id.len() <= MAX_SESSION_ID_LEN && !id.chars().any(char::is_control))
        .then_some(id)
}

/// The session id in `attrs`, if any.
pub fn session_in(attrs: &[KeyValue]) -> Option<String> {
    for key in SESSION_KEYS {
        if let Some(id) = attrs
            .iter()
            .find(|kv| kv.key == *key)
            .and_then(|kv| scalar(kv.value.as_ref()?.value.as_ref()?))
        {
            return Some(id);
        }
    }
    attrs
        .iter()
        .filter(|kv| BAGGAGE_KEYS.contains(&kv.key.as_str()))
        .filter_map(|kv| kv.value.as_ref()?.value.as_ref())
        .flat_map(|v| match v {
            Value::StringValue(s) => vec![s.as_str()],
            // Header attributes are string arrays by semantic convention.
            Value::ArrayValue(a) => a
                .values
                .iter()
                .filter_map(|v| match &v.value {
                    Some(Value::StringValue(s)) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .find_map(from_baggage)
}

/// The session id for a record: its own attributes first, then its resource's.
pub fn session_for(record: &[KeyValue], resource: &[KeyValue]) -> Option<String> {
    session_in(record).or_else(|| session_in(resource))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::StringValue(s) => valid_id(s).map(str::to_owned),
        Value::IntValue(i) => Some(i.to_string()),
        _ => None,
    }
}

/// `session.id` from a baggage header: `k=v;prop, k2=v2` with percent-encoded values.
fn from_baggage(header: &str) -> Option<String> {
    header.split(',').find_map(|member| {
        let kv = member.split(';').next()?;
        let (k, v) = kv.split_once('=')?;
        if k.trim() != "session.id" {
            return None;
        }
        valid_id(&percent_decode(v.trim())).map(str::to_owned)
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            // Bytes, not str slicing: the two bytes after '%' may split a multi-byte character.
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn kv(key: &str, v: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn every_known_key_is_found() {
        for key in SESSION_KEYS {
            assert_eq!(
                session_in(&[kv(key, "s-1")]).as_deref(),
                Some("s-1"),
                "{key}"
            );
        }
    }

    #[test]
    fn record_wins_over_resource() {
        let got = session_for(
            &[kv("rum.sessionId", "mine")],
            &[kv("session.id", "theirs")],
        );
        assert_eq!(got.as_deref(), Some("mine"));
        assert_eq!(
            session_for(&[], &[kv("session.id", "res")]).as_deref(),
            Some("res")
        );
    }

    #[test]
    fn baggage_member_is_parsed() {
        let attrs = [kv("baggage", "user=1, session.id=ab%2Fc;ttl=3,x=y")];
        assert_eq!(session_in(&attrs).as_deref(), Some("ab/c"));
        assert_eq!(session_in(&[kv("baggage", "user=1")]), None);
        assert_eq!(session_in(&[kv("session.id", "  ")]), None);
    }

    #[test]
    fn an_id_with_control_characters_or_too_long_is_no_id() {
        assert_eq!(session_in(&[kv("session.id", "a\r\nb")]), None);
        assert_eq!(session_in(&[kv("session.id", "a\0b")]), None);
        assert_eq!(session_in(&[kv("baggage", "session.id=a%0D%0Ab")]), None);
        let long = "s".repeat(MAX_SESSION_ID_LEN + 1);
        assert_eq!(session_in(&[kv("session.id", &long)]), None);
        assert_eq!(valid_id(" s-1 "), Some("s-1"));
    }
}
