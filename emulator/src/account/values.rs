//! Checking attribute values against their declared type.
//!
//! Cordial runs Laravel-style validation: a value of the wrong type is a 422 with
//! a per-key message, not a silent coercion. The few coercions kept here are the
//! ones Laravel's rules themselves make (a numeric string passes `numeric`, `1`
//! and `"0"` pass `boolean`), so the fake is neither stricter nor looser than the
//! real validators as far as the docs let us tell.

use serde_json::{Map, Number, Value};

use crate::config::AttributeType;
use crate::model::store::Attribute;
use crate::time;

/// Sub-fields of a geo attribute (Cordial's contact-variables docs).
pub const GEO_FIELDS: &[&str] = &[
    "street_address",
    "postal_code",
    "country",
    "state",
    "city",
    "tz",
    "loc",
    "countryISO",
    "auto",
];

/// Default `validators.max` for strings (the Swagger: "Min default is 0 and max default is 128").
const DEFAULT_MAX_CHARS: f64 = 128.0;
/// Default `options.maxitems` for arrays.
const DEFAULT_MAX_ITEMS: u64 = 25;

/// A boolean the way Laravel's `boolean` rule reads one (plus the `"true"`/`"false"`
/// strings a form-encoded body carries).
pub fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A number, or a string holding one.
fn lenient_number(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return Some(i.into());
            }
            s.parse::<f64>().ok().and_then(Number::from_f64)
        }
        _ => None,
    }
}

fn bound(attr: &Attribute, name: &str) -> Option<f64> {
    attr.validators
        .get(name)
        .and_then(|v| lenient_number(v)?.as_f64())
}

fn check_string(attr: &Attribute, field: &str, s: &str) -> Result<(), String> {
    let chars = s.chars().count() as f64;
    let max = bound(attr, "max").unwrap_or(DEFAULT_MAX_CHARS);
    if chars > max {
        return Err(format!(
            "The {field} may not be greater than {max} characters."
        ));
    }
    if let Some(min) = bound(attr, "min")
        && chars < min
    {
        return Err(format!("The {field} must be at least {min} characters."));
    }
    Ok(())
}

/// Validates `value` for `attr` and returns the value to store. `Null` clears.
/// `field` is the key the message names (the attribute key as sent).
pub fn check(attr: &Attribute, field: &str, value: &Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    match attr.r#type {
        AttributeType::String => match value {
            Value::String(s) => check_string(attr, field, s).map(|()| value.clone()),
            _ => Err(format!("The {field} must be a string.")),
        },
        AttributeType::Number => {
            let n =
                lenient_number(value).ok_or_else(|| format!("The {field} must be a number."))?;
            let x = n.as_f64().unwrap_or_default();
            if let Some(max) = bound(attr, "max")
                && x > max
            {
                return Err(format!("The {field} may not be greater than {max}."));
            }
            if let Some(min) = bound(attr, "min")
                && x < min
            {
                return Err(format!("The {field} must be at least {min}."));
            }
            Ok(Value::Number(n))
        }
        AttributeType::Date => value
            .as_str()
            .and_then(time::parse_iso8601)
            .map(|t| Value::String(time::format(t)))
            .ok_or_else(|| format!("The {field} is not a valid date.")),
        AttributeType::Array => {
            let Value::Array(items) = value else {
                return Err(format!("The {field} must be an array."));
            };
            let max_items = attr
                .options
                .get("maxitems")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_MAX_ITEMS);
            if items.len() as u64 > max_items {
                return Err(format!(
                    "The {field} may not have more than {max_items} items."
                ));
            }
            for item in items {
                match item {
                    Value::String(s) => check_string(attr, field, s)?,
                    Value::Number(_) | Value::Bool(_) => {}
                    _ => return Err(format!("The {field} items must be strings or numbers.")),
                }
            }
            Ok(value.clone())
        }
        AttributeType::Geo => {
            let Value::Object(fields) = value else {
                return Err(format!("The {field} must be an object of address fields."));
            };
            let mut out = Map::new();
            for (k, v) in fields {
                let v = check_geo_field(&format!("{field}.{k}"), k, v)?;
                if !v.is_null() {
                    out.insert(k.clone(), v);
                }
            }
            Ok(Value::Object(out))
        }
    }
}

