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

use crate::realtime::{AttributeTypes, Undeliverable, email_in, typed};
use crate::settings::ExportSettings;
use serde_json::Value;
use std::borrow::Cow;

/// Cordial's limit for one file of this export, from the Lytics job description.
pub const MAX_ROWS_PER_FILE: usize = 30_000;

/// The email column every file starts with.
pub const EMAIL_COLUMN: &str = "channels.email.address";

/// The columns of a job's files: the email, each mapped attribute once, then the list,
/// whose cell is `1` for a member who entered the audience and `0` for one who left.
#[derive(Debug, Clone)]
pub struct BulkColumns {
    attributes: Vec<String>,
    /// The user fields a row reads: the email field first, then every mapped source.
    wanted: Vec<String>,
    /// For each attribute column, its sources as positions in `wanted`, in mapping order
    /// (the last one present wins, as in the real-time export).
    sources: Vec<Vec<usize>>,
    list: String,
}

impl BulkColumns {
    pub fn new(settings: &ExportSettings, list: &str) -> BulkColumns {
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
        BulkColumns {
            attributes,
            wanted,
            sources,
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
    /// its attribute's type). Only the wanted fields are read (see [`member::pick`]).
    pub fn write_member(
        &self,
        out: &mut Vec<u8>,
        settings: &ExportSettings,
        types: &AttributeTypes,
        entered: bool,
        user: &str,
    ) -> Result<(), Undeliverable> {
        let picked = member::pick(user, &self.wanted).map_err(Undeliverable)?;
        let email = match picked.values[0] {
            None => email_in(settings, None)?,
            Some(raw) => {
                let value = raw_value(raw)?;
                email_in(settings, Some(&value))?
            }
        };
        let mut cells: Vec<Cow<str>> = Vec::with_capacity(self.attributes.len() + 2);
        cells.push(Cow::Owned(email));
        for (column, sources) in self.attributes.iter().zip(&self.sources) {
            let found = sources.iter().rev().find_map(|&i| {
                picked.values[i]
                    .filter(|raw| raw.get() != "null")
                    .map(|raw| (&self.wanted[i], raw))
            });
            cells.push(match found {
                None => Cow::Borrowed(csv_cells::UNSET),
                Some((source, raw)) if needs_typing(types, column) => {
                    let value = raw_value(raw)?;
                    Cow::Owned(cell_text(&typed(types, source, column, &value)?).into_owned())
                }
                Some((source, raw)) => member::raw_text(raw)
                    .map_err(|e| Undeliverable(format!("field `{source}`: {e}")))?,
            });
        }
        cells.push(Cow::Borrowed(if entered { "1" } else { "0" }));
        csv_cells::write_row(out, cells.iter().map(|c| c.as_ref()));
        Ok(())
    }
}

/// A raw field as a `Value`, for the rare paths that need one (typing, an email in a list).
fn raw_value(raw: &serde_json::value::RawValue) -> Result<Value, Undeliverable> {
    serde_json::from_str(raw.get()).map_err(|e| Undeliverable(format!("unreadable value: {e}")))
}

/// Whether a column's values must be converted: its Cordial type is known, or it is a geo
/// sub-field (always text).
fn needs_typing(types: &AttributeTypes, column: &str) -> bool {
    column.contains('.') || types.contains_key(column)
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
        let columns = BulkColumns::new(&s, "Lytics_vip");
        assert_eq!(
            columns.header(),
            ["channels.email.address", "fname", "score", "Lytics_vip"]
        );
        let mut out = Vec::new();
        let types = AttributeTypes::new();
        columns
            .write_member(
                &mut out,
                &s,
                &types,
                true,
                &json!({"email": "A@X.io", "first_name": "Ann"}).to_string(),
            )
            .unwrap();
        columns
            .write_member(
                &mut out,
                &s,
                &types,
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
        let columns = BulkColumns::new(&s, "L");
        let mut out = Vec::new();
        let err = columns
            .write_member(
                &mut out,
                &s,
                &AttributeTypes::new(),
                true,
                &json!({"first_name": "x"}).to_string(),
            )
            .unwrap_err();
        assert!(err.0.contains("email"), "{err:?}");
        assert!(out.is_empty());
    }
}
