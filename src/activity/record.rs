//! One Cordial activity record → one `cordial_activity` stream record, with Lytics' default
//! mapping plus the job's extra mappings. Timestamps become RFC 3339 UTC; `first` a boolean.

use super::timestamp::{push_utc, to_utc};
use crate::bulk::member::{pick, raw_text};
use serde_json::Value;
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

/// Maps export records (their JSON text) with the default mapping plus the job's extra
/// mappings. Fails (for the quarantine) when the text is not a
/// JSON object, has no `_id`, or holds a timestamp or `first` value that cannot be read.
///
/// Only the mapped fields are read, as raw JSON text borrowed from the input (see
/// [`pick`]), and the stream record is written directly: no `serde_json::Value` is built for
/// a record unless an extra mapping reaches into a nested field.
pub struct RecordMapper<'e> {
    extra: &'e BTreeMap<String, String>,
    /// The top-level fields a record is read for: the default mapping's, then the first
    /// segment of each extra mapping's source. Worked out once per file, not per record.
    wanted: Vec<&'e str>,
    /// Each stream field's name as written, `"name":`: the default mapping's, then each
    /// extra mapping's. Escaped once per file, not once per record.
    names: Vec<String>,
}

impl<'e> RecordMapper<'e> {
    pub fn new(extra: &'e BTreeMap<String, String>) -> RecordMapper<'e> {
        let mut wanted: Vec<&str> = DEFAULT_MAPPING
            .iter()
            .map(|(source, _, _)| *source)
            .collect();
        wanted.extend(
            extra
                .keys()
                .map(|source| source.split('.').next().unwrap_or(source)),
        );
        let names = DEFAULT_MAPPING
            .iter()
            .map(|(_, target, _)| *target)
            .chain(extra.values().map(String::as_str))
            .map(|target| {
                let mut name = String::new();
                push_json_string(&mut name, target);
                name.push(':');
                name
            })
            .collect();
        RecordMapper {
            extra,
            wanted,
            names,
        }
    }

    pub fn map(&self, text: &str) -> Result<StreamRecord, String> {
        map_record(text, self.extra, &self.wanted, &self.names)
    }
}

fn map_record(
    text: &str,
    extra: &BTreeMap<String, String>,
    wanted: &[&str],
    names: &[String],
) -> Result<StreamRecord, String> {
    let picked = pick(text, wanted).map_err(|e| {
        if text.trim_start().starts_with('{') {
            e
        } else {
            "the record is not a JSON object".to_owned()
        }
    })?;
    let key = match picked.values[ID] {
        Some(raw) if raw.get().starts_with('"') => raw_text(raw)?.into_owned(),
        Some(raw) if raw.get().starts_with(|c: char| c.is_ascii_digit()) => raw.get().to_owned(),
        _ => return Err("the record has no `_id`".into()),
    };
    if key.is_empty() {
        return Err("the record has no `_id`".into());
    }
    let mut out = String::with_capacity(text.len());
    out.push('{');
    for (i, (source, _, kind)) in DEFAULT_MAPPING.iter().enumerate() {
        let Some(raw) = picked.values[i].filter(|r| r.get() != "null") else {
            continue;
        };
        field(&mut out, &names[i]);
        match kind {
            Kind::Text if raw.get().starts_with('"') => out.push_str(raw.get()),
            Kind::Text => push_json_string(&mut out, raw.get()),
            Kind::Bool if matches!(raw.get(), "true" | "false") => out.push_str(raw.get()),
            Kind::Bool => {
                let value: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
                let b = boolean(&value).map_err(|e| format!("`{source}`: {e}"))?;
                out.push_str(if b { "true" } else { "false" });
            }
            Kind::Date => {
                // RFC 3339 text holds nothing JSON must escape.
                let text = raw_text(raw)?;
                out.push('"');
                push_utc(&mut out, &text).map_err(|e| format!("`{source}`: {e}"))?;
                out.push('"');
            }
        }
    }
    for (n, (source, target)) in extra.iter().enumerate() {
        if DEFAULT_MAPPING.iter().any(|(_, t, _)| t == target) {
            continue; // the default mapping's fields are not overwritten
        }
        let Some(raw) = picked.values[DEFAULT_MAPPING.len() + n] else {
            continue;
        };
        let value = match source.split_once('.') {
            None => serde_json::from_str::<Value>(raw.get()).map_err(|e| e.to_string())?,
            Some((_, rest)) => {
                let top: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
                match rest.split('.').try_fold(&top, |v, part| v.get(part)) {
                    Some(v) => v.clone(),
                    None => continue,
                }
            }
        };
        if value.is_null() {
            continue;
        }
        field(&mut out, &names[DEFAULT_MAPPING.len() + n]);
        out.push_str(&flat(&value).to_string());
    }
    out.push('}');
    Ok(StreamRecord { key, json: out })
}

/// Where `_id` is in the default mapping.
const ID: usize = 2;

/// Writes a field's `"name":` (as [`RecordMapper`] escaped it), after a comma when a field
/// came before.
fn field(out: &mut String, name: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    out.push_str(name);
}

/// `text` as a JSON string, escaped in place (no string of its own per field).
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    let mut clean = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&text[clean..i]);
        if escape.is_empty() {
            let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        clean = i + 1;
    }
    out.push_str(&text[clean..]);
    out.push('"');
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
    match value {
        Value::String(text) => to_utc(text),
        other => Err(format!("{other} is not a timestamp")),
    }
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
        let r = RecordMapper::new(&extra).map(&raw.to_string()).unwrap();
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

    /// Field names are escaped once per mapper; an extra mapping may name a field with
    /// characters JSON must escape, and a record still comes out valid.
    #[test]
    fn extra_field_names_are_escaped() {
        let extra = BTreeMap::from([("plan".to_owned(), "say \"hi\"\\now".to_owned())]);
        let raw =
            json!({"_id": "1", "action": "open", "time": "2017-03-23T20:00:00Z", "plan": "gold"});
        let r = RecordMapper::new(&extra).map(&raw.to_string()).unwrap();
        let v: Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(v["say \"hi\"\\now"], "gold", "{}", r.json);
    }

    #[test]
    fn strings_are_written_as_the_json_strings_they_were() {
        for s in [
            "plain",
            "quote\"back\\slash",
            "new\nline\ttab\r",
            "\u{1}\u{1f}\u{7f}",
            "é ü 🎉",
        ] {
            let mut out = String::from("x");
            push_json_string(&mut out, s);
            assert_eq!(
                serde_json::from_str::<String>(&out[1..]).unwrap(),
                s,
                "{out}"
            );
        }
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
        let none = BTreeMap::new();
        let mapper = RecordMapper::new(&none);
        let map = |v: Value| mapper.map(&v.to_string());
        assert!(map(json!({"cID": "x"})).unwrap_err().contains("_id"));
        assert!(
            map(json!({"_id": "1", "time": "yesterday"}))
                .unwrap_err()
                .contains("time")
        );
        assert!(map(json!([1])).unwrap_err().contains("not a JSON object"));
        assert!(mapper.map("{broken").is_err());
    }
}