/// Validates one geo sub-field (`address.city`, or a key inside a geo object).
/// An unknown sub-field is reported as not part of the schema, like any unknown key.
pub fn check_geo_field(full_key: &str, sub: &str, value: &Value) -> Result<Value, String> {
    if !GEO_FIELDS.contains(&sub) {
        return Err(crate::http::errors::not_in_schema(full_key));
    }
    match (sub, value) {
        (_, Value::Null) => Ok(Value::Null),
        ("loc", Value::Object(loc)) => {
            let mut out = Map::new();
            for axis in ["lat", "lon"] {
                let n = loc
                    .get(axis)
                    .and_then(lenient_number)
                    .ok_or_else(|| format!("The {full_key}.{axis} must be a number."))?;
                out.insert(axis.into(), Value::Number(n));
            }
            Ok(Value::Object(out))
        }
        ("loc", _) => Err(format!(
            "The {full_key} must be an object with lat and lon."
        )),
        (_, Value::String(_) | Value::Number(_) | Value::Bool(_)) => Ok(value.clone()),
        _ => Err(format!("The {full_key} must be a string.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attr(t: AttributeType) -> Attribute {
        Attribute::new("k".into(), "K".into(), t, time::now())
    }

    #[test]
    fn numbers_accept_numeric_strings_only() {
        let a = attr(AttributeType::Number);
        assert_eq!(check(&a, "k", &json!(42)), Ok(json!(42)));
        assert_eq!(check(&a, "k", &json!("42")), Ok(json!(42)));
        assert_eq!(check(&a, "k", &json!("4.5")), Ok(json!(4.5)));
        assert_eq!(
            check(&a, "k", &json!("forty")),
            Err("The k must be a number.".into())
        );
        assert!(check(&a, "k", &json!([1])).is_err());
    }

    #[test]
    fn dates_are_normalised_to_cordial_format() {
        let a = attr(AttributeType::Date);
        assert_eq!(
            check(&a, "k", &json!("1990-05-01")),
            Ok(json!("1990-05-01T00:00:00+0000"))
        );
        assert_eq!(
            check(&a, "k", &json!("May 1st")),
            Err("The k is not a valid date.".into())
        );
        assert!(check(&a, "k", &json!(19900501)).is_err());
    }

    #[test]
    fn strings_arrays_and_geo() {
        assert!(check(&attr(AttributeType::String), "k", &json!(5)).is_err());
        assert!(check(&attr(AttributeType::String), "k", &json!("x".repeat(129))).is_err());
        assert!(check(&attr(AttributeType::Array), "k", &json!("a")).is_err());
        assert!(check(&attr(AttributeType::Array), "k", &json!(vec![1; 26])).is_err());
        assert_eq!(
            check(&attr(AttributeType::Array), "k", &json!(["a", 1])),
            Ok(json!(["a", 1]))
        );
        let g = attr(AttributeType::Geo);
        assert_eq!(
            check(
                &g,
                "k",
                &json!({"city": "San Diego", "loc": {"lat": "32.7", "lon": -117.1}})
            ),
            Ok(json!({"city": "San Diego", "loc": {"lat": 32.7, "lon": -117.1}}))
        );
        assert_eq!(
            check(&g, "k", &json!({"planet": "Mars"})),
            Err("key k.planet is not part of the schema for this resource".into())
        );
        assert!(check(&g, "k", &json!("San Diego")).is_err());
    }

    #[test]
    fn null_clears_any_type() {
        for t in AttributeType::ALL {
            assert_eq!(check(&attr(t), "k", &Value::Null), Ok(Value::Null));
        }
    }
}
