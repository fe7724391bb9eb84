//! Platform values → the Cordial type of the attribute they are mapped to. Profiles carry
//! numbers as strings (`"41"`), booleans as `"t"`/`"f"`, dates in many forms; Cordial wants
//! a number for a number attribute, ISO-8601 for a date, a list for an array.

use super::client::AttributeType;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Number, Value};

/// The Cordial attributes of a field mapping whose types a job must know before it coerces
/// values (a geo sub-field such as `address.city` is always text).
pub fn typed_targets(mapping: &std::collections::BTreeMap<String, String>) -> Vec<&str> {
    mapping
        .values()
        .filter(|t| !t.contains('.'))
        .map(String::as_str)
        .collect()
}

/// `value` as Cordial's `kind`, or why it cannot be.
pub fn coerce(value: &Value, kind: AttributeType) -> Result<Value, String> {
    match kind {
        AttributeType::String => Ok(match value {
            Value::String(_) => value.clone(),
            Value::Array(items) => {
                Value::String(items.iter().map(scalar_text).collect::<Vec<_>>().join(", "))
            }
            other => Value::String(scalar_text(other)),
        }),
        AttributeType::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => {
                parse_number(s.trim()).ok_or_else(|| format!("`{s}` is not a number"))
            }
            other => Err(format!("{other} is not a number")),
        },
        AttributeType::Date => date(value).map(Value::String),
        AttributeType::Array => Ok(match value {
            Value::Array(_) => value.clone(),
            other => Value::Array(vec![other.clone()]),
        }),
        AttributeType::Geo => match value {
            Value::Object(_) => Ok(value.clone()),
            other => Err(format!(
                "{other} is not an address object; map a text field to a geo sub-field such as `address.city`"
            )),
        },
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    let f: f64 = text.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

/// ISO-8601 UTC (`2026-11-22T10:00:00Z`) from RFC 3339 (any offset, any precision),
/// Cordial's `+0000` form, a naive date-time (taken as UTC), `yyyy-mm-dd`, or Unix time in
/// seconds or milliseconds.
fn date(value: &Value) -> Result<String, String> {
    let utc = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    match value {
        Value::Number(n) => {
            let n = n
                .as_i64()
                .ok_or_else(|| format!("{n} is not a Unix time"))?;
            let t = if n.abs() >= 100_000_000_000 {
                Utc.timestamp_millis_opt(n)
            } else {
                Utc.timestamp_opt(n, 0)
            };
            t.single()
                .map(utc)
                .ok_or_else(|| format!("{n} is not a Unix time"))
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(utc(t.with_timezone(&Utc)));
            }
            for f in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
                if let Ok(t) = DateTime::parse_from_str(s, f) {
                    return Ok(utc(t.with_timezone(&Utc)));
                }
            }
            for f in [
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S",
            ] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                    return Ok(utc(t.and_utc()));
                }
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(utc(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
            }
            if let Ok(n) = s.parse::<i64>() {
                return date(&Value::from(n));
            }
            Err(format!(
                "`{s}` is not a date Cordial understands (use ISO-8601, e.g. 2026-11-22T10:00:00Z)"
            ))
        }
        other => Err(format!("{other} is not a date")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_from_text_and_errors_for_words() {
        assert_eq!(coerce(&json!("41"), AttributeType::Number), Ok(json!(41)));
        assert_eq!(
            coerce(&json!(" 2.5 "), AttributeType::Number),
            Ok(json!(2.5))
        );
        assert!(
            coerce(&json!("forty"), AttributeType::Number)
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn dates_in_the_forms_profiles_carry() {
        let want = Ok(json!("2020-07-15T15:55:43Z"));
        assert_eq!(
            coerce(&json!("2020-07-15T08:55:43.041-07:00"), AttributeType::Date),
            want
        );
        assert_eq!(
            coerce(&json!("2020-07-15T15:55:43+0000"), AttributeType::Date),
            want
        );
        assert_eq!(
            coerce(&json!("2020-07-15T15:55:43"), AttributeType::Date),
            want
        );
        assert_eq!(coerce(&json!(1594828543), AttributeType::Date), want);
        assert_eq!(coerce(&json!(1594828543000i64), AttributeType::Date), want);
        assert_eq!(
            coerce(&json!("2020-07-15"), AttributeType::Date),
            Ok(json!("2020-07-15T00:00:00Z"))
        );
        assert!(coerce(&json!("last tuesday"), AttributeType::Date).is_err());
    }

    #[test]
    fn strings_arrays_and_geo() {
        assert_eq!(coerce(&json!(12), AttributeType::String), Ok(json!("12")));
        assert_eq!(
            coerce(&json!(["a", 1]), AttributeType::String),
            Ok(json!("a, 1"))
        );
        assert_eq!(
            coerce(&json!("shoes"), AttributeType::Array),
            Ok(json!(["shoes"]))
        );
        assert_eq!(
            coerce(&json!({"city": "Portland"}), AttributeType::Geo),
            Ok(json!({"city": "Portland"}))
        );
        assert!(
            coerce(&json!("Portland"), AttributeType::Geo)
                .unwrap_err()
                .contains("address.city")
        );
    }
}
