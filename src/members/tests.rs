use super::*;
use serde_json::json;
use std::cell::Cell;
use std::io;
use std::rc::Rc;

fn read_all(text: &[u8], format: MemberFormat) -> Vec<Result<Value, RowError>> {
    MemberReader::new(text, format)
        .expect("the header is fine")
        .map(|row| row.map(Value::Object))
        .collect()
}

fn bad(line: u64, fragment: &str) -> impl Fn(&Result<Value, RowError>) -> bool + '_ {
    move |row| matches!(row, Err(e) if e.line == line && e.message.contains(fragment))
}

#[test]
fn format_follows_the_extension_case_insensitively() {
    let cases = [
        ("members.ndjson", Some(MemberFormat::Ndjson)),
        ("dir.v2/members.JSONL", Some(MemberFormat::Ndjson)),
        ("members.json", Some(MemberFormat::Ndjson)),
        ("/tmp/Members.Csv", Some(MemberFormat::Csv)),
        ("members.tsv", None),
        ("members", None),
        ("csv", None),
    ];
    for (path, expected) in cases {
        assert_eq!(MemberFormat::from_path(Path::new(path)), expected, "{path}");
    }
}

#[test]
fn row_error_displays_its_line() {
    let e = RowError {
        line: 7,
        message: "expected 3 fields".into(),
    };
    assert_eq!(e.to_string(), "line 7: expected 3 fields");
}

#[test]
fn ndjson_reads_objects_and_skips_blank_lines() {
    let text = "\u{feff}{\"email\":\"a@b.co\",\"n\":1}\n\n   \r\n{\"email\":\"zoë@exämple.com\",\"tags\":[\"x\"]}\r\n\n";
    let rows = read_all(text.as_bytes(), MemberFormat::Ndjson);
    assert_eq!(
        rows,
        [
            Ok(json!({"email": "a@b.co", "n": 1})),
            Ok(json!({"email": "zoë@exämple.com", "tags": ["x"]})),
        ]
    );
}

#[test]
fn ndjson_reports_bad_lines_and_goes_on() {
    let text =
        b"{\"a\":1}\n[1,2]\n{\"a\":\n\"just text\"\n\n{\"a\":2} {\"a\":3}\n\xff\xfe\n{\"a\":4}";
    let rows = read_all(text, MemberFormat::Ndjson);
    assert_eq!(rows.len(), 7, "{rows:?}");
    assert_eq!(rows[0], Ok(json!({"a": 1})));
    assert!(bad(2, "expected a JSON object, found an array")(&rows[1]));
    assert!(bad(3, "EOF while parsing")(&rows[2]), "{:?}", rows[2]);
    assert!(bad(4, "found a string")(&rows[3]));
    assert!(bad(6, "trailing characters")(&rows[4]), "{:?}", rows[4]);
    assert!(bad(7, "not a JSON object")(&rows[5]), "{:?}", rows[5]);
    // The last line has no newline and is still read.
    assert_eq!(rows[6], Ok(json!({"a": 4})));
}

#[test]
fn ndjson_error_names_the_column_not_serde_line_1() {
    let rows = read_all(b"\n{\"a\" 1}\n", MemberFormat::Ndjson);
    let Err(e) = &rows[0] else { panic!("{rows:?}") };
    assert_eq!(e.line, 2);
    assert!(e.message.contains("column 6"), "{e}");
    assert!(!e.message.contains("line 1"), "{e}");
}

