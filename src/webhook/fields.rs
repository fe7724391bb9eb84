//! Typed access to JSON fields, with errors that name the field's path in the body.

use super::PayloadError;
use serde_json::{Map, Value};

/// A field that may be absent or null, but is a string when present.
pub(super) fn optional_string(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, PayloadError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(child(path, key), "a string", other)),
    }
}

pub(super) fn wrong_type(path: String, expected: &str, found: &Value) -> PayloadError {
    PayloadError::new(
        path,
        format!("expected {expected}, found {}", type_name(found)),
    )
}

/// `path.key`, or just `key` at the top of a single-user body.
pub(super) fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// How a value's type reads in a message ("expected a string, found a number").
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
