//! The account's attribute types, kept in the job's state between calls so a delivery batch
//! does not read the schema from Cordial every time. Refreshed after ten minutes, or at once
//! when a mapped attribute is not in the cached copy (it may have just been created).

use super::AttributeTypes;
use crate::cordial::AttributeType;
use chrono::{DateTime, Duration};
use serde_json::{Map, Value, json};

/// The state key the cache lives under.
pub const KEY: &str = "attribute-types";

const MAX_AGE_MINUTES: i64 = 10;

/// The cached types, if `cached` is fresh at `now` and knows every attribute in `needed`.
pub fn read(cached: Option<&[u8]>, now: &str, needed: &[&str]) -> Option<AttributeTypes> {
    let value: Value = serde_json::from_slice(cached?).ok()?;
    let fetched = DateTime::parse_from_rfc3339(value.get("fetched_at")?.as_str()?).ok()?;
    let now = DateTime::parse_from_rfc3339(now).ok()?;
    if now - fetched > Duration::minutes(MAX_AGE_MINUTES) || now < fetched {
        return None;
    }
    let types: AttributeTypes = value
        .get("types")?
        .as_object()?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), AttributeType::parse(v.as_str()?)?)))
        .collect();
    needed
        .iter()
        .all(|k| types.contains_key(*k))
        .then_some(types)
}

/// The bytes to store for `types` fetched at `now`.
pub fn write(types: &AttributeTypes, now: &str) -> Vec<u8> {
    let types: Map<String, Value> = types
        .iter()
        .map(|(k, t)| (k.clone(), Value::from(t.as_str())))
        .collect();
    json!({ "fetched_at": now, "types": types })
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_and_complete_caches_are_used_others_are_not() {
        let types: AttributeTypes = [("age".to_owned(), AttributeType::Number)].into();
        let bytes = write(&types, "2026-11-22T10:00:00Z");
        assert_eq!(
            read(Some(&bytes), "2026-11-22T10:09:00Z", &["age"]),
            Some(types)
        );
        assert_eq!(
            read(Some(&bytes), "2026-11-22T10:11:00Z", &["age"]),
            None,
            "stale"
        );
        assert_eq!(
            read(Some(&bytes), "2026-11-22T10:01:00Z", &["new_attr"]),
            None,
            "incomplete"
        );
        assert_eq!(read(None, "2026-11-22T10:01:00Z", &[]), None);
        assert_eq!(read(Some(b"junk"), "2026-11-22T10:01:00Z", &[]), None);
    }
}
