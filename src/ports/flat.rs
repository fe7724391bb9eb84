//! Checking that a stream record is flat — a JSON object of scalars and arrays of scalars,
//! as the platform's collect API accepts — without building a `serde_json::Value`: every
//! record of every import passes here, so the check walks the text and allocates nothing.
//! Every [`Streams`](super::Streams) store applies it: the bundled host's SQLite and the
//! key-value store on Spin.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

pub fn is_flat_record(record: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(record);
    de.deserialize_map(FlatObject).is_ok() && de.end().is_ok()
}

struct FlatObject;
struct FieldValue;
struct Scalar;

impl<'de> Visitor<'de> for FlatObject {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(FieldValue)?;
        }
        Ok(())
    }
}

/// A field: a scalar or an array of scalars.
impl<'de> de::DeserializeSeed<'de> for FieldValue {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(FieldValue)
    }
}

impl<'de> Visitor<'de> for FieldValue {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar or an array of scalars")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Scalar)?.is_some() {}
        Ok(())
    }
    scalars!();
}

impl<'de> de::DeserializeSeed<'de> for Scalar {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Scalar)
    }
}

impl<'de> Visitor<'de> for Scalar {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar")
    }
    scalars!();
}

/// Accepts every scalar form; maps (and, for `Scalar`, sequences) fall to the default
/// methods, which refuse them.
macro_rules! scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
    };
}
use scalars;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_and_arrays_of_scalars_only() {
        assert!(is_flat_record(
            r#"{"a":"x","b":1,"c":-2.5,"d":true,"e":null,"f":["x",1,null]}"#
        ));
        assert!(is_flat_record("{}"));
        assert!(!is_flat_record(r#"{"a":{"b":1}}"#));
        assert!(!is_flat_record(r#"{"a":[{"b":1}]}"#));
        assert!(!is_flat_record(r#"{"a":[[1]]}"#));
        assert!(!is_flat_record(r#"[1]"#));
        assert!(!is_flat_record("not json"));
        assert!(!is_flat_record(r#"{"a":1} trailing"#));
        assert!(is_flat_record(r#"{"s":"with \"escapes\" \u00e9"}"#));
    }
}
