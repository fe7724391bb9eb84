//! The capture body reader ([`cordial_jobs::intake::submission_items`]): one submission
//! object or an array of them, checked against the job's settings, lax and strict.
//!
//! Promises checked: a refusal names the field at fault, and that field is in the body
//! (under the element's `[i]` for an array); an accepted body gives one item per element,
//! each keyed by the identifier the job's own parse finds again; whatever the strict job
//! accepts, the lax one accepts too, with the same contacts.

use cordial_jobs::capture::parse_for_settings;
use cordial_jobs::intake::{SubmissionItem, submission_items};
use cordial_jobs::settings::{CaptureSettings, JobKind, typed};
use serde_json::{Value, json};
use std::sync::LazyLock;

fn settings(value: Value) -> CaptureSettings {
    typed(JobKind::ExperienceCapture, &value).expect("the target's settings are valid")
}

/// The job's settings, built once (checking them is slower than a run of the target).
static LAX: LazyLock<CaptureSettings> = LazyLock::new(|| settings(json!({})));
static STRICT: LazyLock<CaptureSettings> = LazyLock::new(|| {
    settings(json!({"strict": true, "field_mapping": {"first_name": "first_name"}}))
});

pub fn run(data: &[u8]) {
    let (lax, strict) = (&*LAX, &*STRICT);
    let body = serde_json::from_slice::<Value>(data).ok();
    let lax_items = check(lax, data, body.as_ref());
    if let Some(strict_items) = check(strict, data, body.as_ref()) {
        let contacts = |items: &[SubmissionItem]| -> Vec<String> {
            items.iter().map(|i| i.contact.clone()).collect()
        };
        assert_eq!(
            lax_items.as_deref().map(contacts),
            Some(contacts(&strict_items)),
            "the strict job accepted what the lax one did not"
        );
    }
}

/// Reads `data` with `settings`, checks the answer, and returns the items if accepted.
fn check(
    settings: &CaptureSettings,
    data: &[u8],
    body: Option<&Value>,
) -> Option<Vec<SubmissionItem>> {
    match (submission_items(settings, data), body) {
        (Ok(items), Some(body)) => {
            let elements = body.as_array().map_or(1, Vec::len);
            assert_eq!(items.len(), elements, "one item per element of {body}");
            for item in &items {
                let again = parse_for_settings(settings, &item.body)
                    .expect("an accepted submission parses again");
                assert_eq!(
                    again.email.or(again.sms).as_deref(),
                    Some(item.contact.as_str())
                );
            }
            Some(items)
        }
        (Ok(items), None) => panic!("a body that is not JSON gave {items:?}"),
        (Err(e), None) => {
            // Refused as a whole, or at the element where reading stopped: an array is read
            // one element at a time, and a bad element may come before the broken text.
            assert!(e.field == "(submission)" || e.field.starts_with('['), "{e}");
            None
        }
        (Err(e), Some(body)) => {
            assert!(!e.message.is_empty(), "a refusal without a message");
            assert!(
                field_is_in(body, &e.field),
                "the refusal `{e}` names no field of {body}"
            );
            None
        }
    }
}

/// Whether a refusal's `field` is in the body: `(submission)` for the body as a whole,
/// `[i]` or `[i].<field>` for an element of an array, else a top-level key or
/// `answers.<key>` of the submission.
fn field_is_in(body: &Value, field: &str) -> bool {
    if let Value::Array(elements) = body {
        let Some((index, rest)) = field
            .strip_prefix('[')
            .and_then(|f| f.split_once(']'))
            .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)))
        else {
            return false;
        };
        let Some(element) = elements.get(index) else {
            return false;
        };
        return match rest {
            "" => true,
            rest => rest
                .strip_prefix('.')
                .is_some_and(|f| f != "(submission)" && field_in_submission(element, f)),
        };
    }
    field == "(submission)" || field_in_submission(body, field)
}

fn field_in_submission(submission: &Value, field: &str) -> bool {
    let Some(object) = submission.as_object() else {
        return false;
    };
    object.contains_key(field)
        || field.strip_prefix("answers.").is_some_and(|key| {
            object
                .get("answers")
                .and_then(Value::as_object)
                .is_some_and(|answers| answers.contains_key(key))
        })
}
