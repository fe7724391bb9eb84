//! NDJSON member files: one JSON object per line.

use super::{BOM, RowError, Step, read_failure};
use crate::webhook::json_type_name;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};

/// NDJSON: one object per line, blank lines skipped.
pub(super) struct NdjsonRows<R> {
    input: BufReader<R>,
    /// The last line read (1-based), 0 before the first.
    line: u64,
    consumed: u64,
    /// Reused for every line, so reading allocates only when a line is longer than any before.
    buf: Vec<u8>,
}

impl<R: Read> NdjsonRows<R> {
    pub(super) fn new(reader: R) -> Self {
        NdjsonRows {
            input: BufReader::new(reader),
            line: 0,
            consumed: 0,
            buf: Vec::new(),
        }
    }

    /// Bytes of the file up to the end of the last line read.
    pub(super) fn consumed(&self) -> u64 {
        self.consumed
    }

    pub(super) fn next_step(&mut self) -> Step {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return Step::End,
                Ok(n) => self.consumed += n as u64,
                Err(e) => return Step::Fatal(read_failure(self.line + 1, e)),
            }
            self.line += 1;
            let mut text = self.buf.as_slice();
            if self.line == 1 {
                text = text.strip_prefix(BOM).unwrap_or(text);
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return match parse_json_object(text) {
                Ok(member) => Step::Row(member),
                Err(message) => Step::Bad(RowError {
                    line: self.line,
                    message,
                }),
            };
        }
    }
}

/// One NDJSON line as an object. The error names the column, since serde_json's own position
/// would always say "line 1".
fn parse_json_object(text: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(member)) => Ok(member),
        Ok(other) => Err(format!(
            "expected a JSON object, found {}",
            json_type_name(&other)
        )),
        Err(e) => Err(format!(
            "not a JSON object (column {}): {}; each line must hold one JSON object",
            e.column(),
            without_position(&e)
        )),
    }
}

/// serde_json's message without its trailing " at line L column C".
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}
