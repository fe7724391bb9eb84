//! Reading a capture body: one submission object, or an array of them, each checked with
//! the job's settings before anything is stored.

use super::elements::{ElementsError, each_element};
use crate::capture::{self, BadSubmission};
use crate::settings::CaptureSettings;
use serde_json::Value;

/// One checked submission: its ordering key (the email, else the SMS number) and the
/// submission as sent (the job parses it again when it delivers).
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionItem {
    pub contact: String,
    pub body: Value,
}

/// Every submission of the body; or the first problem, its field prefixed with the element's
/// index when the body is an array (`[2].email`).
pub fn submission_items(
    settings: &CaptureSettings,
    bytes: &[u8],
) -> Result<Vec<SubmissionItem>, BadSubmission> {
    let mut items = Vec::new();
    each_element(bytes, |index, item| {
        let checked = match index {
            None => one(settings, item)?,
            Some(i) => one(settings, item).map_err(|e| {
                let field = match e.field.as_str() {
                    "(submission)" => format!("[{i}]"),
                    f => format!("[{i}].{f}"),
                };
                BadSubmission::new(field, e.message)
            })?,
        };
        items.push(checked);
        Ok(())
    })
    .map_err(|e| match e {
        ElementsError::Element(bad) => bad,
        ElementsError::NotJson(e) => BadSubmission::new(
            "(submission)",
            format!("not valid JSON ({e}); send one JSON object, or an array of them"),
        ),
    })?;
    Ok(items)
}

fn one(settings: &CaptureSettings, body: Value) -> Result<SubmissionItem, BadSubmission> {
    let parsed = capture::parse_for_settings(settings, &body)?;
    let contact = parsed
        .email
        .or(parsed.sms)
        .expect("a parsed submission has an identifier");
    Ok(SubmissionItem { contact, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(value: Value) -> CaptureSettings {
        crate::settings::typed(crate::settings::JobKind::ExperienceCapture, &value).unwrap()
    }

    #[test]
    fn one_object_or_an_array_and_the_contact_is_the_email_else_the_number() {
        let s = settings(json!({}));
        let one =
            submission_items(&s, br#"{"email": " Jane@Example.com ", "opt_in": true}"#).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].contact, "jane@example.com");
        let many = submission_items(
            &s,
            br#"[{"email": "a@x.io"}, {"sms": "+1 (555) 123-4567", "country": "US"}]"#,
        )
        .unwrap();
        assert_eq!(many[1].contact, "+15551234567");
        assert_eq!(
            many[1].body["sms"], "+1 (555) 123-4567",
            "the body is kept as sent; the job parses it again"
        );
    }

    #[test]
    fn a_bad_element_names_its_index() {
        let s = settings(json!({}));
        let e = submission_items(&s, br#"[{"email": "a@x.io"}, {"email": "nope"}]"#).unwrap_err();
        assert_eq!(e.field, "[1].email");
        let e = submission_items(&s, br#"[{"email": "a@x.io"}, {}]"#).unwrap_err();
        assert_eq!(e.field, "[1]");
        assert!(e.message.contains("no identifier"), "{}", e.message);
        let e = submission_items(&s, b"{").unwrap_err();
        assert_eq!(e.field, "(submission)");
    }

    #[test]
    fn strict_refuses_unknown_fields() {
        let s = settings(json!({"strict": true, "field_mapping": {"first_name": "first_name"}}));
        let e = submission_items(&s, br#"{"email": "a@x.io", "answers": {"colour": "red"}}"#)
            .unwrap_err();
        assert_eq!(e.field, "answers.colour");
        let e = submission_items(&s, br#"{"email": "a@x.io", "utm": "x"}"#).unwrap_err();
        assert_eq!(e.field, "utm");
    }
}
