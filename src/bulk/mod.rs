//! The bulk audience export: pending members → CSV files of at most 30,000 rows → Cordial's
//! Contact Imports API.

pub mod batch;
pub mod csv_cells;
pub mod imports;

use crate::realtime::{AttributeTypes, Undeliverable, email_of, typed};
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
    /// For each attribute column, the user fields mapped to it, in mapping order (the last
    /// one present wins, as in the real-time export).
    sources: Vec<Vec<String>>,
    list: String,
}

impl BulkColumns {
    pub fn new(settings: &ExportSettings, list: &str) -> BulkColumns {
        let mut attributes: Vec<String> = settings.field_mapping.values().cloned().collect();
        attributes.sort();
        attributes.dedup();
        let sources = attributes
            .iter()
            .map(|column| {
                settings
                    .field_mapping
                    .iter()
                    .filter(|(_, target)| *target == column)
                    .map(|(source, _)| source.clone())
                    .collect()
            })
            .collect();
        BulkColumns {
            attributes,
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

    /// Appends the member's row to `out`, or says why the member cannot be exported
    /// (no usable email, a value that does not fit its attribute's type).
    pub fn write_member(
        &self,
        out: &mut Vec<u8>,
        settings: &ExportSettings,
        types: &AttributeTypes,
        entered: bool,
        user: &Value,
    ) -> Result<(), Undeliverable> {
        // Written straight from the parsed member, without building a contact first: this
        // runs a million times per large export.
        let email = email_of(settings, user)?;
        let mut cells: Vec<Cow<str>> = Vec::with_capacity(self.attributes.len() + 2);
        cells.push(Cow::Owned(email));
        for (column, sources) in self.attributes.iter().zip(&self.sources) {
            let found = sources
                .iter()
                .rev()
                .find_map(|s| user.get(s).filter(|v| !v.is_null()).map(|v| (s, v)));
            cells.push(match found {
                None => Cow::Borrowed(csv_cells::UNSET),
                Some((source, value)) if needs_typing(types, column) => {
                    Cow::Owned(cell_text(&typed(types, source, column, value)?).into_owned())
                }
                Some((_, value)) => cell_text(value),
            });
        }
        cells.push(Cow::Borrowed(if entered { "1" } else { "0" }));
        csv_cells::write_row(out, cells.iter().map(|c| c.as_ref()));
        Ok(())
    }
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
        serde_json::from_value(json!({
            "audience": "vip",
            "field_mapping": {"first_name": "fname", "score": "score", "given": "fname"}
        }))
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
                &json!({"email": "A@X.io", "first_name": "Ann"}),
            )
            .unwrap();
        columns
            .write_member(
                &mut out,
                &s,
                &types,
                false,
                &json!({"email": "b@x.io", "score": 7, "first_name": ""}),
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
                &json!({"first_name": "x"}),
            )
            .unwrap_err();
        assert!(err.0.contains("email"), "{err:?}");
        assert!(out.is_empty());
    }
}