#[test]
fn bytes_read_reaches_the_file_size() {
    for (text, format) in [
        (&b"{\"a\":1}\n\n{\"a\":2}\n"[..], MemberFormat::Ndjson),
        (&b"a,b\n1,2\n\"3\n\",4\n"[..], MemberFormat::Csv),
    ] {
        let mut reader = MemberReader::new(text, format).unwrap();
        let mut seen = vec![reader.bytes_read()];
        for row in reader.by_ref() {
            row.unwrap();
        }
        seen.push(reader.bytes_read());
        assert_eq!(*seen.last().unwrap(), text.len() as u64, "{format:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    }
}

#[test]
fn csv_rows_become_string_maps_without_empty_cells() {
    let text = "\u{feff}email, first name ,city\r\na@b.co,Ann,\r\nb@c.co,,Zürich\r\n,,\r\n";
    let rows = read_all(text.as_bytes(), MemberFormat::Csv);
    assert_eq!(
        rows,
        [
            Ok(json!({"email": "a@b.co", "first name": "Ann"})),
            Ok(json!({"email": "b@c.co", "city": "Zürich"})),
            Ok(json!({})),
        ]
    );
}

#[test]
fn csv_quoted_cells_keep_commas_quotes_and_newlines() {
    let text = "email,note,name\n\
                a@b.co,\"one, two\",\"say \"\"hi\"\"\"\n\
                b@c.co,\"line 1\nline 2\r\nline 3\",Łukasz 日本\n\
                c@d.co,x,y,z\n\
                d@e.co,last,row\n";
    let rows = read_all(text.as_bytes(), MemberFormat::Csv);
    assert_eq!(
        rows[0],
        Ok(json!({"email": "a@b.co", "note": "one, two", "name": "say \"hi\""}))
    );
    assert_eq!(
        rows[1],
        Ok(json!({"email": "b@c.co", "note": "line 1\nline 2\r\nline 3", "name": "Łukasz 日本"}))
    );
    // The bad row starts on line 6: the quoted cell above spans lines 3 to 5.
    assert!(
        bad(6, "expected 3 fields as in the header, found 4")(&rows[2]),
        "{:?}",
        rows[2]
    );
    assert_eq!(
        rows[3],
        Ok(json!({"email": "d@e.co", "note": "last", "name": "row"}))
    );
    assert_eq!(rows.len(), 4);
}

#[test]
fn csv_line_numbers_survive_crlf_blank_lines_and_multi_line_cells() {
    // Every row but the quoted ones is one field short, so each reports its line.
    let text = "a,b\r\n\
                x\r\n\
                \r\n\
                \n\
                \"multi\r\nline\",\"cell\"\r\n\
                y\n\
                \"p\nq\",\"r\ns\"\n\
                \n\
                z";
    let rows = read_all(text.as_bytes(), MemberFormat::Csv);
    let lines: Vec<_> = rows
        .iter()
        .map(|row| row.clone().map_err(|e| e.line))
        .collect();
    assert_eq!(
        lines,
        [
            Err(2),
            Ok(json!({"a": "multi\r\nline", "b": "cell"})),
            Err(7),
            Ok(json!({"a": "p\nq", "b": "r\ns"})),
            Err(12),
        ]
    );
}

#[test]
fn csv_reports_short_and_non_utf8_rows_and_goes_on() {
    let text = b"email,name\n\na@b.co\nb@c.co,\xe9t\xe9\nc@d.co,Cy\n";
    let rows = read_all(text, MemberFormat::Csv);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        bad(3, "expected 2 fields as in the header, found 1")(&rows[0]),
        "{:?}",
        rows[0]
    );
    assert!(
        bad(4, "`name` cell is not valid UTF-8")(&rows[1]),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2], Ok(json!({"email": "c@d.co", "name": "Cy"})));
}

#[test]
fn csv_header_must_name_every_column_once() {
    let cases: [(&[u8], &str); 3] = [
        (b"email,name,email\n", "`email` appears more than once"),
        (b"email,,name\n", "header column 2 has no name"),
        (b"email,n\xffme\n", "header column 2 is not valid UTF-8"),
    ];
    for (text, fragment) in cases {
        let e = MemberReader::new(text, MemberFormat::Csv)
            .err()
            .expect("bad header");
        assert_eq!(e.line, 1);
        assert!(e.message.contains(fragment), "{e}");
    }
}

