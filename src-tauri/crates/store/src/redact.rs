//! Redaction: what must never be stored, whatever a client sends. Credentials in headers
//! (`authorization`, `cookie`, …) and sensitive fields (`password`, `card`, `cvv`, `token`, …)
//! are replaced by [`REDACTED`] wherever they appear as an attribute or a field of a JSON
//! payload; free text (forms, URLs, log lines, SQL) is redacted by content ([`crate::scrub`]).
//! The recorder redacts the same names before data leaves the browser; this is the second
//! line of defence, applied to every span, log and replay batch.

use serde_json::Value;

/// What a redacted value becomes: visible as a redaction, not mistaken for data.
pub const REDACTED: &str = "[REDACTED]";

/// The lists, shared with the browser recorder (`ui/src/recorder/redact.ts` imports the same
/// file), so the two lines of defence cannot drift apart.
const LISTS: &str = include_str!("redaction.json");

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lists {
    denied_headers: Vec<String>,
    sensitive_words: Vec<String>,
}

fn lists() -> &'static Lists {
    static PARSED: std::sync::LazyLock<Lists> = std::sync::LazyLock::new(|| {
        // The file is compiled in and checked by a unit test, so this cannot fail at run time.
        serde_json::from_str(LISTS).expect("redaction.json is valid")
    });
    &PARSED
}

/// Header names whose values are credentials.
pub fn denied_headers() -> &'static [String] {
    &lists().denied_headers
}

/// Words that make a field sensitive when they are a whole word of its name (`card_number`,
/// `cardNumber`, `user.password`), so that `output_tokens` or `discard` stay readable.
pub fn sensitive_words() -> &'static [String] {
    &lists().sensitive_words
}

/// Calls `f` on each word of a field name (split on `.`, `_`, `-`, spaces, brackets and
/// camelCase humps) until it returns true. No allocation: this runs for every attribute key.
fn any_word(name: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    let bytes = name.as_bytes();
    let mut start = 0;
    for i in 0..=bytes.len() {
        let boundary = match bytes.get(i) {
            None => true,
            Some(b'.' | b'_' | b'-' | b' ' | b'[' | b']') => true,
            Some(b) => {
                // A hump: an uppercase letter after a lowercase one or a digit starts a word.
                b.is_ascii_uppercase()
                    && i > start
                    && (bytes[i - 1].is_ascii_lowercase() || bytes[i - 1].is_ascii_digit())
            }
        };
        if boundary {
            if i > start && f(&name[start..i]) {
                return true;
            }
            start = match bytes.get(i) {
                Some(b) if b.is_ascii_uppercase() => i,
                _ => i + 1,
            };
        }
    }
    false
}

/// Whether a field or attribute named `key` holds a secret: a denied header (alone, or as the
/// last part of `http.request.header.<name>`), `api_key`/`apiKey`, or a sensitive word.
pub fn sensitive(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    if denied_headers()
        .iter()
        .any(|h| h.eq_ignore_ascii_case(last) || h.eq_ignore_ascii_case(key))
    {
        return true;
    }
    let mut after_api = false;
    any_word(key, |w| {
        let hit = sensitive_words().iter().any(|s| s.eq_ignore_ascii_case(w))
            || (after_api && w.eq_ignore_ascii_case("key"));
        after_api = w.eq_ignore_ascii_case("api");
        hit
    })
}

/// Redacts `value` in place: sensitive keys of objects, payloads inside strings (JSON
/// documents) and secrets in any other string by content. Returns how many values were
/// redacted.
pub fn redact(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut n = 0;
            for (k, v) in map.iter_mut() {
                if sensitive(k) {
                    if v.as_str() != Some(REDACTED) && !v.is_null() {
                        *v = Value::String(REDACTED.into());
                        n += 1;
                    }
                } else {
                    n += redact(v);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(redact).sum(),
        Value::String(s) => match redact_text(s) {
            Some((text, n)) => {
                *s = text;
                n
            }
            None => 0,
        },
        // A card number sent as a JSON number, not a string.
        Value::Number(n) if n.as_u64().is_some_and(crate::scrub::is_card_number) => {
            *value = Value::String(REDACTED.into());
            1
        }
        _ => 0,
    }
}

/// A payload in a string, redacted: a JSON document field by field, any other text by
/// content ([`crate::scrub`]: card numbers, bearer tokens, `secret=` pairs, URL passwords, key
/// shapes). `None` when nothing in it needed redacting (the common case costs a scan, not an
/// allocation).
pub fn redact_text(text: &str) -> Option<(String, usize)> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(mut doc) = serde_json::from_str::<Value>(text) {
            let n = redact(&mut doc);
            return (n > 0).then(|| (doc.to_string(), n));
        }
        // Not JSON after all (cut off, or prose in brackets): read as text.
    }
    crate::scrub::scrub(text)
}

