//! Reading a contact-import file (cordial-api.md §5.2) into columns and rows.
//!
//! The file is CSV in the RFC 4180 sense: cells separated by the request's
//! `delimiter` (`,` unless told otherwise), a cell holding the delimiter, a quote
//! or a line break is quoted, and a quote inside a quoted cell is doubled. Records
//! end with `\n` or `\r\n`; a line break inside a quoted cell is kept exactly as
//! written. No cell is trimmed or otherwise altered, so what the parser returns
//! is byte for byte what the writer was given.
//!
//! Two things a reader has to decide that RFC 4180 leaves open:
//! - A UTF-8 byte-order mark at the start of the file (spreadsheet tools write one)
//!   is dropped; otherwise the first header would not match its key.
//! - An empty line is not a record and is skipped. So a row made of a single empty
//!   cell, which a writer puts down as an empty line, cannot be told from one and is
//!   lost. Import files always have the email column and at least one other, so
//!   real files never hit this.
//!
//! Rows may have fewer or more cells than there are columns; the parser keeps
//! them as they are and the import decides what that means for the row.

/// The columns and rows of a file, with each row's place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    /// The column keys, from `columns` or the header row (header names trimmed).
    pub columns: Vec<String>,
    pub rows: Vec<FileRow>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// The line of the file the row starts on (1-based, counting the header), for
    /// the rejected-row report.
    pub line: u64,
    pub cells: Vec<String>,
}

/// The byte-order mark some tools put at the start of a UTF-8 file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses a comma-separated file.
///
/// With `columns`, those name the columns (and a header row, if `has_header`, is
/// skipped); otherwise `has_header` must be true and the first row names them.
/// Returns the column keys and the data rows. Errors are messages fit for a
/// failed job: a file that is not UTF-8, a missing header row, no column names.
pub fn parse_rows(
    bytes: &[u8],
    has_header: bool,
    columns: Option<&[String]>,
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let file = parse_file(bytes, b',', has_header, columns)?;
    Ok((
        file.columns,
        file.rows.into_iter().map(|r| r.cells).collect(),
    ))
}

/// [`parse_rows`] with any single-byte delimiter (`\t` for TSV), keeping the line
/// each row starts on.
pub fn parse_file(
    bytes: &[u8],
    delimiter: u8,
    has_header: bool,
    columns: Option<&[String]>,
) -> Result<ParsedFile, String> {
    if columns.is_none() && !has_header {
        return Err("The columns field is required.".into());
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut records = Vec::new();
    let mut lines = LineCounter::default();
    for record in reader.records() {
        let record = record.map_err(describe)?;
        let start = record.position().map_or(0, csv::Position::byte);
        let line = lines.line_at(bytes, start);
        let cells = record.iter().map(str::to_owned).collect();
        records.push(FileRow { line, cells });
    }
    let mut records = records.into_iter();
    let header = if has_header {
        Some(
            records
                .next()
                .ok_or("The file is empty: there is no header row.")?,
        )
    } else {
        None
    };
    let columns = match (columns, header) {
        (Some(given), _) => given.to_vec(),
        (None, Some(header)) => header.cells.iter().map(|c| c.trim().to_owned()).collect(),
        (None, None) => unreachable!("checked above"),
    };
    Ok(ParsedFile {
        columns,
        rows: records.collect(),
    })
}

/// Line numbers of records. The reader's own position of a record is where it
/// started reading, which is before any blank lines it skipped; the record's
/// first line is the first one after those.
#[derive(Default)]
struct LineCounter {
    /// How far into the file the line breaks have been counted.
    offset: usize,
    /// Line breaks before `offset`.
    newlines: u64,
}

impl LineCounter {
    /// The 1-based line of the first byte at or after `start` that is not a line break.
    fn line_at(&mut self, bytes: &[u8], start: u64) -> u64 {
        let mut at = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        while matches!(bytes.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        if at > self.offset {
            self.newlines += bytes[self.offset..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = at;
        }
        self.newlines + 1
    }
}

/// A CSV error as a sentence that says where.
fn describe(error: csv::Error) -> String {
    let at = |pos: Option<&csv::Position>| {
        pos.map_or(String::new(), |p| format!(" (line {})", p.line()))
    };
    match error.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => {
            format!("The file is not valid UTF-8{}.", at(pos.as_ref()))
        }
        csv::ErrorKind::Io(e) => format!("The file could not be read: {e}."),
        _ => format!("The file is not valid CSV: {error}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn header_names_the_columns() {
        let (c, rows) = parse_rows(
            b"channels.email.address, first_name\r\na@x.io,Ann\r\nb@x.io,\"B, \"\"Bee\"\"\"\r\n",
            true,
            None,
        )
        .unwrap();
        assert_eq!(c, cols(&["channels.email.address", "first_name"]));
        assert_eq!(
            rows,
            vec![
                vec!["a@x.io".to_owned(), "Ann".into()],
                vec!["b@x.io".to_owned(), "B, \"Bee\"".into()],
            ]
        );
    }

    #[test]
    fn given_columns_win_and_skip_the_header_row() {
        let given = cols(&["channels.email.address", ""]);
        let (c, rows) = parse_rows(b"email,x\na@x.io,1\n", true, Some(&given)).unwrap();
        assert_eq!(c, given);
        assert_eq!(rows, vec![vec!["a@x.io".to_owned(), "1".into()]]);
        let (_, rows) = parse_rows(b"a@x.io,1\n", false, Some(&given)).unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn line_breaks_inside_quotes_are_kept_and_lines_counted() {
        let f = parse_file(
            b"\xEF\xBB\xBFe,note\na@x.io,\"one\r\ntwo\"\n\nb@x.io,\"x\ny\"\n",
            b',',
            true,
            None,
        )
        .unwrap();
        assert_eq!(f.columns, cols(&["e", "note"]));
        assert_eq!(f.rows[0].cells[1], "one\r\ntwo");
        assert_eq!(f.rows[0].line, 2);
        // The empty line is skipped; the next record starts on line 5.
        assert_eq!(f.rows[1].line, 5);
        assert_eq!(f.rows[1].cells[1], "x\ny");
    }

    #[test]
    fn other_delimiters_and_ragged_rows() {
        let f = parse_file(b"e\tn\na@x.io\tA\textra\nb@x.io\n", b'\t', true, None).unwrap();
        assert_eq!(f.rows[0].cells.len(), 3);
        assert_eq!(f.rows[1].cells, vec!["b@x.io".to_owned()]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(
            parse_rows(b"", true, None).unwrap_err(),
            "The file is empty: there is no header row."
        );
        assert_eq!(
            parse_rows(b"a\n", false, None).unwrap_err(),
            "The columns field is required."
        );
        let err = parse_rows(b"e\nok@x.io\n\xff\xfe@x.io\n", true, None).unwrap_err();
        assert!(
            err.contains("not valid UTF-8") && err.contains("line 3"),
            "{err}"
        );
    }
}
