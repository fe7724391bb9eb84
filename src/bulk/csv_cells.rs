//! Writing CSV rows for Cordial's contact import, RFC 4180 style.
//!
//! A cell is quoted when it must be (comma, quote, line break) and also when it starts with
//! `=`, `+`, `-` or `@` or has edge spaces: spreadsheet tools that open an export then treat
//! it as text, and the value itself is never altered, so Cordial imports exactly what the
//! platform holds.

/// The cell that tells Cordial "leave this attribute as it is" (`nullMarker` in the import
/// request). Written for attributes the member does not have, as opposed to an empty value.
pub const UNSET: &str = "\\N";

/// Appends one row (cells separated by commas, then `\n`) to `out`.
pub fn write_row<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(out, cell);
    }
    out.push(b'\n');
}

/// Appends one cell, quoted when it must be.
pub fn write_cell(out: &mut Vec<u8>, cell: &str) {
    if needs_quotes(cell) {
        // One pass over the bytes: a byte loop is what the wasm build runs fastest.
        out.reserve(cell.len() + 2);
        out.push(b'"');
        for &b in cell.as_bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

fn needs_quotes(cell: &str) -> bool {
    let bytes = cell.as_bytes();
    match bytes.first() {
        None => false,
        Some(b'=' | b'+' | b'-' | b'@' | b' ' | b'\t') => true,
        Some(_) => {
            bytes.last() == Some(&b' ')
                || bytes
                    .iter()
                    .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> String {
        let mut out = Vec::new();
        write_row(&mut out, cells.iter().copied());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_cells_stay_bare_and_hard_ones_are_quoted() {
        assert_eq!(row(&["a@x.io", "Zoë", "", "1"]), "a@x.io,Zoë,,1\n");
        assert_eq!(
            row(&["a,b", "say \"hi\"", "two\nlines"]),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
        );
        assert_eq!(
            row(&["=SUM(A1)", "-5", "+1", "@x", " pad"]),
            "\"=SUM(A1)\",\"-5\",\"+1\",\"@x\",\" pad\"\n"
        );
    }
}
