//! Reading a `POST /capture/<job>` body: one submission object, or an array of them, each
//! checked with the job's settings before anything is stored.

use crate::db::NewItem;
use crate::queue::submission;
use cordial_jobs::capture::{self, BadSubmission};
use cordial_jobs::settings::CaptureSettings;
use serde_json::Value;

/// Every submission of the body as a queue item; or the first problem, its field prefixed
/// with the element's index when the body is an array (`[2].email`).
pub fn parse_body(settings: &CaptureSettings, bytes: &[u8]) -> Result<Vec<NewItem>, BadSubmission> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        BadSubmission::new(
            "(submission)",
            format!("not valid JSON ({e}); send one JSON object, or an array of them"),
        )
    })?;
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                one(settings, item).map_err(|e| {
                    let field = match e.field.as_str() {
                        "(submission)" => format!("[{i}]"),
                        f => format!("[{i}].{f}"),
                    };
                    BadSubmission::new(field, e.message)
                })
            })
            .collect(),
        other => Ok(vec![one(settings, other)?]),
    }
}

/// The submission keyed by its email, else its SMS number, stored as sent (the job parses
/// it again).
fn one(settings: &CaptureSettings, value: Value) -> Result<NewItem, BadSubmission> {
    let parsed = capture::parse_for_settings(settings, &value)?;
    let contact = parsed
        .email
        .or(parsed.sms)
        .expect("a parsed submission has an identifier");
    Ok(submission::item(contact, value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(value: Value) -> CaptureSettings {
        cordial_jobs::settings::typed(cordial_jobs::settings::JobKind::ExperienceCapture, &value)
            .unwrap()
    }

    #[test]
    fn one_object_or_an_array_and_the_contact_is_the_email_else_the_number() {
        let s = settings(json!({}));
        let one = parse_body(&s, br#"{"email": " Jane@Example.com ", "opt_in": true}"#).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].key, "jane@example.com");
        let many = parse_body(
            &s,
            br#"[{"email": "a@x.io"}, {"sms": "+1 (555) 123-4567", "country": "US"}]"#,
        )
        .unwrap();
        assert_eq!(many[1].key, "+15551234567");
        assert_eq!(
            serde_json::from_str::<Value>(&many[1].item).unwrap()["sms"],
            "+1 (555) 123-4567",
            "the body is stored as sent; the job parses it again"
        );
    }

    #[test]
    fn a_bad_element_names_its_index() {
        let s = settings(json!({}));
        let e = parse_body(&s, br#"[{"email": "a@x.io"}, {"email": "nope"}]"#).unwrap_err();
        assert_eq!(e.field, "[1].email");
        let e = parse_body(&s, br#"[{"email": "a@x.io"}, {}]"#).unwrap_err();
        assert_eq!(e.field, "[1]");
        assert!(e.message.contains("no identifier"), "{}", e.message);
        let e = parse_body(&s, b"{").unwrap_err();
        assert_eq!(e.field, "(submission)");
    }

    #[test]
    fn strict_refuses_unknown_fields() {
        let s = settings(json!({"strict": true, "field_mapping": {"first_name": "first_name"}}));
        let e =
            parse_body(&s, br#"{"email": "a@x.io", "answers": {"colour": "red"}}"#).unwrap_err();
        assert_eq!(e.field, "answers.colour");
        let e = parse_body(&s, br#"{"email": "a@x.io", "utm": "x"}"#).unwrap_err();
        assert_eq!(e.field, "utm");
    }
}
