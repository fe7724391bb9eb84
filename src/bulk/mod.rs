//! The bulk audience export: pending members → CSV files of at most 30,000 rows → Cordial's
//! Contact Imports API, and the run's whole sequence ([`job::run`]). What it shares with the
//! activity import is in [`crate::scheduled`].

pub mod batch;
pub mod csv_cells;
#[cfg(test)]
pub(crate) mod fake_cordial;
#[cfg(test)]
pub(crate) mod harness;
pub mod imports;
pub mod job;
pub mod member;

use crate::cordial::AttributeType;
use crate::realtime::{
    AttributeTypes, Undeliverable, attribute_kind, email_in, looks_like_email, typed_as,
};
use crate::settings::ExportSettings;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Cordial's limit for one file of this export, from the Lytics job description.
pub const MAX_ROWS_PER_FILE: usize = 30_000;

/// The email column every file starts with.
pub const EMAIL_COLUMN: &str = "channels.email.address";

/// The columns of a job's files: the email, each mapped attribute once, then the list,
/// whose cell is `1` for a member who entered the audience and `0` for one who left.
///
/// Everything a row needs that does not depend on the member (the fields to read, each
/// column's sources and Cordial type) is worked out here once, so that writing a row of a
/// million-member export allocates almost nothing; inside the wasm component each
/// allocation costs more than natively.
#[derive(Debug, Clone)]
pub struct BulkColumns {
    attributes: Vec<String>,
    /// The user fields a row reads: the email field first, then every mapped source.
    wanted: Vec<String>,
    /// For each attribute column, its sources as positions in `wanted`, in mapping order
    /// (the last one present wins, as in the real-time export).
    sources: Vec<Vec<usize>>,
    /// For each attribute column, its Cordial type (none when Cordial does not know it).
    kinds: Vec<Option<AttributeType>>,
    settings: ExportSettings,
    list: String,
}

impl BulkColumns {
    /// The columns of `settings`' files for `list`, with values converted to the Cordial
    /// `types` of their attributes.
    pub fn new(settings: &ExportSettings, list: &str, types: &AttributeTypes) -> BulkColumns {
        let mut attributes: Vec<String> = settings.field_mapping.values().cloned().collect();
        attributes.sort();
        attributes.dedup();
        let mut wanted = vec![settings.email_field.clone()];
        wanted.extend(settings.field_mapping.keys().cloned());
        let sources = attributes
            .iter()
            .map(|column| {
                settings
                    .field_mapping
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, target))| *target == column)
                    .map(|(i, _)| i + 1)
                    .collect()
            })
            .collect();
        let kinds = attributes
            .iter()
            .map(|column| attribute_kind(types, column))
            .collect();
        BulkColumns {
            attributes,
            wanted,
            sources,
            kinds,
            settings: settings.clone(),
            list: list.to_owned(),
        }
    }

    pub fn header(&self) -> Vec<&str> {
        let mut header = vec![EMAIL_COLUMN];
        header.extend(self.attributes.iter().map(String::as_str));
        header.push(&self.list);
        header
    }

    /// Appends the header row to `out`.
    pub fn write_header(&self, out: &mut Vec<u8>) {
        csv_cells::write_row(out, self.header());
    }

    /// Appends the row of the member whose fields are the JSON object `user`, or says why
    /// the member cannot be exported (not JSON, no usable email, a value that does not fit
    /// its attribute's type) and leaves `out` as it was. Only the wanted fields are read
    /// (see [`member::pick`]).
    pub fn write_member(
        &self,
        out: &mut Vec<u8>,
        entered: bool,
        user: &str,
    ) -> Result<(), Undeliverable> {
        let start = out.len();
        let written = self.write_cells(out, entered, user);
        if written.is_err() {
            out.truncate(start);
        }
        written
    }

    fn write_cells(
        &self,
        out: &mut Vec<u8>,
        entered: bool,
        user: &str,
    ) -> Result<(), Undeliverable> {
        let picked = member::pick(user, &self.wanted).map_err(Undeliverable)?;
        csv_cells::write_cell(out, &self.email(picked.values[0])?);
        for ((column, sources), kind) in self.attributes.iter().zip(&self.sources).zip(&self.kinds)
        {
            out.push(b',');
            let found = sources.iter().rev().find_map(|&i| {
                picked.values[i]
                    .filter(|raw| raw.get() != "null")
                    .map(|raw| (&self.wanted[i], raw))
            });
            let Some((source, raw)) = found else {
                out.extend_from_slice(csv_cells::UNSET.as_bytes());
                continue;
            };
            let cell = match Shortcut::for_value(raw, *kind) {
                Shortcut::Text => member::raw_text(raw)
                    .map_err(|e| Undeliverable(format!("field `{source}`: {e}")))?,
                Shortcut::Json => Cow::Borrowed(raw.get()),
                Shortcut::Convert => {
                    let value = raw_value(raw)?;
                    Cow::Owned(cell_text(&typed_as(*kind, source, column, &value)?).into_owned())
                }
            };
            if cell == csv_cells::UNSET {
                return Err(Undeliverable(format!(
                    "field `{source}`: the value `{cell}` is the import's null marker, which \
                     Cordial reads as \"leave `{column}` as it is\"; it cannot be sent in a bulk file"
                )));
            }
            csv_cells::write_cell(out, &cell);
        }
        out.extend_from_slice(if entered { b",1\n" } else { b",0\n" });
        Ok(())
    }

    /// The member's email address, lower-cased. A plain JSON string is read where it lies;
    /// anything else (escapes, a list of addresses, a refusal) goes through [`email_in`].
    fn email<'a>(&self, raw: Option<&'a RawValue>) -> Result<Cow<'a, str>, Undeliverable> {
        if let Some(text) = raw.map(RawValue::get).and_then(plain_string) {
            let email = text.trim();
            if !email.is_empty() && looks_like_email(email) {
                return Ok(
                    if email
                        .bytes()
                        .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
                    {
                        Cow::Owned(email.to_lowercase())
                    } else {
                        Cow::Borrowed(email)
                    },
                );
            }
        }
        let value = raw.map(raw_value).transpose()?;
        email_in(&self.settings, value.as_ref()).map(Cow::Owned)
    }
}

