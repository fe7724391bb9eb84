//! Names that are safe in a file name on any server, made from job names and ids: letters,
//! digits, `-` and `_` stay, anything else becomes `_`.

pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_letters_digits_dashes_and_underscores_stay() {
        assert_eq!(
            super::file_safe("vip bulk/2026:ä-x_y"),
            "vip_bulk_2026__-x_y"
        );
    }
}
