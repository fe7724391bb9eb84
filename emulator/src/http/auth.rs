//! HTTP Basic authentication as Cordial does it: the API key is the user name and
//! the password is empty (`Authorization: Basic base64("<key>:")`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Whether an `Authorization` header value carries `api_key` with an empty password.
///
/// A key sent as the password, a non-empty password or another scheme all fail:
/// those are the mistakes real clients make (cordial-api.md §1.2), and a lenient
/// fake would hide them.
pub fn is_authorized(header: Option<&str>, api_key: &str) -> bool {
    let Some(value) = header else { return false };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    match String::from_utf8(decoded) {
        Ok(credentials) => credentials
            .strip_suffix(':')
            .is_some_and(|user| !user.is_empty() && user == api_key),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        format!("Basic {}", STANDARD.encode(s))
    }

    #[test]
    fn accepts_key_as_user_with_empty_password() {
        assert!(is_authorized(Some(&basic("k1:")), "k1"));
        assert!(is_authorized(
            Some(&format!("basic {}", STANDARD.encode("k1:"))),
            "k1"
        ));
    }

    #[test]
    fn rejects_everything_else() {
        assert!(!is_authorized(None, "k1"));
        assert!(!is_authorized(Some(&basic("k2:")), "k1"));
        assert!(!is_authorized(Some(&basic("k1:secret")), "k1"));
        assert!(!is_authorized(Some(&basic(":k1")), "k1"));
        assert!(!is_authorized(Some(&basic("k1")), "k1"));
        assert!(!is_authorized(Some("Bearer k1"), "k1"));
        assert!(!is_authorized(Some("Basic !!!"), "k1"));
    }
}