/// How a raw value becomes its cell. The two shortcuts skip building a `Value` and
/// converting it, and each gives exactly the cell the conversion would.
enum Shortcut {
    /// The value's text: a string unquoted, anything else as [`member::raw_text`] reads it
    /// (an attribute Cordial does not type, or a string for a string attribute).
    Text,
    /// The raw JSON as it stands (an integer for a number attribute).
    Json,
    /// Through [`typed_as`].
    Convert,
}

impl Shortcut {
    fn for_value(raw: &RawValue, kind: Option<AttributeType>) -> Shortcut {
        let text = raw.get();
        match kind {
            None => Shortcut::Text,
            Some(AttributeType::String) if text.starts_with('"') => Shortcut::Text,
            Some(AttributeType::Number) if plain_integer(text) => Shortcut::Json,
            Some(_) => Shortcut::Convert,
        }
    }
}

/// The inside of a JSON string without escapes.
fn plain_string(json: &str) -> Option<&str> {
    json.strip_prefix('"')?
        .strip_suffix('"')
        .filter(|inner| !inner.contains('\\'))
}

/// A JSON integer `serde_json` writes back as it stands: small enough to be an `i64`, and
/// not `-0` (which comes back as `0`). JSON itself rules out plus signs and leading zeros.
fn plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && text != "-0"
}

/// A raw field as a `Value`, for the rare paths that need one (typing, an email in a list).
fn raw_value(raw: &RawValue) -> Result<Value, Undeliverable> {
    serde_json::from_str(raw.get()).map_err(|e| Undeliverable(format!("unreadable value: {e}")))
}

