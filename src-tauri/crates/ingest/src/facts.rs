//! The facts of a span or log record that later stages need, read once from its attributes:
//! its end user and URL (for incident windows scoped to a user or a page) and its sender's
//! incident mark.

use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use sightline_store::model::{IncidentMark, RecordFacts};

/// Attributes that name the end user, in order of preference.
pub const USER_KEYS: &[&str] = &["enduser.id", "user.id", "user_id", "usr.id"];
/// Attributes that name the URL a record is about, in order of preference.
pub const URL_KEYS: &[&str] = &[
    "url.full",
    "http.url",
    "url.path",
    "http.target",
    "http.route",
];

/// The text of the first of `keys` (in their order) that `attrs` holds as text, as the stored
/// attributes hold it: the last value of a repeated key, `[REDACTED]` under a sensitive key;
/// `None` when that text is empty. Other redaction (by content) is the tagger's to apply, only
/// when a window needs the text.
fn text(attrs: &[KeyValue], keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|key| {
            let kv = attrs.iter().rev().find(|kv| kv.key == *key)?;
            match kv.value.as_ref()?.value.as_ref()? {
                _ if sightline_store::redact::sensitive(key) => {
                    Some(sightline_store::redact::REDACTED.to_owned())
                }
                Value::StringValue(s) => Some(s.clone()),
                _ => None,
            }
        })
        .filter(|v| !v.is_empty())
}

fn mark(attrs: &[KeyValue]) -> Option<IncidentMark> {
    if let Some(id) = text(attrs, &["incident.id"]) {
        return Some(IncidentMark::Id(id));
    }
    let mode = attrs.iter().rev().find(|kv| kv.key == "incident.mode")?;
    match mode.value.as_ref()?.value.as_ref()? {
        Value::BoolValue(true) => Some(IncidentMark::Newest),
        Value::StringValue(s) if s.eq_ignore_ascii_case("true") => Some(IncidentMark::Newest),
        _ => None,
    }
}

/// A record's facts from its attributes and its resource's (the user may be either's; the URL
/// and the mark are the record's own).
pub fn record_facts(record: &[KeyValue], resource: &[KeyValue]) -> RecordFacts {
    RecordFacts {
        user: text(record, USER_KEYS).or_else(|| text(resource, USER_KEYS)),
        url: text(record, URL_KEYS),
        incident: mark(record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    fn s(v: &str) -> Value {
        Value::StringValue(v.into())
    }

    #[test]
    fn the_record_s_own_facts_first_then_its_resource_s() {
        let record = [kv("user.id", s("u1")), kv("http.route", s("/pay"))];
        let resource = [kv("enduser.id", s("r1"))];
        let f = record_facts(&record, &resource);
        assert_eq!(f.user.as_deref(), Some("u1"));
        assert_eq!(f.url.as_deref(), Some("/pay"));
        assert_eq!(f.incident, None);
        let f = record_facts(&[kv("user.id", s(""))], &resource);
        assert_eq!(f.user.as_deref(), Some("r1"), "an empty id names nobody");
        let f = record_facts(&[kv("enduser.id", s("")), kv("user.id", s("u2"))], &[]);
        assert_eq!(f.user, None, "the first key present decides, as before");
        let f = record_facts(&[kv("user.id", s("a")), kv("user.id", s("b"))], &[]);
        assert_eq!(
            f.user.as_deref(),
            Some("b"),
            "a repeated key's last value, as stored"
        );
        let f = record_facts(&[kv("enduser.id", Value::IntValue(7))], &[]);
        assert_eq!(f.user, None, "an id is text");
        let f = record_facts(
            &[
                kv("http.url", s("http://a/x")),
                kv("url.full", s("http://a/y")),
            ],
            &[],
        );
        assert_eq!(
            f.url.as_deref(),
            Some("http://a/y"),
            "url.full is preferred"
        );
    }

    #[test]
    fn marks_name_a_window_or_the_newest() {
        let f = |attrs: &[KeyValue]| record_facts(attrs, &[]).incident;
        assert_eq!(
            f(&[kv("incident.id", s("w1"))]),
            Some(IncidentMark::Id("w1".into()))
        );
        assert_eq!(
            f(&[kv("incident.mode", Value::BoolValue(true))]),
            Some(IncidentMark::Newest)
        );
        assert_eq!(
            f(&[kv("incident.mode", s("TRUE"))]),
            Some(IncidentMark::Newest)
        );
        assert_eq!(f(&[kv("incident.mode", Value::BoolValue(false))]), None);
        assert_eq!(
            f(&[kv("incident.id", s("")), kv("incident.mode", s("true"))]),
            Some(IncidentMark::Newest),
            "an empty id is no mark"
        );
    }
}
