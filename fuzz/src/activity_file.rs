//! The activity export readers ([`cordial_jobs::activity::reader::records`]): JSON lines,
//! one JSON array, CSV with a header, each plain or gzip-compressed.
//!
//! Each input is read as `export.json` and as `export.csv`, the way the job reads a file:
//! up to the first error that says the file itself is broken. Promises checked: never more
//! records than the (decompressed) input has bytes, plus the one that reports a break; no
//! record starts on a line the input does not have; a JSON record is neither blank nor
//! padded, and a CSV record is a JSON object of non-empty text; and compressing the input
//! with gzip changes nothing about what is read.

use cordial_jobs::activity::reader::{BROKEN, Item, records};
use flate2::{Compression, bufread::MultiGzDecoder, write::GzEncoder};
use serde_json::Value;
use std::io::{Read, Write};

/// What the target decompresses at most: far above what a fuzzer's input (4 KiB by default,
/// deflate's ratio is at most about 1:1000) can expand to, so the bound stays honest.
const MAX_PLAIN_BYTES: u64 = 64 << 20;

pub fn run(data: &[u8]) {
    let gzipped = data.starts_with(&[0x1f, 0x8b]);
    let plain = if gzipped { gunzip(data) } else { data.to_vec() };
    for name in ["export.json", "export.csv"] {
        let Some(items) = read(name, data, plain.len()) else {
            continue;
        };
        check(name, &plain, &items);
        if !gzipped {
            let compressed = read(&format!("{name}.gz"), &gzip(data), plain.len());
            assert_eq!(
                compressed.as_ref(),
                Some(&items),
                "{name}: the gzip-compressed input reads differently"
            );
        }
    }
}

/// The records of `bytes` as the job takes them (up to the first break), or `None` when the
/// file cannot be opened at all. Fails when more come than the input could hold.
fn read(name: &str, bytes: &[u8], plain_len: usize) -> Option<Vec<Item>> {
    let iter = match records(name, bytes) {
        Ok(iter) => iter,
        Err(e) => {
            assert!(e.contains(name), "an unopenable file's error names it: {e}");
            return None;
        }
    };
    let most = plain_len + 1;
    let mut items = Vec::new();
    for item in iter {
        let broken = matches!(&item.1, Err(e) if e.starts_with(BROKEN));
        items.push(item);
        assert!(
            items.len() <= most,
            "{name}: more than {most} records from {plain_len} bytes"
        );
        if broken {
            break;
        }
    }
    Some(items)
}

fn check(name: &str, plain: &[u8], items: &[Item]) {
    let lines = plain.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    for (line, record) in items {
        assert!(*line <= lines, "{name}: a record on line {line} of {lines}");
        let Ok(text) = record else { continue };
        if name.ends_with(".csv") {
            let object: Value = serde_json::from_str(text).expect("a CSV record is JSON");
            let cells = object.as_object().expect("a CSV record is an object");
            assert!(
                cells
                    .values()
                    .all(|v| v.as_str().is_some_and(|s| !s.is_empty())),
                "{name}: a CSV record holds only non-empty text: {text}"
            );
        } else {
            let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
            assert!(
                !text.is_empty() && trimmed.len() == text.len(),
                "{name}: a blank or untrimmed record on line {line}: {text:?}"
            );
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// What a gzip stream decompresses to, as far as it can be read.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    let mut decoder = MultiGzDecoder::new(bytes).take(MAX_PLAIN_BYTES);
    let mut chunk = [0u8; 8192];
    while let Ok(n @ 1..) = decoder.read(&mut chunk) {
        plain.extend_from_slice(&chunk[..n]);
    }
    plain
}
