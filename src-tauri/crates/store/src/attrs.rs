//! Sightline's attribute encoding: OTLP attribute sets and values as plain JSON.
//!
//! The API, the SQL views and the UI all want `{"http.method": "GET"}`, not OTLP/JSON's
//! `[{"key": …, "value": {"stringValue": …}}]`, so that is what is stored. The encoding is still
//! lossless: strings, bools, integers, arrays and maps are themselves; a double keeps its decimal
//! point (`1.0`), so it reads back as a double; and the three values JSON cannot hold are tagged
//! one-key objects: `{"$bytes": base64}`, `{"$double": "NaN" | "Infinity" | "-Infinity"}`, and a map
//! whose single key starts with `$` is wrapped as `{"$kvlist": {…}}` so it is never mistaken for
//! a tag. An empty value is `null`.
//!
//! Not kept: secrets. Attributes named as credentials or sensitive fields, and such fields in
//! JSON or form payloads inside string values, are stored as `[REDACTED]` ([`crate::redact`]).
//!
//! Not kept either: the profiles signal's dictionary indexes (`key_strindex`, `string_value_strindex`),
//! which have no meaning outside a profile's string table.

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as Json;

const BYTES_TAG: &str = "$bytes";
const DOUBLE_TAG: &str = "$double";
const KVLIST_TAG: &str = "$kvlist";

/// An attribute set, serialized without building an intermediate `serde_json::Value` (this runs
/// for every span on the ingest path).
pub struct Attrs<'a>(pub &'a [KeyValue]);

/// One attribute value.
pub struct Val<'a>(pub Option<&'a AnyValue>);

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let needs_wrap = self.0.len() == 1 && self.0[0].key.starts_with('$');
        if needs_wrap {
            let mut outer = s.serialize_map(Some(1))?;
            outer.serialize_entry(KVLIST_TAG, &Plain(self.0))?;
            return outer.end();
        }
        Plain(self.0).serialize(s)
    }
}

struct Plain<'a>(&'a [KeyValue]);

impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for kv in self.0 {
            let has_value = kv.value.as_ref().is_some_and(|v| v.value.is_some());
            if has_value && crate::redact::sensitive(&kv.key) {
                map.serialize_entry(&kv.key, crate::redact::REDACTED)?;
            } else {
                map.serialize_entry(&kv.key, &Val(kv.value.as_ref()))?;
            }
        }
        map.end()
    }
}

struct Tagged<'a>(&'static str, &'a str);

impl Serialize for Tagged<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(self.0, self.1)?;
        map.end()
    }
}

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(value) = self.0.and_then(|v| v.value.as_ref()) else {
            return s.serialize_none();
        };
        match value {
            Value::StringValue(v) => match crate::redact::redact_text(v) {
                Some((redacted, _)) => s.serialize_str(&redacted),
                None => s.serialize_str(v),
            },
            Value::BoolValue(v) => s.serialize_bool(*v),
            Value::IntValue(v) => s.serialize_i64(*v),
            Value::DoubleValue(v) if v.is_finite() => s.serialize_f64(*v),
            Value::DoubleValue(v) => {
                let text = if v.is_nan() {
                    "NaN"
                } else if *v > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                Tagged(DOUBLE_TAG, text).serialize(s)
            }
            Value::BytesValue(v) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(v);
                Tagged(BYTES_TAG, &b64).serialize(s)
            }
            Value::ArrayValue(a) => {
                let mut seq = s.serialize_seq(Some(a.values.len()))?;
                for v in &a.values {
                    seq.serialize_element(&Val(Some(v)))?;
                }
                seq.end()
            }
            Value::KvlistValue(l) => Attrs(&l.values).serialize(s),
            // Profiles-only dictionary reference: meaningless without the profile's table.
            Value::StringValueStrindex(_) => s.serialize_none(),
        }
    }
}

/// Encodes an attribute set.
pub fn attrs_to_json(attrs: &[KeyValue]) -> String {
    // Serializing plain data into a String cannot fail: every map key is a string.
    serde_json::to_string(&Attrs(attrs)).unwrap_or_else(|_| "{}".to_owned())
}

