//! Builders for every request the jobs send to Cordial. Kept separate from the client so the
//! contract tests can check each body against Cordial's Swagger without any transport.

use super::contact::ContactUpsert;
use super::http::{HttpRequest, Method};
use serde_json::{Value, json};

fn with_json(method: Method, url: String, body: Option<&Value>) -> HttpRequest {
    let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
    if body.is_some() {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    HttpRequest {
        method,
        url,
        headers,
        body: body.map(|b| serde_json::to_vec(b).expect("a JSON value always serialises")),
    }
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters pass through).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /v2/accountcontactattributes`: the account's attribute schema.
pub fn list_contact_attributes(base: &str) -> HttpRequest {
    with_json(
        Method::Get,
        format!("{base}/v2/accountcontactattributes"),
        None,
    )
}

/// `GET /v2/accountlists`: every list of the account.
pub fn list_account_lists(base: &str) -> HttpRequest {
    with_json(Method::Get, format!("{base}/v2/accountlists"), None)
}

/// `POST /v2/accountlists`: creates a list; `enhanced` lists record each member's join date.
pub fn create_account_list(base: &str, name: &str, enhanced: bool) -> HttpRequest {
    let body = json!({ "name": name, "enhanced": enhanced });
    with_json(Method::Post, format!("{base}/v2/accountlists"), Some(&body))
}

/// `POST /v2/contacts`: creates the contact or updates it (an upsert keyed on the email).
pub fn upsert_contact(base: &str, contact: &ContactUpsert) -> HttpRequest {
    with_json(
        Method::Post,
        format!("{base}/v2/contacts"),
        Some(&contact.to_json()),
    )
}

/// `GET /v2/contacts/email:<address>`: one contact by email.
pub fn get_contact_by_email(base: &str, email: &str) -> HttpRequest {
    let key = format!("email:{}", email.to_lowercase());
    with_json(
        Method::Get,
        format!("{base}/v2/contacts/{}", encode_segment(&key)),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_encoded_in_paths() {
        let r = get_contact_by_email("http://x", "Jane+Tag@Example.com");
        assert_eq!(r.url, "http://x/v2/contacts/email:jane%2Btag@example.com");
        assert!(r.body.is_none());
    }

    #[test]
    fn bodies_carry_a_json_content_type() {
        let r = create_account_list("http://x", "vip", true);
        assert!(
            r.headers
                .contains(&("content-type".into(), "application/json".into()))
        );
        assert_eq!(r.json_body(), Some(json!({"name":"vip","enhanced":true})));
    }
}
