//! Request bodies: the Content-Type rule and JSON / form decoding.
//!
//! Cordial accepts `application/json` and `application/x-www-form-urlencoded`
//! and answers anything else with 415 (Swagger `MediaTypeIsIncorrect`). Form
//! fields use PHP's bracket syntax (`channels[email][address]=..`), since the API
//! is PHP; they decode to the same JSON tree a JSON body would give.

use serde_json::{Map, Value};

use crate::http::errors::ApiError;

/// What kind of body a Content-Type announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Form,
    Other,
}

/// Classifies a Content-Type header value (parameters such as `charset` ignored).
pub fn kind(content_type: Option<&str>) -> Kind {
    let Some(ct) = content_type else {
        return Kind::Other;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Kind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        Kind::Form
    } else {
        Kind::Other
    }
}

/// Decodes the body of a request that is allowed to have one. An empty body is
/// `Null` whatever its Content-Type: Cordial's body-less PUTs (`/clear`,
/// `/unsubscribe`) are sent without one.
pub fn decode(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    match kind(content_type) {
        Kind::Json => serde_json::from_slice(bytes).map_err(|e| {
            ApiError::invalid_field("body", format!("The request body is not valid JSON: {e}"))
        }),
        Kind::Form => Ok(decode_form(bytes)),
        Kind::Other => Err(ApiError::UnsupportedMediaType),
    }
}

/// A best-effort view of any body for the request log: JSON if it parses, a
/// decoded form for form bodies, else the text.
pub fn for_log(content_type: Option<&str>, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        // An import or export source carries the customer's SFTP password: never keep it.
        if let Some(password) = v.pointer_mut("/source/password").filter(|p| p.is_string()) {
            *password = Value::String("***".into());
        }
        if let Some(password) = v
            .pointer_mut("/destination/password")
            .filter(|p| p.is_string())
        {
            *password = Value::String("***".into());
        }
        return v;
    }
    if kind(content_type) == Kind::Form {
        return decode_form(bytes);
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// Decodes `a[b][c]=v&list[]=x` into nested objects and arrays.
pub fn decode_form(bytes: &[u8]) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
    let mut root = Map::new();
    for (name, value) in pairs {
        let (head, rest) = match name.find('[') {
            Some(i) => (&name[..i], &name[i..]),
            None => (name.as_str(), ""),
        };
        let path: Vec<&str> = rest
            .split('[')
            .skip(1)
            .map(|s| s.trim_end_matches(']'))
            .collect();
        insert(&mut root, head, &path, Value::String(value));
    }
    Value::Object(root)
}

fn insert(map: &mut Map<String, Value>, key: &str, path: &[&str], value: Value) {
    let Some((next, rest)) = path.split_first() else {
        map.insert(key.into(), value);
        return;
    };
    if next.is_empty() {
        let slot = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            items.push(value);
        }
        return;
    }
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        insert(inner, next, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_content_types() {
        assert_eq!(kind(Some("application/json; charset=utf-8")), Kind::Json);
        assert_eq!(kind(Some("Application/JSON")), Kind::Json);
        assert_eq!(kind(Some("application/x-www-form-urlencoded")), Kind::Form);
        assert_eq!(kind(Some("text/plain")), Kind::Other);
        assert_eq!(kind(None), Kind::Other);
    }

    #[test]
    fn decodes_or_rejects() {
        assert_eq!(decode(Some("text/plain"), b""), Ok(Value::Null));
        assert_eq!(
            decode(Some("text/plain"), b"{}"),
            Err(ApiError::UnsupportedMediaType)
        );
        assert_eq!(decode(None, b"{}"), Err(ApiError::UnsupportedMediaType));
        assert!(matches!(
            decode(Some("application/json"), b"{oops"),
            Err(ApiError::Validation(_))
        ));
        assert_eq!(
            decode(Some("application/json"), br#"{"a":1}"#),
            Ok(json!({"a": 1}))
        );
    }

    #[test]
    fn decodes_php_style_forms() {
        let v = decode_form(
            b"channels[email][address]=a%40x.io&first_name=Jo+Ann&tags[]=a&tags[]=b&newsletter=true",
        );
        assert_eq!(
            v,
            json!({
                "channels": {"email": {"address": "a@x.io"}},
                "first_name": "Jo Ann",
                "tags": ["a", "b"],
                "newsletter": "true"
            })
        );
    }
}
