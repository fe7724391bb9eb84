//! Reading an export file as a stream of records, whatever Cordial wrote: JSON lines, one
//! JSON array, or CSV with a header, each plain or gzip-compressed. Memory stays flat in the
//! file size: one record is held at a time.

use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};

/// One record as JSON text (not parsed here: the mapper reads only the fields it needs), or
/// why its text is unusable, with the line it starts on.
pub type Item = (u64, Result<String, String>);

/// Records of a file. `name` decides CSV (`.csv`, `.csv.gz`); otherwise the first byte picks
/// a JSON array (`[`) or JSON lines. Gzip is recognised by its magic bytes.
pub fn records<'a, R: Read + 'a>(
    name: &str,
    source: R,
) -> Result<Box<dyn Iterator<Item = Item> + 'a>, String> {
    let mut input = BufReader::with_capacity(1 << 20, source);
    let head = input.fill_buf().map_err(|e| format!("{name}: {e}"))?;
    let mut input: Box<dyn BufRead + 'a> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(input),
        ))
    } else {
        Box::new(input)
    };
    let plain = name.strip_suffix(".gz").unwrap_or(name);
    if plain.ends_with(".csv") {
        return csv_records(name, input);
    }
    let first = loop {
        let buf = input.fill_buf().map_err(|e| unreadable(name, e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                input.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    Ok(match first {
        None => Box::new(std::iter::empty()),
        Some(b'[') => {
            input.consume(1);
            Box::new(JsonArray {
                input,
                line: 1,
                done: false,
            })
        }
        Some(_) => Box::new(JsonLines {
            input,
            line: 0,
            buffer: Vec::new(),
        }),
    })
}

fn unreadable(name: &str, e: std::io::Error) -> String {
    format!("{name} cannot be read: {e}")
}

/// Thrown when the stream itself breaks (not a bad record): the file cannot be read.
pub const BROKEN: &str = "the file cannot be read: ";

struct JsonLines<R> {
    input: R,
    line: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        loop {
            self.buffer.clear();
            match self.input.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some((self.line + 1, Err(format!("{BROKEN}{e}")))),
            }
            self.line += 1;
            let text = trim(&self.buffer);
            if text.is_empty() {
                continue;
            }
            return Some((
                self.line,
                std::str::from_utf8(text)
                    .map(str::to_owned)
                    .map_err(|e| format!("not UTF-8: {e}")),
            ));
        }
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// The elements of one top-level JSON array, cut out one at a time by tracking strings and
/// nesting, so a 300 MB array never sits in memory.
struct JsonArray<R> {
    input: R,
    line: u64,
    done: bool,
}

impl<R: BufRead> JsonArray<R> {
    fn byte(&mut self) -> std::io::Result<Option<u8>> {
        let buf = self.input.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.input.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    fn element(&mut self) -> Result<Option<(u64, Vec<u8>)>, String> {
        let first = loop {
            match self.byte().map_err(|e| format!("{BROKEN}{e}"))? {
                None => return Err(format!("{BROKEN}the JSON array is not closed")),
                Some(b) if b.is_ascii_whitespace() || b == b',' => {}
                Some(b']') => return Ok(None),
                Some(b) => break b,
            }
        };
        let start = self.line;
        let mut text = vec![first];
        let (mut depth, mut in_string, mut escaped) = (0i32, first == b'"', false);
        if first == b'{' || first == b'[' {
            depth = 1;
        } else if !in_string {
            // A bare scalar: read to the next separator, counting the lines it crosses (the
            // records after it are numbered from them), without the whitespace before it.
            loop {
                let buf = self.input.fill_buf().map_err(|e| format!("{BROKEN}{e}"))?;
                match buf.first() {
                    Some(b',' | b']') | None => {
                        let end = text.trim_ascii_end().len();
                        text.truncate(end);
                        return Ok(Some((start, text)));
                    }
                    Some(_) => {
                        let b = self.byte().map_err(|e| format!("{BROKEN}{e}"))?;
                        text.extend(b);
                    }
                }
            }
        }
        while depth > 0 || in_string {
            let b = self
                .byte()
                .map_err(|e| format!("{BROKEN}{e}"))?
                .ok_or_else(|| format!("{BROKEN}the JSON array ends inside an element"))?;
            text.push(b);
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth -= 1,
                    _ => {}
                }
            }
        }
        Ok(Some((start, text)))
    }
}

impl<R: BufRead> Iterator for JsonArray<R> {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        match self.element() {
            Ok(Some((line, text))) => Some((
                line,
                String::from_utf8(text).map_err(|e| format!("not UTF-8: {e}")),
            )),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some((self.line, Err(e)))
            }
        }
    }
}

