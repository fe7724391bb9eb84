//! Cordial's rules for list names, and the `Lytics_{audience}` name used when a job has no
//! list configured (as the Lytics Cordial export does).

/// Why a list name is not acceptable to Cordial, or `None` when it is.
///
/// Cordial's message says "letters, numbers, and dashes" but its own examples use
/// underscores (`weekly_specials`), so underscores are accepted too.
pub fn check_list_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a list name cannot be empty".into());
    }
    if name.chars().count() > 128 {
        return Some(format!(
            "list name `{name}` is longer than Cordial's 128 characters"
        ));
    }
    if name.eq_ignore_ascii_case("cid") {
        return Some("Cordial does not allow `cid` as a list name".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Some(format!(
            "list name `{name}` contains `{bad}`; Cordial allows only letters, digits, `_` and `-`"
        ));
    }
    None
}

/// The list created for an audience when none is configured: `Lytics_` plus the audience
/// slug with every character Cordial refuses replaced by `_`, cut to 128 characters.
pub fn audience_list_name(audience: &str) -> String {
    let cleaned: String = audience
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("Lytics_{cleaned}").chars().take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cordial_examples_and_rejects_the_rest() {
        assert_eq!(check_list_name("weekly_specials"), None);
        assert_eq!(check_list_name("safe-drivers2"), None);
        assert!(check_list_name("CID").is_some());
        assert!(check_list_name("has space").unwrap().contains("` `"));
        assert!(check_list_name(&"a".repeat(129)).is_some());
        assert!(check_list_name("").is_some());
    }

    #[test]
    fn audience_names_become_valid_list_names() {
        assert_eq!(audience_list_name("high_value"), "Lytics_high_value");
        assert_eq!(audience_list_name("vip users/é"), "Lytics_vip_users__");
        let long = audience_list_name(&"x".repeat(300));
        assert_eq!(long.len(), 128);
        assert_eq!(check_list_name(&long), None);
    }
}