#[test]
fn empty_files_have_no_members() {
    for format in [MemberFormat::Ndjson, MemberFormat::Csv] {
        assert!(read_all(b"", format).is_empty(), "{format:?}");
    }
    assert!(read_all(b"email,name\n", MemberFormat::Csv).is_empty());
}

/// Yields `good` and then fails on every call.
struct FailingAfter<'a> {
    good: &'a [u8],
}

impl Read for FailingAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.good.len());
        buf[..n].copy_from_slice(&self.good[..n]);
        self.good = &self.good[n..];
        Ok(n)
    }
}

#[test]
fn an_io_error_is_reported_once_and_ends_the_read() {
    for (good, format) in [
        (&b"{\"a\":1}\n{\"a\""[..], MemberFormat::Ndjson),
        (&b"a\n1\n2"[..], MemberFormat::Csv),
    ] {
        let rows: Vec<_> = MemberReader::new(FailingAfter { good }, format)
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 2, "{format:?}: {rows:?}");
        assert!(rows[0].is_ok());
        let Err(e) = &rows[1] else { panic!("{rows:?}") };
        assert!(e.message.contains("disk on fire"), "{e}");
    }
}

const GENERATED_ROWS: u64 = 200_000;

/// Produces a member file row by row as it is read, handing out at most `chunk` bytes per
/// call, and counts how many bytes have been pulled from it.
struct GeneratedFile {
    format: MemberFormat,
    next_row: u64,
    pending: Vec<u8>,
    offset: usize,
    chunk: usize,
    pulled: Rc<Cell<u64>>,
}

impl GeneratedFile {
    fn new(format: MemberFormat, chunk: usize, pulled: Rc<Cell<u64>>) -> Self {
        let header = match format {
            MemberFormat::Csv => b"email,n,city\n".to_vec(),
            MemberFormat::Ndjson => Vec::new(),
        };
        GeneratedFile {
            format,
            next_row: 0,
            pending: header,
            offset: 0,
            chunk,
            pulled,
        }
    }

    fn refill(&mut self) {
        self.pending.clear();
        self.offset = 0;
        let i = self.next_row;
        let row = match self.format {
            MemberFormat::Ndjson => format!("{{\"email\":\"user{i}@example.com\",\"n\":{i}}}\n"),
            MemberFormat::Csv => format!("user{i}@example.com,{i},\"Kraków, PL\"\n"),
        };
        self.pending.extend_from_slice(row.as_bytes());
        self.next_row += 1;
    }
}

impl Read for GeneratedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset == self.pending.len() {
            if self.next_row == GENERATED_ROWS {
                return Ok(0);
            }
            self.refill();
        }
        let n = buf
            .len()
            .min(self.chunk)
            .min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        self.pulled.set(self.pulled.get() + n as u64);
        Ok(n)
    }
}

/// Reads 200,000 generated rows through 7-byte reads and checks, after every row, that the
/// reader has pulled little more than it has handed out: it never slurps the file.
fn streams_without_buffering(format: MemberFormat) {
    let pulled = Rc::new(Cell::new(0));
    let file = GeneratedFile::new(format, 7, pulled.clone());
    let mut reader = MemberReader::new(file, format).unwrap();
    let mut rows = 0;
    let mut last = reader.bytes_read();
    while let Some(row) = reader.next() {
        let member = row.unwrap();
        let consumed = reader.bytes_read();
        assert!(consumed > last, "bytes_read must grow with each row");
        assert!(
            pulled.get() - consumed <= 16 * 1024,
            "read ahead {} bytes",
            pulled.get() - consumed
        );
        if rows == 123_456 {
            assert_eq!(member["email"], "user123456@example.com");
        }
        last = consumed;
        rows += 1;
    }
    assert_eq!(rows, GENERATED_ROWS);
    assert_eq!(reader.bytes_read(), pulled.get());
}

#[test]
fn ndjson_streams_a_large_file_in_constant_memory() {
    streams_without_buffering(MemberFormat::Ndjson);
}

#[test]
fn csv_streams_a_large_file_in_constant_memory() {
    streams_without_buffering(MemberFormat::Csv);
}
