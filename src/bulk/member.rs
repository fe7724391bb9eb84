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
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.wanted.iter().position(|w| w.as_ref() == key) {
                Some(i) => self.values[i] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
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
        assert!(pick("{\"email\":", &["email"]).is_err());
    }
}
