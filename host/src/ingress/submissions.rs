//! A `POST /capture/<job>` body as queue items (read and checked by
//! [`cordial_jobs::intake::submission_items`]).

use crate::db::NewItem;
use crate::queue::submission;
use cordial_jobs::capture::BadSubmission;
use cordial_jobs::intake;
use cordial_jobs::settings::CaptureSettings;

/// Every submission of the body as a queue item keyed by its contact; or the first problem.
pub fn parse_body(settings: &CaptureSettings, bytes: &[u8]) -> Result<Vec<NewItem>, BadSubmission> {
    Ok(intake::submission_items(settings, bytes)?
        .into_iter()
        .map(|s| submission::item(s.contact, s.body.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn each_submission_is_an_item_keyed_by_its_contact_with_the_body_as_sent() {
        let settings = cordial_jobs::settings::typed(
            cordial_jobs::settings::JobKind::ExperienceCapture,
            &json!({}),
        )
        .unwrap();
        let items = parse_body(
            &settings,
            br#"[{"email": "A@x.io"}, {"sms": "+1 (555) 123-4567", "country": "US"}]"#,
        )
        .unwrap();
        assert_eq!(items[0].key, "a@x.io");
        assert_eq!(items[1].key, "+15551234567");
        let body: Value = serde_json::from_str(&items[1].item).unwrap();
        assert_eq!(body["sms"], "+1 (555) 123-4567");
        assert!(parse_body(&settings, b"{").is_err());
    }
}
