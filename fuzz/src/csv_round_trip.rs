//! The bulk export's CSV writer ([`cordial_jobs::bulk::BulkColumns`] and
//! [`cordial_jobs::bulk::csv_cells`]), read back with the `csv` crate.
//!
//! The first byte picks the row's list flag and whether Cordial types the attributes; the
//! rest is a member's JSON. Promises checked: the file reads back as its header and exactly
//! the row the member should give, computed the long way (a `serde_json::Value`, the
//! real-time export's conversions), so the writer's shortcuts agree with them; a refused
//! member leaves no half row; no value is written as the null marker (which Cordial reads
//! as "leave unchanged"). The same text, cut at `\x1f`, is also written as a row of
//! plain cells, which must read back cell for cell, each that a spreadsheet could take for
//! a formula (or whose edge spaces it could trim) quoted.

use cordial_jobs::bulk::csv_cells::{UNSET, write_cell, write_row};
use cordial_jobs::bulk::{BulkColumns, cell_text};
use cordial_jobs::cordial::AttributeType;
use cordial_jobs::realtime::{AttributeTypes, attribute_kind, email_in, typed_as};
use cordial_jobs::settings::{ExportSettings, JobKind, typed};
use serde_json::{Value, json};
use std::sync::LazyLock;

const LIST: &str = "Lytics_vip";

/// Two sources for one column (the last present wins), a geo sub-field, and one column of
/// each type the writer treats differently. Built once: checking settings is slower than
/// a run of the target.
static SETTINGS: LazyLock<ExportSettings> = LazyLock::new(|| {
    typed(
        JobKind::ExportBulk,
        &json!({
            "audience": "vip",
            "field_mapping": {
                "first_name": "fname", "given": "fname", "score": "score",
                "tags": "tags", "city": "address.city", "born": "birthday"
            }
        }),
    )
    .expect("the target's settings are valid")
});

pub fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    plain_cells_read_back(&text);
    let settings = &*SETTINGS;
    let types: AttributeTypes = if flags & 2 == 0 {
        AttributeTypes::new()
    } else {
        [
            ("fname".to_owned(), AttributeType::String),
            ("score".to_owned(), AttributeType::Number),
            ("tags".to_owned(), AttributeType::Array),
            ("birthday".to_owned(), AttributeType::Date),
        ]
        .into()
    };
    member_reads_back(settings, &types, flags & 1 == 1, &text);
}

/// Cells cut from `text` at `\x1f`, and a list flag so that no row is a blank line (which
/// CSV readers skip, and which the bulk export never writes).
fn plain_cells_read_back(text: &str) {
    let mut cells: Vec<&str> = text.split('\x1f').collect();
    cells.push("1");
    let mut out = Vec::new();
    write_row(&mut out, cells.iter().copied());
    let rows = read_back(&out);
    assert_eq!(
        rows,
        [cells.iter().map(|c| c.to_string()).collect::<Vec<_>>()]
    );
    for cell in cells {
        let mut one = Vec::new();
        write_cell(&mut one, cell);
        let formula = cell.starts_with(['=', '+', '-', '@', ' ', '\t']) || cell.ends_with(' ');
        assert!(
            !formula || one.starts_with(b"\""),
            "`{cell}` could be taken for a formula or lose its spaces: written bare"
        );
    }
}

fn member_reads_back(settings: &ExportSettings, types: &AttributeTypes, entered: bool, user: &str) {
    let columns = BulkColumns::new(settings, LIST, types);
    let mut out = Vec::new();
    columns.write_header(&mut out);
    let header_len = out.len();
    let written = columns.write_member(&mut out, entered, user);
    let mut rows = read_back(&out).into_iter();
    assert_eq!(rows.next(), Some(strings(&columns.header())), "the header");
    let row: Option<Vec<String>> = rows.next();
    assert_eq!(rows.next(), None, "one member, at most one row");
    match &written {
        Ok(()) => assert!(row.is_some(), "an accepted member wrote no row"),
        Err(_) => assert_eq!(out.len(), header_len, "a refused member left a half row"),
    }
    // The long way needs the member as a `Value`; text `serde_json` cannot hold as one (a
    // number out of range, a lone surrogate) is only read field by field by the writer.
    let Ok(Value::Object(member)) = serde_json::from_str::<Value>(user) else {
        return;
    };
    match (
        expected_row(settings, types, &columns, entered, &member),
        row,
    ) {
        (Ok(expected), Some(row)) => {
            assert_eq!(row.len(), expected.len(), "cells of {user}");
            for ((cell, want), column) in row.iter().zip(&expected).zip(columns.header()) {
                assert!(
                    want.matches(cell),
                    "column {column}: `{cell}`, expected {want:?}"
                );
            }
        }
        (Err(why), None) => {
            let message = written.expect_err("no row is a refusal").0;
            assert!(
                message.contains(&why),
                "refused as `{message}`, expected `{why}`"
            );
        }
        (Ok(expected), None) => panic!("{user} was refused ({written:?}); expected {expected:?}"),
        (Err(why), Some(row)) => panic!("{user} gave {row:?}; expected the refusal {why}"),
    }
}

/// What a cell must read back as.
#[derive(Debug)]
enum Cell {
    Text(String),
    /// An untyped non-string value, written as the member's own JSON text for it.
    Json(Value),
}

impl Cell {
    fn matches(&self, cell: &str) -> bool {
        match self {
            Cell::Text(text) => text == cell,
            Cell::Json(value) => serde_json::from_str::<Value>(cell).is_ok_and(|v| v == *value),
        }
    }
}

/// The member's row the long way: the email through [`email_in`], every attribute's last
/// present source through [`typed_as`], then the list flag. A value whose cell would be
/// the import's null marker cannot be sent: Cordial would leave the attribute unchanged.
fn expected_row(
    settings: &ExportSettings,
    types: &AttributeTypes,
    columns: &BulkColumns,
    entered: bool,
    member: &serde_json::Map<String, Value>,
) -> Result<Vec<Cell>, String> {
    let email = email_in(settings, member.get(&settings.email_field)).map_err(|e| e.0)?;
    let mut row = vec![Cell::Text(email)];
    let header = columns.header();
    for column in &header[1..header.len() - 1] {
        let source = settings
            .field_mapping
            .iter()
            .filter(|(source, target)| {
                *target == column && member.get(*source).is_some_and(|v| !v.is_null())
            })
            .map(|(source, _)| source)
            .next_back();
        let Some(source) = source else {
            row.push(Cell::Text(UNSET.to_owned()));
            continue;
        };
        let value = &member[source];
        let kind = attribute_kind(types, column);
        let typed = typed_as(kind, source, column, value).map_err(|e| e.0)?;
        if cell_text(&typed) == UNSET {
            // Cordial would read the value as "leave the attribute as it is".
            return Err("null marker".to_owned());
        }
        row.push(match (kind, &typed) {
            (None, Value::String(_)) | (Some(_), _) => Cell::Text(cell_text(&typed).into_owned()),
            (None, _) => Cell::Json(typed),
        });
    }
    row.push(Cell::Text(if entered { "1" } else { "0" }.to_owned()));
    Ok(row)
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Every row of `csv`, read as Cordial's side would: no header handling, no trimming.
fn read_back(csv: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv)
        .records()
        .map(|r| {
            r.expect("the written CSV reads back")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}
