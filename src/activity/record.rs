//! One Cordial activity record → one `cordial_activity` stream record, with Lytics' default
//! mapping plus the job's extra mappings. Timestamps become RFC 3339 UTC; `first` a boolean.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The stream the job writes.
pub const STREAM: &str = "cordial_activity";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Date,
}

/// Source field → (stream field, type), as the Lytics docs give the default mapping.
const DEFAULT_MAPPING: [(&str, &str, Kind); 8] = [
    ("cID", "cr_contact_id", Kind::Text),
    ("first", "cr_first", Kind::Bool),
    ("_id", "cr_system_event_id", Kind::Text),
    ("mcID", "cr_message_contact_id", Kind::Text),
    ("message_name", "cr_message_name", Kind::Text),
    ("message_sent", "cr_message_sent_timestamp", Kind::Date),
    ("action", "cr_event_action", Kind::Text),
    ("time", "cr_event_timestamp", Kind::Date),
];

/// A mapped record: its dedupe key (Cordial's `_id`) and the stream record as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub key: String,
    pub json: String,
}

/// Maps one export record. Fails (for the quarantine) when the record is not an object, has
/// no `_id`, or holds a timestamp or `first` value that cannot be read.
pub fn map_record(raw: &Value, extra: &BTreeMap<String, String>) -> Result<StreamRecord, String> {
    let Value::Object(fields) = raw else {
        return Err("the record is not a JSON object".into());
    };
    let key = match fields.get("_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("the record has no `_id`".into()),
    };
    let mut out = Map::new();
    for (source, target, kind) in DEFAULT_MAPPING {
        let Some(value) = fields.get(source).filter(|v| !v.is_null()) else {
            continue;
        };
        let mapped = match kind {
            Kind::Text => text(value),
            Kind::Bool => Value::Bool(boolean(value).map_err(|e| format!("`{source}`: {e}"))?),
            Kind::Date => Value::String(timestamp(value).map_err(|e| format!("`{source}`: {e}"))?),
        };
        out.insert(target.to_owned(), mapped);
    }
    for (source, target) in extra {
        if let Some(value) = lookup(fields, source).filter(|v| !v.is_null()) {
            out.insert(target.clone(), flat(value));
        }
    }
    Ok(StreamRecord {
        key,
        json: Value::Object(out).to_string(),
    })
}

/// `properties.url` → the nested value.
fn lookup<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = fields.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut value = fields.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

fn text(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        other => Value::String(other.to_string()),
    }
}

/// Streams hold flat records: nested objects become JSON text.
fn flat(value: &Value) -> Value {
    match value {
        Value::Object(_) => Value::String(value.to_string()),
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            Value::String(value.to_string())
        }
        other => other.clone(),
    }
}

/// `true`, `1`, `"true"`, `"1"` (and their false forms).
pub fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            other => Err(format!("`{other}` is not a boolean")),
        },
        other => Err(format!("{other} is not a boolean")),
    }
}

/// Cordial's timestamp forms (`2017-03-13T22:02:42+0000`, `…Z`, with or without
/// milliseconds, `+00:00`, a space for the `T`) → RFC 3339 UTC.
pub fn timestamp(value: &Value) -> Result<String, String> {
    let Value::String(text) = value else {
        return Err(format!("{value} is not a timestamp"));
    };
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%z"))
        .map_err(|_| format!("`{t}` is not a timestamp Cordial writes"))?;
    Ok(parsed
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_mapping_types_and_renames_the_fields() {
        let raw = json!({
            "_id": "58d44d7d5c90d40c7992ca66", "cID": "58c6dae96e05abd5fef72184", "first": "true",
            "mcID": "45:f2:d170323:58c6:1490308322", "action": "open",
            "time": "2017-03-23T22:34:37+0200", "message_sent": "2017-03-23T20:00:00.250Z",
            "message_name": "Spring sale", "email": "a@x.io", "properties": {"url": "https://x.io/a"}
        });
        let extra = BTreeMap::from([("properties.url".to_owned(), "cr_url".to_owned())]);
        let r = map_record(&raw, &extra).unwrap();
        assert_eq!(r.key, "58d44d7d5c90d40c7992ca66");
        let v: Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(
            v,
            json!({
                "cr_system_event_id": "58d44d7d5c90d40c7992ca66",
                "cr_contact_id": "58c6dae96e05abd5fef72184", "cr_first": true,
                "cr_message_contact_id": "45:f2:d170323:58c6:1490308322", "cr_event_action": "open",
                "cr_event_timestamp": "2017-03-23T20:34:37Z",
                "cr_message_sent_timestamp": "2017-03-23T20:00:00.250Z",
                "cr_message_name": "Spring sale", "cr_url": "https://x.io/a"
            })
        );
    }

    #[test]
    fn first_and_timestamps_accept_every_form_cordial_writes() {
        for (v, want) in [
            (json!(true), true),
            (json!(1), true),
            (json!("true"), true),
            (json!("0"), false),
            (json!(false), false),
        ] {
            assert_eq!(boolean(&v), Ok(want), "{v}");
        }
        assert!(boolean(&json!("maybe")).is_err());
        for t in [
            "2017-03-13T22:02:42+0000",
            "2017-03-13T22:02:42Z",
            "2017-03-13T22:02:42.000Z",
            "2017-03-13 22:02:42+00:00",
        ] {
            assert_eq!(timestamp(&json!(t)).unwrap(), "2017-03-13T22:02:42Z", "{t}");
        }
        assert!(timestamp(&json!("13/03/2017")).is_err());
    }

    #[test]
    fn records_without_an_id_or_with_bad_values_are_refused() {
        assert!(
            map_record(&json!({"cID": "x"}), &BTreeMap::new())
                .unwrap_err()
                .contains("_id")
        );
        assert!(
            map_record(&json!({"_id": "1", "time": "yesterday"}), &BTreeMap::new())
                .unwrap_err()
                .contains("time")
        );
        assert!(map_record(&json!([1]), &BTreeMap::new()).is_err());
    }
}