fn csv_records<'a>(
    name: &str,
    input: Box<dyn BufRead + 'a>,
) -> Result<Box<dyn Iterator<Item = Item> + 'a>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{name}: no CSV header: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    Ok(Box::new(reader.into_records().map(move |row| match row {
        Ok(row) => {
            let line = row.position().map_or(0, |p| p.line());
            if row.len() != header.len() {
                return (
                    line,
                    Err(format!(
                        "{} cells where the header has {}",
                        row.len(),
                        header.len()
                    )),
                );
            }
            let object: Map<String, Value> = header
                .iter()
                .zip(row.iter())
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(k, cell)| (k.clone(), Value::String(cell.to_owned())))
                .collect();
            (line, Ok(Value::Object(object).to_string()))
        }
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line());
            match e.kind() {
                csv::ErrorKind::Io(_) => (line, Err(format!("{BROKEN}{e}"))),
                _ => (line, Err(format!("not CSV: {e}"))),
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(name: &str, bytes: &[u8]) -> Vec<Item> {
        records(name, bytes).unwrap().collect()
    }

    #[test]
    fn json_lines_keep_line_numbers_and_flag_bad_lines() {
        let got = collect("a.json", b"{\"_id\":\"1\"}\n\n{broken\n{\"_id\":\"2\"}\n");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, 1);
        assert_eq!(got[1], (3, Ok("{broken".to_owned())));
        assert_eq!(got[2], (4, Ok("{\"_id\":\"2\"}".to_owned())));
    }

    #[test]
    fn a_json_array_streams_element_by_element() {
        let text =
            b"[\n {\"_id\":\"1\",\"s\":\"a]}\\\"\"},\n {\"_id\":\"2\",\"n\":[1,{\"x\":2}]}\n]";
        let got = collect("a.json", text);
        assert_eq!(got.len(), 2);
        let first: Value = serde_json::from_str(got[0].1.as_ref().unwrap()).unwrap();
        assert_eq!(first["s"], "a]}\"");
        assert_eq!(got[1].0, 3);
        let cut = collect("a.json", b"[{\"_id\":\"1\"},{\"_id\"");
        assert!(cut[1].1.as_ref().unwrap_err().starts_with(BROKEN));
    }

    /// Found by fuzzing (`activity_file`): a bare scalar element kept the whitespace after it,
    /// and the newlines it crossed were not counted, so later records got lines too low.
    #[test]
    fn a_bare_scalar_element_is_trimmed_and_its_lines_are_counted() {
        let got = collect("a.json", b"[1\n, \"b\"\n,\ntrue \n\n, {\"_id\":\"1\"}]");
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_deref().unwrap()).collect();
        assert_eq!(texts, ["1", "\"b\"", "true", "{\"_id\":\"1\"}"]);
        let lines: Vec<u64> = got.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 4, 6]);
    }

    #[test]
    fn csv_with_a_header_and_gzip_are_read() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"_id,action,first\n1,open,true\n2,\"cl,ick\",\n3,x\n")
            .unwrap();
        let bytes = gz.finish().unwrap();
        let got = collect("export.csv.gz", &bytes);
        let row = |i: usize| serde_json::from_str::<Value>(got[i].1.as_ref().unwrap()).unwrap();
        assert_eq!(
            row(0),
            serde_json::json!({"_id": "1", "action": "open", "first": "true"})
        );
        assert_eq!(row(1)["action"], "cl,ick");
        assert!(row(1).get("first").is_none());
        assert!(got[2].1.is_err());
        assert_eq!(got[2].0, 4);
        let lines = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut lines = lines;
        lines.write_all(b"{\"_id\":\"9\"}\n").unwrap();
        assert_eq!(collect("e.json.gz", &lines.finish().unwrap()).len(), 1);
    }

    #[test]
    fn a_corrupt_gzip_stream_is_a_broken_file() {
        let mut bytes = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        bytes.extend_from_slice(&[0xff; 64]);
        // Broken at the first bytes: the file cannot be opened as records at all.
        let err = records("e.json.gz", &bytes[..])
            .err()
            .expect("a broken file");
        assert!(err.contains("cannot be read"), "{err}");
    }
}