/// `text` redacted ([`redact_text`]), taking it by value so the common case moves it, unchanged.
pub fn redacted(text: String) -> String {
    match redact_text(&text) {
        Some((clean, _)) => clean,
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shared_lists_are_read() {
        assert!(denied_headers().iter().any(|h| h == "authorization"));
        assert!(sensitive_words().iter().any(|w| w == "cvv"));
        assert!(denied_headers()
            .iter()
            .chain(sensitive_words())
            .all(|n| n == &n.to_ascii_lowercase()));
    }

    #[test]
    fn sensitive_names_are_whole_words() {
        for key in [
            "authorization",
            "Authorization",
            "http.request.header.authorization",
            "http.response.header.set-cookie",
            "x-api-key",
            "password",
            "user.password",
            "card_number",
            "cardNumber",
            "cvv",
            "csrf_token",
            "accessToken",
            "api_key",
            "apiKey",
            "client_secret",
        ] {
            assert!(sensitive(key), "{key} is sensitive");
        }
        for key in [
            "gen_ai.usage.output_tokens",
            "discard",
            "http.method",
            "url.full",
            "shipping",
            "user.id",
            "cardinality",
        ] {
            assert!(!sensitive(key), "{key} is not");
        }
    }

    #[test]
    fn objects_arrays_and_embedded_payloads_are_redacted() {
        let mut v = json!({
            "http.request.header.authorization": ["Bearer abc"],
            "http.request.header.content-type": ["application/json"],
            "request.body": "{\"email\":\"ada@example.com\",\"card\":{\"number\":\"4242\",\"cvv\":\"123\"},\"password\":\"hunter2\"}",
            "form": "user=ada&password=hunter2&remember=1",
            "nested": [{"token": "t0k"}, {"ok": 1}],
            "note": "a plain sentence with a password in it",
        });
        assert_eq!(redact(&mut v), 5);
        assert_eq!(v["http.request.header.authorization"], REDACTED);
        assert_eq!(
            v["http.request.header.content-type"],
            json!(["application/json"])
        );
        let body: Value = serde_json::from_str(v["request.body"].as_str().unwrap()).unwrap();
        assert_eq!(body["email"], "ada@example.com");
        assert_eq!(body["card"], REDACTED, "the whole card object");
        assert_eq!(body["password"], REDACTED);
        assert_eq!(
            v["form"],
            format!("user=ada&password={REDACTED}&remember=1")
        );
        assert_eq!(v["nested"][0]["token"], REDACTED);
        assert_eq!(v["note"], "a plain sentence with a password in it");
        // Idempotent: redacting again finds nothing.
        assert_eq!(redact(&mut v), 0);
    }

    #[test]
    fn plain_text_is_left_alone_without_allocating() {
        assert!(redact_text("GET /api/cart 200").is_none());
        assert!(redact_text("{not json").is_none());
        assert!(redact_text("a=1&b=2").is_none());
        assert_eq!(
            redact_text("http://shop/?password=x")
                .map(|(t, _)| t)
                .as_deref(),
            Some("http://shop/?password=[REDACTED]"),
            "a URL's query is read by content"
        );
        assert_eq!(
            redact_text("[not json, card 4242424242424242]")
                .map(|(t, _)| t)
                .as_deref(),
            Some("[not json, card [REDACTED]]")
        );
        let mut v = json!({"amount": 1200, "pan": 4242424242424242u64, "at": 1733144400123u64});
        assert_eq!(redact(&mut v), 1);
        assert_eq!(v["pan"], REDACTED);
        assert_eq!(v["amount"], 1200);
    }
}
