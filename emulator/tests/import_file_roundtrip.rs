//! The integration writes import files with `cordial_jobs::bulk::csv_cells`; the
//! emulator reads them with `import_file`. Whatever the cells hold, what is read
//! back must be exactly what was written.

use cordial_emulator::import_file::{parse_file, parse_rows};
use cordial_jobs::bulk::csv_cells::{UNSET, write_row};
use proptest::prelude::*;

/// Cells built from the characters that trouble CSV: separators, quotes, both
/// line endings, a lone `\r`, spreadsheet formula starters, edge spaces, tabs and
/// non-ASCII (including astral) characters, plus plain letters.
fn cell() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\r".to_owned()),
        Just("=".to_owned()),
        Just("+".to_owned()),
        Just("-".to_owned()),
        Just("@".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\\".to_owned()),
        Just("Zoë".to_owned()),
        Just("日本".to_owned()),
        Just("🙂".to_owned()),
        "[a-z0-9.]{1,6}",
        any::<char>()
            .prop_filter("no byte-order mark", |c| *c != '\u{feff}')
            .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6)
        .prop_map(|pieces| pieces.concat())
        .prop_filter("the null marker is a separate case", |c| c != UNSET)
}

/// Rows of the same width. At least two columns: a one-column row holding the
/// empty string is written as an empty line, which no CSV reader can tell from
/// a blank line (see `import_file`'s module docs and the test below).
fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    (2usize..6).prop_flat_map(|width| {
        (
            prop::collection::vec(cell(), width),
            prop::collection::vec(prop::collection::vec(cell(), width), 0..8),
        )
    })
}

fn write(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = Vec::new();
    write_row(&mut out, header.iter().map(String::as_str));
    for row in rows {
        write_row(&mut out, row.iter().map(String::as_str));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rows_written_by_the_integration_parse_back_exactly((header, rows) in table()) {
        let bytes = write(&header, &rows);
        // Given columns: the first written row is data like any other.
        let mut all = vec![header.clone()];
        all.extend(rows.iter().cloned());
        let (columns, parsed) = parse_rows(&bytes, false, Some(&header)).expect("parses");
        prop_assert_eq!(&columns, &header);
        prop_assert_eq!(&parsed, &all);
        // A header row: data rows come back exactly. (Header names are trimmed, as
        // keys; the cells themselves never are.)
        let (columns, parsed) = parse_rows(&bytes, true, None).expect("parses");
        let trimmed: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
        prop_assert_eq!(columns, trimmed);
        prop_assert_eq!(parsed, rows);
    }

    #[test]
    fn the_null_marker_and_empty_cells_stay_distinct(n in 2usize..6, mask in any::<u8>()) {
        let row: Vec<&str> = (0..n).map(|i| if mask & (1 << i) != 0 { UNSET } else { "" }).collect();
        let mut bytes = Vec::new();
        write_row(&mut bytes, ["h"; 6].into_iter().take(n));
        write_row(&mut bytes, row.iter().copied());
        let (_, parsed) = parse_rows(&bytes, true, None).expect("parses");
        prop_assert_eq!(parsed, vec![row.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()]);
    }
}

#[test]
fn a_lone_empty_cell_is_a_blank_line_and_is_skipped() {
    let mut bytes = Vec::new();
    write_row(&mut bytes, ["channels.email.address"]);
    write_row(&mut bytes, [""]);
    write_row(&mut bytes, ["a@x.io"]);
    assert_eq!(bytes, b"channels.email.address\n\na@x.io\n");
    let file = parse_file(&bytes, b',', true, None).unwrap();
    assert_eq!(file.rows.len(), 1);
    assert_eq!(file.rows[0].cells, vec!["a@x.io".to_owned()]);
    assert_eq!(file.rows[0].line, 3);
}
