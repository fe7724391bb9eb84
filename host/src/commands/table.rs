//! The aligned tables the listing commands print (`audit`, `runs`, `status`).

/// Rows under a header, each column as wide as its widest cell, two spaces apart.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header);
    for row in rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = [
            ["ann".to_owned(), "1".to_owned()],
            ["bartholomew".to_owned(), "22".to_owned()],
        ];
        assert_eq!(
            super::table(["name", "n"], &rows),
            "name         n\nann          1\nbartholomew  22\n"
        );
    }
}
