//! The API's OpenAPI document: built from the handlers' annotations and the answer types
//! (the store's views and the API's own answers), served at `/api/v1/openapi.json`, printed by
//! `sightline openapi`, and the source of the UI's TypeScript types (`ui/src/api/`).

use std::sync::OnceLock;

use serde_json::Value;

use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::OpenApi as _;

/// What the routes do not say: the title, the conventions, and the error shape.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(super::ApiError)))]
struct Base;

pub(super) fn base() -> OpenApi {
    let mut doc: OpenApi = OpenApiBuilder::from(Base::openapi())
        .info(
            InfoBuilder::new()
                .title("Sightline query API")
                .version("1")
                .description(Some(
                    "Local-first full-stack debugging: sessions, replay, traces, logs. Served on \
                     the UI address, same-origin, loopback Host names only. Times: *UnixNano \
                     fields are nanosecond strings; *Ms fields are Unix milliseconds (numbers). \
                     Ids are lower-case hex strings.",
                ))
                .build(),
        )
        .build();
    doc.paths = Default::default();
    doc
}

/// Fields that may be left out of an answer (`skip_serializing_if`); every other field is
/// always there, `null` when it has no value.
const MAY_BE_ABSENT: &[(&str, &str)] = &[
    // Only the first page of a session list carries the facets.
    ("SessionList", "facets"),
    // Only error facets say what kind of error a value is.
    ("FacetValue", "type"),
];

/// utoipa leaves `Option` fields out of `required`; the engine writes them as `null`, so a
/// field that admits `null` is required (and the UI's types say `T | null`, not `T?`).
fn nulls_are_written(doc: &mut Value) {
    fn admits_null(schema: &Value) -> bool {
        let typed = match &schema["type"] {
            Value::Array(types) => types.iter().any(|t| t == "null"),
            _ => false,
        };
        typed
            || ["oneOf", "anyOf"].iter().any(|k| {
                schema[*k]
                    .as_array()
                    .is_some_and(|all| all.iter().any(|s| s["type"] == "null"))
            })
    }
    fn walk(name: &str, schema: &mut Value) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let mut required: Vec<Value> =
                schema["required"].as_array().cloned().unwrap_or_default();
            for (field, prop) in props {
                let absent = MAY_BE_ABSENT.contains(&(name, field.as_str()));
                if admits_null(prop) && !absent && !required.iter().any(|r| r == field) {
                    required.push(Value::String(field.clone()));
                }
            }
            if !required.is_empty() {
                schema["required"] = Value::Array(required);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(parts) = schema.get_mut(key).and_then(Value::as_array_mut) {
                for part in parts {
                    walk(name, part);
                }
            }
        }
    }
    // Request bodies are what a client sends, where a left-out field means "not this one"
    // (a settings patch holds only what changes): they keep utoipa's optional fields.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(name) = o
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.push(name.to_owned());
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut sent = Vec::new();
    for operations in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in operations.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&op["requestBody"], &mut sent);
        }
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            if !sent.contains(name) {
                walk(name, schema);
            }
        }
    }
}

/// The document as served (pretty JSON, built once).
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(super::openapi()).unwrap_or_default();
        nulls_are_written(&mut doc);
        let mut text = serde_json::to_string_pretty(&doc)
            .unwrap_or_else(|e| format!("{{\"error\": \"the document did not serialize: {e}\"}}"));
        text.push('\n');
        text
    })
}

#[cfg(test)]
mod tests {
    /// The copy the UI's types are generated from is this document: `make api` writes both.
    #[test]
    fn the_ui_s_copy_of_the_document_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../ui/src/api/openapi.json"
        );
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == super::document_json(),
            "ui/src/api/openapi.json is not the API's document: run `make api`"
        );
    }

    /// Every operation says what it answers, and each answer's schema resolves.
    #[test]
    fn every_operation_documents_its_answer() {
        let doc: serde_json::Value = serde_json::from_str(super::document_json()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                operations += 1;
                let ok = op["responses"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(code, _)| code.starts_with('2'))
                    .unwrap_or_else(|| panic!("{method} {path} has no success answer"));
                let text = ok.1.to_string();
                for reference in text.split("#/components/schemas/").skip(1) {
                    let name = reference.split('"').next().unwrap();
                    assert!(
                        schemas.contains_key(name),
                        "{method} {path}: no schema {name}"
                    );
                }
            }
        }
        assert!(operations >= 34, "{operations} operations");
    }
}
