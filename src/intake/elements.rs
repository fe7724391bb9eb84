//! A request body read as the elements it carries, one at a time: each element of a
//! top-level JSON array in turn, or the body itself when it is anything else. The tree of
//! the whole body never exists: built at once, a 16 MiB array of `1`s took 352 MiB (a
//! `Value` per element, and the array's growth), and every sender at once as much again.
//! Here only the element being read is a tree; a bad one stops the reading at once.

use serde::Deserializer as _;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum ElementsError<E> {
    /// The body is not JSON (or an element of it is too deep to read).
    NotJson(serde_json::Error),
    /// `each` refused an element.
    Element(E),
}

/// Hands `each` every element of a top-level array with its index, in order, or the body
/// itself (index `None`) when it is not an array; stops at the first error.
pub fn each_element<E>(
    body: &[u8],
    mut each: impl FnMut(Option<usize>, Value) -> Result<(), E>,
) -> Result<(), ElementsError<E>> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        let whole: Value = serde_json::from_slice(body).map_err(ElementsError::NotJson)?;
        return each(None, whole).map_err(ElementsError::Element);
    }
    let mut refused = None;
    let mut reader = serde_json::Deserializer::from_slice(body);
    let read = reader.deserialize_seq(Elements {
        each: &mut each,
        refused: &mut refused,
    });
    if let Some(e) = refused {
        return Err(ElementsError::Element(e));
    }
    read.and_then(|()| reader.end())
        .map_err(ElementsError::NotJson)
}

struct Elements<'a, F, E> {
    each: &'a mut F,
    refused: &'a mut Option<E>,
}

impl<'de, F, E> Visitor<'de> for Elements<'_, F, E>
where
    F: FnMut(Option<usize>, Value) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(element) = seq.next_element::<Value>()? {
            if let Err(e) = (self.each)(Some(index), element) {
                *self.refused = Some(e);
                return Err(A::Error::custom("an element was refused"));
            }
            index += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: &str) -> Result<Vec<(Option<usize>, Value)>, ElementsError<String>> {
        let mut seen = Vec::new();
        each_element(body.as_bytes(), |i, v| {
            if v == json!("bad") {
                return Err(format!("bad at {i:?}"));
            }
            seen.push((i, v));
            Ok(())
        })
        .map(|()| seen)
    }

    #[test]
    fn an_array_gives_its_elements_in_order_and_anything_else_itself() {
        let elements = read(r#" [1, {"a": 2}, []] "#).unwrap();
        assert_eq!(
            elements,
            [
                (Some(0), json!(1)),
                (Some(1), json!({"a": 2})),
                (Some(2), json!([]))
            ]
        );
        assert_eq!(read(r#"{"a": 1}"#).unwrap(), [(None, json!({"a": 1}))]);
        assert_eq!(read("[]").unwrap(), []);
    }

    #[test]
    fn the_first_refused_element_stops_the_reading_and_broken_json_is_named() {
        match read(r#"[1, "bad", "bad"]"#) {
            Err(ElementsError::Element(e)) => assert_eq!(e, "bad at Some(1)"),
            other => panic!("{other:?}"),
        }
        for broken in ["[1, 2", "[1] 2", "[1,]", "", "[\"\\xff\"]"] {
            assert!(
                matches!(read(broken), Err(ElementsError::NotJson(_))),
                "{broken}"
            );
        }
        let deep = format!("[{}{}]", "[".repeat(1000), "]".repeat(1000));
        match read(&deep) {
            Err(ElementsError::NotJson(e)) => {
                assert!(e.to_string().contains("recursion limit"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
}
