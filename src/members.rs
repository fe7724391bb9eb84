//! Streaming a file of audience members, for a backfill.
//!
//! A backfill file can hold millions of users, so it is read one row at a time from any
//! [`std::io::Read`] (the caller opens the file; this crate does no I/O of its own). Memory
//! stays bounded by the longest row, whatever the file's size.
//!
//! A bad row does not end the read: it comes out as one `Err(RowError)` carrying its line, and
//! the next item is the next row. A backfill of a million users should not be thrown away for
//! one stray line; the caller counts and reports the bad rows instead. Only a failure of the
//! reader itself (an I/O error) ends the iteration, since nothing after it can be trusted.

mod csv_rows;
mod ndjson;

use csv_rows::CsvRows;
use ndjson::NdjsonRows;
use serde_json::{Map, Value};
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The layouts a member file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberFormat {
    /// One JSON object per line (what a Lytics segment export or `jq -c` produces).
    Ndjson,
    /// A header row naming the fields, then one row per member (what spreadsheets produce).
    Csv,
}

impl MemberFormat {
    /// The format implied by the file's extension (case-insensitive): `.ndjson`, `.jsonl` and
    /// `.json` are NDJSON, `.csv` is CSV; anything else is `None` so the caller can ask for it.
    pub fn from_path(path: &Path) -> Option<MemberFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "ndjson" | "jsonl" | "json" => Some(MemberFormat::Ndjson),
            "csv" => Some(MemberFormat::Csv),
            _ => None,
        }
    }
}

/// A row that could not be read, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file where the row starts (a quoted CSV cell may span lines).
    pub line: u64,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RowError {}

/// Reads audience members, one JSON object per row, from NDJSON or CSV.
pub struct MemberReader<R> {
    rows: Rows<R>,
    /// Set after an I/O error, so that a reader that keeps failing cannot loop forever.
    finished: bool,
}

enum Rows<R> {
    Ndjson(NdjsonRows<R>),
    Csv(CsvRows<R>),
}

/// What one step of a row source produced.
enum Step {
    Row(Map<String, Value>),
    /// A bad row: reported, and reading goes on.
    Bad(RowError),
    /// The reader failed: reported, and reading stops.
    Fatal(RowError),
    End,
}

impl<R: Read> MemberReader<R> {
    /// Wraps `reader`. For CSV this reads the header row, so an unusable header (not UTF-8,
    /// a column without a name, a name used twice) is reported before any row. An empty file
    /// is not an error: it simply has no members.
    pub fn new(reader: R, format: MemberFormat) -> Result<Self, RowError> {
        let rows = match format {
            MemberFormat::Ndjson => Rows::Ndjson(NdjsonRows::new(reader)),
            MemberFormat::Csv => Rows::Csv(CsvRows::new(reader)?),
        };
        Ok(MemberReader {
            rows,
            finished: false,
        })
    }

    /// How many bytes of the file the rows returned so far (header and skipped lines
    /// included) span: compare with the file's size for a progress bar. It reaches the file's
    /// size at the end.
    pub fn bytes_read(&self) -> u64 {
        match &self.rows {
            Rows::Ndjson(rows) => rows.consumed(),
            Rows::Csv(rows) => rows.consumed(),
        }
    }
}

impl<R: Read> Iterator for MemberReader<R> {
    type Item = Result<Map<String, Value>, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let step = match &mut self.rows {
            Rows::Ndjson(rows) => rows.next_step(),
            Rows::Csv(rows) => rows.next_step(),
        };
        match step {
            Step::Row(member) => Some(Ok(member)),
            Step::Bad(error) => Some(Err(error)),
            Step::Fatal(error) => {
                self.finished = true;
                Some(Err(error))
            }
            Step::End => {
                self.finished = true;
                None
            }
        }
    }
}

/// Editors on Windows and Excel start UTF-8 files with a byte order mark; it is not data.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_failure(line: u64, error: impl fmt::Display) -> RowError {
    RowError {
        line,
        message: format!("could not read the file: {error}"),
    }
}

#[cfg(test)]
mod tests;
