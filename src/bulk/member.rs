//! Reading only the fields a bulk row needs from a member's JSON, without building a
//! `serde_json::Value`: each wanted field is kept as its raw JSON text (borrowed from the
//! input), every other field is skipped. A million-member export then allocates almost
//! nothing per member, which matters most inside the wasm component.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The raw JSON text of the wanted fields of one member, by position in `wanted`.
pub struct Picked<'a> {
    pub values: Vec<Option<&'a RawValue>>,
}

/// Picks `wanted` fields from the JSON object `text`. The last occurrence of a duplicated key
/// wins, as with `serde_json::Value`.
pub fn pick<'a, W: AsRef<str>>(text: &'a str, wanted: &[W]) -> Result<Picked<'a>, String> {
    let mut values = vec![None; wanted.len()];
    let mut de = serde_json::Deserializer::from_str(text);
    PickSeed {
        wanted,
        values: &mut values,
    }
    .deserialize(&mut de)
    .map_err(|e| format!("not JSON: {e}"))?;
    de.end().map_err(|e| format!("not JSON: {e}"))?;
    Ok(Picked { values })
}

struct PickSeed<'w, 'v, 'a, W> {
    wanted: &'w [W],
    values: &'v mut Vec<Option<&'a RawValue>>,
}

impl<'de, 'w, 'v, W: AsRef<str>> DeserializeSeed<'de> for PickSeed<'w, 'v, 'de, W> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, 'w, 'v, W: AsRef<str>> Visitor<'de> for PickSeed<'w, 'v, 'de, W> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(found) = map.next_key_seed(WantedKey(self.wanted))? {
            match found {
                Some(i) => self.values[i] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key, read as its position in the wanted fields (`None`: not wanted). The key is
/// compared where it lies: serde's `Cow<str>` would copy every key into a `String` (its
/// `Deserialize` never borrows), one allocation per field per record, which showed as 15% of
/// the import-activity component's time.
struct WantedKey<'w, W>(&'w [W]);

impl<'de, W: AsRef<str>> DeserializeSeed<'de> for WantedKey<'_, W> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, W: AsRef<str>> Visitor<'de> for WantedKey<'_, W> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|w| w.as_ref() == key))
    }
}

/// A raw JSON value as cell text: strings unquoted (and unescaped only when they hold
/// escapes), `null` as empty, numbers, booleans, arrays and objects as their JSON text.
pub fn raw_text(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') if !text.contains('\\') => Ok(Cow::Borrowed(&text[1..text.len() - 1])),
        Some(b'"') => serde_json::from_str::<String>(text)
            .map(Cow::Owned)
            .map_err(|e| e.to_string()),
        Some(b'n') => Ok(Cow::Borrowed("")),
        _ => Ok(Cow::Borrowed(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_wanted_fields_are_kept_as_raw_text() {
        let text = r#"{"email":"A@x.io","skip":{"deep":[1,2]},"name":"Zo\u00eb \"Z\"","age":41,"tags":["a","b"],"none":null}"#;
        let p = pick(text, &["email", "name", "age", "tags", "none", "missing"]).unwrap();
        let cells: Vec<Option<String>> = p
            .values
            .iter()
            .map(|v| v.map(|r| raw_text(r).unwrap().into_owned()))
            .collect();
        assert_eq!(
            cells,
            [
                Some("A@x.io".to_owned()),
                Some("Zoë \"Z\"".to_owned()),
                Some("41".to_owned()),
                Some(r#"["a","b"]"#.to_owned()),
                Some(String::new()),
                None
            ]
        );
        assert!(pick("[1,2]", &["email"]).is_err());
        assert!(pick(r#"{"email":1,"a":2,}"#, &["email"]).is_err());
    }

    #[test]
    fn keys_are_matched_after_unescaping_and_the_last_duplicate_wins() {
        let text = r#"{"em\u0061il":"first@x.io","n":1,"email":"last@x.io","\"q\"":true}"#;
        let p = pick(text, &["email", "\"q\"", "n"]).unwrap();
        let raw: Vec<Option<&str>> = p.values.iter().map(|v| v.map(RawValue::get)).collect();
        assert_eq!(raw, [Some("\"last@x.io\""), Some("true"), Some("1")]);
        let p = pick(
            r#"{"email":"only@x.io","em\u0061il":"escaped@x.io"}"#,
            &["email"],
        )
        .unwrap();
        assert_eq!(p.values[0].map(RawValue::get), Some("\"escaped@x.io\""));
        assert!(pick("{\"email\":", &["email"]).is_err());
    }
}