/// Encodes one value (a log body).
pub fn value_to_json(value: Option<&AnyValue>) -> String {
    serde_json::to_string(&Val(value)).unwrap_or_else(|_| "null".to_owned())
}

/// Decodes an attribute set written by [`attrs_to_json`].
pub fn attrs_from_json(text: &str) -> Vec<KeyValue> {
    match serde_json::from_str::<Json>(text) {
        Ok(json) => attrs_from_value(&json),
        Err(_) => Vec::new(),
    }
}

/// Decodes one value written by [`value_to_json`].
pub fn value_from_json(text: &str) -> Option<AnyValue> {
    serde_json::from_str::<Json>(text)
        .ok()
        .and_then(|j| any_from_value(&j))
}

/// Decodes an attribute object already parsed as JSON.
pub fn attrs_from_value(json: &Json) -> Vec<KeyValue> {
    let Json::Object(map) = json else {
        return Vec::new();
    };
    let map = match map.get(KVLIST_TAG) {
        Some(Json::Object(inner)) if map.len() == 1 => inner,
        _ => map,
    };
    map.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: any_from_value(v),
            ..Default::default()
        })
        .collect()
}

/// Decodes one value already parsed as JSON; `null` is the empty value.
pub fn any_from_value(json: &Json) -> Option<AnyValue> {
    let value = match json {
        Json::Null => return None,
        Json::Bool(b) => Value::BoolValue(*b),
        Json::String(s) => Value::StringValue(s.clone()),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Value::IntValue(i),
            _ => Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::Array(items) => Value::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|v| any_from_value(v).unwrap_or_default())
                .collect(),
        }),
        Json::Object(map) => {
            if map.len() == 1 {
                if let Some(Json::String(b64)) = map.get(BYTES_TAG) {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .unwrap_or_default();
                    return Some(AnyValue {
                        value: Some(Value::BytesValue(bytes)),
                    });
                }
                if let Some(Json::String(d)) = map.get(DOUBLE_TAG) {
                    let v = match d.as_str() {
                        "Infinity" => f64::INFINITY,
                        "-Infinity" => f64::NEG_INFINITY,
                        _ => f64::NAN,
                    };
                    return Some(AnyValue {
                        value: Some(Value::DoubleValue(v)),
                    });
                }
            }
            Value::KvlistValue(KeyValueList {
                values: attrs_from_value(json),
            })
        }
    };
    Some(AnyValue { value: Some(value) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, v: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    #[test]
    fn every_value_kind_round_trips() {
        let attrs = vec![
            kv("s", Value::StringValue("x".into())),
            kv("b", Value::BoolValue(true)),
            kv("i", Value::IntValue(i64::MIN)),
            kv("d", Value::DoubleValue(1.0)),
            kv("nan", Value::DoubleValue(f64::INFINITY)),
            kv("bytes", Value::BytesValue(vec![0, 255, 7])),
            kv(
                "arr",
                Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(Value::IntValue(3)),
                    }],
                }),
            ),
            kv(
                "map",
                Value::KvlistValue(KeyValueList {
                    values: vec![kv("$bytes", Value::StringValue("not a tag".into()))],
                }),
            ),
            KeyValue {
                key: "empty".into(),
                value: None,
                ..Default::default()
            },
        ];
        let json = attrs_to_json(&attrs);
        assert!(json.starts_with(r#"{"s":"x","b":true"#), "{json}");
        assert_eq!(attrs_from_json(&json), attrs);
    }

    #[test]
    fn nan_round_trips_as_nan() {
        let json = value_to_json(Some(&AnyValue {
            value: Some(Value::DoubleValue(f64::NAN)),
        }));
        assert_eq!(json, r#"{"$double":"NaN"}"#);
        match value_from_json(&json).and_then(|v| v.value) {
            Some(Value::DoubleValue(d)) => assert!(d.is_nan()),
            other => panic!("{other:?}"),
        }
    }
}
