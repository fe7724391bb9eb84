//! Fields that import and export requests read alike: non-blank text, and the CSV
//! delimiter of the file a job reads or writes.

use serde_json::{Map, Value};

/// A non-blank text (or number) field.
pub fn text(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `delimiter` field: `,` when absent, else one ASCII character that can
/// delimit CSV cells (not a quote or a line break). `None` for anything else,
/// which each request refuses in its own words.
pub fn delimiter(fields: &Map<String, Value>) -> Option<u8> {
    match fields.get("delimiter") {
        None | Some(Value::Null) => Some(b','),
        Some(Value::String(d)) => match d.as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Some(*b),
            _ => None,
        },
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn delimiter_of(body: Value) -> Option<u8> {
        delimiter(body.as_object().unwrap())
    }

    #[test]
    fn a_delimiter_is_one_character_that_can_delimit_cells() {
        assert_eq!(delimiter_of(json!({})), Some(b','));
        assert_eq!(delimiter_of(json!({"delimiter": null})), Some(b','));
        assert_eq!(delimiter_of(json!({"delimiter": "|"})), Some(b'|'));
        assert_eq!(delimiter_of(json!({"delimiter": "\t"})), Some(b'\t'));
        for bad in [
            json!("\""),
            json!("\n"),
            json!("ab"),
            json!(""),
            json!("é"),
            json!(1),
        ] {
            assert_eq!(delimiter_of(json!({ "delimiter": bad })), None, "{bad}");
        }
    }
}
