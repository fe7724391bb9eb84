//! What the collect API accepts: flat JSON objects of at most 16 KiB, and which of them it
//! takes but drops (`rejected_count`). Pure, so the rules are unit-tested apart from HTTP.

use serde_json::{Map, Value};

/// The largest record the platform takes, as JSON text.
pub const MAX_RECORD_BYTES: usize = 16 * 1024;

/// How a record the platform stores is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Stored,
    /// Taken but dropped, with why (counted in `rejected_count`).
    Dropped(String),
}

/// Checks one record's shape; the error is the platform's complaint about it.
pub fn flat_record(value: &Value, text_len: usize) -> Result<&Map<String, Value>, String> {
    let Value::Object(record) = value else {
        return Err("a record must be a JSON object".into());
    };
    if text_len > MAX_RECORD_BYTES {
        return Err(format!(
            "the record is {text_len} bytes; records are limited to 16 KiB ({MAX_RECORD_BYTES} bytes)"
        ));
    }
    for (field, value) in record {
        let nested = match value {
            Value::Object(_) => true,
            Value::Array(items) => items
                .iter()
                .any(|i| matches!(i, Value::Object(_) | Value::Array(_))),
            _ => false,
        };
        if nested {
            return Err(format!(
                "field `{field}` is nested; records must be flat (no objects, no arrays of objects or arrays)"
            ));
        }
    }
    Ok(record)
}

/// Whether a well-formed record is kept or dropped.
pub fn verdict(record: &Map<String, Value>, timestamp_field: Option<&str>) -> Verdict {
    if record.is_empty() {
        return Verdict::Dropped("an empty record".into());
    }
    match timestamp_field.and_then(|f| record.get(f).map(|v| (f, v))) {
        Some((field, value)) if !readable_time(value) => {
            Verdict::Dropped(format!("`{field}` is not a readable time: {value}"))
        }
        _ => Verdict::Stored,
    }
}

/// RFC 3339, `YYYY-MM-DD HH:MM:SS`, or epoch seconds or milliseconds (number or digits).
fn readable_time(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64().is_some(),
        Value::String(s) => {
            chrono::DateTime::parse_from_rfc3339(s).is_ok()
                || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok()
                || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<(), String> {
        let len = v.to_string().len();
        flat_record(&v, len).map(|_| ())
    }

    #[test]
    fn flat_records_pass_and_nested_ones_are_named() {
        assert!(check(json!({"a": 1, "tags": ["x", 2], "n": null})).is_ok());
        assert!(check(json!({"a": {"b": 1}})).unwrap_err().contains("`a`"));
        assert!(check(json!({"l": [{"b": 1}]})).unwrap_err().contains("`l`"));
        assert!(check(json!({"l": [[1]]})).is_err());
        assert!(check(json!([1])).unwrap_err().contains("object"));
        assert!(
            check(json!({"big": "x".repeat(MAX_RECORD_BYTES)}))
                .unwrap_err()
                .contains("16 KiB")
        );
    }

    #[test]
    fn empty_records_and_unreadable_times_are_dropped() {
        let v = |j: Value| j.as_object().unwrap().clone();
        assert!(matches!(verdict(&v(json!({})), None), Verdict::Dropped(_)));
        for t in [
            json!("2026-12-01T10:00:00Z"),
            json!("2026-12-01 10:00:00"),
            json!(1764583200),
            json!("1764583200000"),
        ] {
            assert_eq!(
                verdict(&v(json!({"t": t})), Some("t")),
                Verdict::Stored,
                "{t}"
            );
        }
        assert!(matches!(
            verdict(&v(json!({"t": "soon"})), Some("t")),
            Verdict::Dropped(_)
        ));
        assert_eq!(
            verdict(&v(json!({"a": 1})), Some("t")),
            Verdict::Stored,
            "missing is kept"
        );
        assert_eq!(verdict(&v(json!({"t": "soon"})), None), Verdict::Stored);
    }
}
