//! CSV member files: a header row naming the fields, then one row per member.

use super::{BOM, RowError, Step, read_failure};
use serde_json::{Map, Value};
use std::io::{self, Read};

/// CSV: the header row names the fields; every cell is a string, and an empty cell means
/// "no value" rather than an empty string, so it cannot blank out a field downstream.
///
/// Rows end at `\n` only (a `\r` before it is dropped from the last cell), and the input gets
/// one extra `\n` after its end. Together these make every row end with a `\n` the csv crate
/// has counted, which is what lets [`CsvRows::start_line`] find the line a row starts on: the crate's
/// own record positions point before any blank lines and, with `\r\n` endings, before the
/// previous row's `\n`. The extra `\n` is harmless: after a final newline it is just a blank
/// line, which csv skips. (The one exception is a malformed file whose last row leaves a
/// quote open: like everything after an open quote, the newline then lands in that cell.)
pub(super) struct CsvRows<R> {
    input: csv::Reader<io::Chain<CountingReader<R>, &'static [u8]>>,
    columns: Vec<String>,
    /// Reused for every row, like the NDJSON line buffer.
    record: csv::ByteRecord,
}

impl<R: Read> CsvRows<R> {
    pub(super) fn new(reader: R) -> Result<Self, RowError> {
        let input = CountingReader {
            inner: reader,
            count: 0,
        };
        // Rows of the wrong width are let through (`flexible`) and reported here, with the
        // widths in the message, rather than as csv's generic error.
        let input = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input.chain(&b"\n"[..]));
        let mut rows = CsvRows {
            input,
            columns: Vec::new(),
            record: csv::ByteRecord::new(),
        };
        rows.columns = match rows.next_record()? {
            Some(line) => column_names(&rows.record, line)?,
            None => Vec::new(),
        };
        Ok(rows)
    }

    /// Bytes of the file (without the extra `\n`) up to the end of the last row read.
    pub(super) fn consumed(&self) -> u64 {
        let file_bytes = self.input.get_ref().get_ref().0.count;
        self.input.position().byte().min(file_bytes)
    }

    pub(super) fn next_step(&mut self) -> Step {
        match self.next_record() {
            Ok(Some(line)) => match row_to_member(&self.columns, &self.record) {
                Ok(member) => Step::Row(member),
                Err(message) => Step::Bad(RowError { line, message }),
            },
            Ok(None) => Step::End,
            Err(e) => Step::Fatal(e),
        }
    }

    /// Reads the next non-blank record into `self.record`, returning its starting line.
    fn next_record(&mut self) -> Result<Option<u64>, RowError> {
        loop {
            match self.input.read_byte_record(&mut self.record) {
                Ok(true) if is_blank(&self.record) => continue,
                Ok(true) => return Ok(Some(self.start_line())),
                Ok(false) => return Ok(None),
                Err(e) => return Err(read_failure(self.input.position().line(), e)),
            }
        }
    }

    /// The line the record just read starts on: the line after it, less its own terminating
    /// `\n` and the ones inside its quoted cells (kept there verbatim).
    fn start_line(&self) -> u64 {
        let after = self.input.position().line();
        let inside = self
            .record
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        after.saturating_sub(1 + inside).max(1)
    }
}

/// A `\r\n` blank line, which csv hands over as one cell holding `\r`.
fn is_blank(record: &csv::ByteRecord) -> bool {
    record.len() == 1 && matches!(&record[0], b"" | b"\r")
}

/// The cells of a record, with the `\r` of a `\r\n` ending dropped from the last one.
fn cells(record: &csv::ByteRecord) -> impl Iterator<Item = &[u8]> {
    let last = record.len().saturating_sub(1);
    record.iter().enumerate().map(move |(i, cell)| {
        if i == last {
            cell.strip_suffix(b"\r").unwrap_or(cell)
        } else {
            cell
        }
    })
}

/// Counts the bytes pulled from the file, so that [`super::MemberReader::bytes_read`] can leave out
/// the extra `\n` CSV reading appends.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The header row's names. Surrounding spaces are trimmed (spreadsheets leave them, and a key
/// `" email"` would silently never match), and a missing or repeated name is refused because
/// one column's values would vanish or overwrite another's on every row.
fn column_names(header: &csv::ByteRecord, line: u64) -> Result<Vec<String>, RowError> {
    let fail = |message: String| RowError { line, message };
    let mut columns: Vec<String> = Vec::with_capacity(header.len());
    for (index, raw) in cells(header).enumerate() {
        let raw = if index == 0 {
            raw.strip_prefix(BOM).unwrap_or(raw)
        } else {
            raw
        };
        let name = std::str::from_utf8(raw)
            .map_err(|_| fail(format!("header column {} is not valid UTF-8", index + 1)))?
            .trim();
        if name.is_empty() {
            return Err(fail(format!("header column {} has no name", index + 1)));
        }
        if columns.iter().any(|c| c == name) {
            return Err(fail(format!(
                "header column `{name}` appears more than once"
            )));
        }
        columns.push(name.to_owned());
    }
    Ok(columns)
}

/// One data row as a member: `column -> cell` for every non-empty cell.
fn row_to_member(
    columns: &[String],
    record: &csv::ByteRecord,
) -> Result<Map<String, Value>, String> {
    if record.len() != columns.len() {
        return Err(format!(
            "expected {} fields as in the header, found {}",
            columns.len(),
            record.len()
        ));
    }
    let mut member = Map::new();
    for (column, cell) in columns.iter().zip(cells(record)) {
        if cell.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(cell)
            .map_err(|_| format!("the `{column}` cell is not valid UTF-8"))?;
        member.insert(column.clone(), Value::String(text.to_owned()));
    }
    Ok(member)
}