/// A typed value as import-file text: strings as they are, numbers and booleans in JSON
/// form, arrays and objects as JSON.
pub fn cell_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        other => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> ExportSettings {
        crate::settings::typed(
            crate::settings::JobKind::ExportBulk,
            &json!({
                "audience": "vip",
                "field_mapping": {"first_name": "fname", "score": "score", "given": "fname"}
            }),
        )
        .unwrap()
    }

    #[test]
    fn rows_follow_the_header_with_unset_markers_and_list_flags() {
        let s = settings();
        let columns = BulkColumns::new(&s, "Lytics_vip", &AttributeTypes::new());
        assert_eq!(
            columns.header(),
            ["channels.email.address", "fname", "score", "Lytics_vip"]
        );
        let mut out = Vec::new();
        columns
            .write_member(
                &mut out,
                true,
                &json!({"email": "A@X.io", "first_name": "Ann"}).to_string(),
            )
            .unwrap();
        columns
            .write_member(
                &mut out,
                false,
                &json!({"email": "b@x.io", "score": 7, "first_name": ""}).to_string(),
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a@x.io,Ann,\\N,1\nb@x.io,,7,0\n"
        );
    }

    #[test]
    fn a_member_without_an_email_is_refused() {
        let s = settings();
        let columns = BulkColumns::new(&s, "L", &AttributeTypes::new());
        let mut out = b"kept\n".to_vec();
        let err = columns
            .write_member(&mut out, true, &json!({"first_name": "x"}).to_string())
            .unwrap_err();
        assert!(err.0.contains("email"), "{err:?}");
        assert_eq!(out, b"kept\n");
    }

    /// Found by fuzzing (`csv_round_trip`): a value that is literally `\N` was written as the
    /// import's null marker, so Cordial would silently leave the attribute unchanged.
    #[test]
    fn a_value_equal_to_the_null_marker_is_refused_not_written_as_unset() {
        let s = settings();
        let columns = BulkColumns::new(&s, "L", &AttributeTypes::new());
        let mut out = Vec::new();
        let err = columns
            .write_member(&mut out, true, r#"{"email":"i@x.io","first_name":"\\N"}"#)
            .unwrap_err();
        assert!(err.0.contains("null marker"), "{err:?}");
        assert!(err.0.contains("first_name"), "{err:?}");
        assert!(out.is_empty(), "no half row");
    }

    /// The cell of `raw` for an attribute of `kind`, the long way: a `Value`, converted.
    fn converted(raw: &str, kind: Option<AttributeType>) -> Result<String, Undeliverable> {
        let value: Value = serde_json::from_str(raw).unwrap();
        typed_as(kind, "f", "col", &value).map(|v| cell_text(&v).into_owned())
    }

    #[test]
    fn the_shortcuts_give_the_cells_the_conversion_gives() {
        let raws = [
            r#""Ann""#,
            r#""Zo\u00eb \"Z\"""#,
            r#""""#,
            r#"" 41 ""#,
            "41",
            "-7",
            "0",
            "-0",
            "1.50",
            "1e3",
            "123456789012345678",
            "9223372036854775808",
            "true",
            r#"["a","b"]"#,
            r#"{"city":"X"}"#,
        ];
        let kinds = [
            None,
            Some(AttributeType::String),
            Some(AttributeType::Number),
            Some(AttributeType::Array),
        ];
        for raw in raws {
            let raw_value: Box<RawValue> = serde_json::from_str(raw).unwrap();
            for kind in kinds {
                let short = match Shortcut::for_value(&raw_value, kind) {
                    Shortcut::Text => Some(member::raw_text(&raw_value).unwrap().into_owned()),
                    Shortcut::Json => Some(raw.to_owned()),
                    Shortcut::Convert => None,
                };
                let long = match kind {
                    // Untyped cells are the value's text by definition.
                    None => continue,
                    Some(_) => converted(raw, kind),
                };
                if let Some(short) = short {
                    assert_eq!(Ok(short), long.map_err(|e| e.0), "{raw} as {kind:?}");
                }
            }
        }
    }

    #[test]
    fn emails_read_in_place_match_the_general_reading() {
        let s = settings();
        let columns = BulkColumns::new(&s, "L", &AttributeTypes::new());
        for raw in [
            r#""a@x.io""#,
            r#"" B@X.io ""#,
            r#""Ünï@Exämple.de""#,
            r#""a\u0040x.io""#,
            r#""no-at-sign""#,
            r#""""#,
            r#"["c@x.io"]"#,
            "7",
        ] {
            let raw_value: Box<RawValue> = serde_json::from_str(raw).unwrap();
            let value: Value = serde_json::from_str(raw).unwrap();
            assert_eq!(
                columns
                    .email(Some(&raw_value))
                    .map(Cow::into_owned)
                    .map_err(|e| e.0),
                email_in(&s, Some(&value)).map_err(|e| e.0),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_value_that_does_not_fit_its_type_leaves_no_half_row() {
        let s = settings();
        let types: AttributeTypes = [("score".to_owned(), AttributeType::Number)].into();
        let columns = BulkColumns::new(&s, "L", &types);
        let mut out = Vec::new();
        columns
            .write_member(&mut out, true, r#"{"email":"a@x.io","score":12}"#)
            .unwrap();
        let err = columns
            .write_member(&mut out, true, r#"{"email":"b@x.io","score":"many"}"#)
            .unwrap_err();
        assert!(err.0.contains("`many` is not a number"), "{err:?}");
        assert_eq!(String::from_utf8(out).unwrap(), "a@x.io,\\N,12,1\n");
    }
}
