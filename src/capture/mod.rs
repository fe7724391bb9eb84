//! Experience capture: quiz and form submissions → Cordial contacts, created, updated or
//! subscribed under the customer's region and opt-in policy. `docs/capture.md` is the
//! specification (submission format, EU list, settings, decision table).
//!
//! The flow for one submission, the same in the component and in the host:
//!
//! 1. [`parse_for_settings`] (or [`parse_submission_text`]): a [`Submission`], or a
//!    [`BadSubmission`] to answer with 400.
//! 2. [`lookup_request`], sent as is; [`existing_from_response`] reads what Cordial has.
//! 3. [`plan`]: one [`Decision`] per channel, with its rule id for the audit.
//! 4. [`contact_for_submission`]: the [`ContactUpsert`] to `POST /v2/contacts`, or `None`
//!    when every channel is skipped.
//!
//! [`job::submit`] is that flow for a whole batch, over the ports.

pub mod decision;
pub mod job;
pub mod region;
pub mod submission;

pub use decision::{
    Action, Channel, Decision, Existing, ExistingStatus, Plan, Policy, UnknownRegion, decide, plan,
    rules,
};
pub use region::{EU_COUNTRIES, Region, is_eu_country, region_of};
pub use submission::{
    BadSubmission, SUBMISSION_FIELDS, Submission, normalise_phone, parse_submission,
    parse_submission_text,
};

use crate::cordial::{
    AttributeType, ContactUpsert, CordialError, HttpRequest, HttpResponse, Method, SmsChannel,
    SubscribeStatus, coerce, requests,
};
use crate::realtime::AttributeTypes;
use crate::settings::CaptureSettings;
use serde_json::{Map, Value};

/// The submission fields a mapping source may name when no answer has that name.
pub const MAPPABLE_SUBMISSION_FIELDS: &[&str] = &["experience_id", "timestamp", "country"];

/// [`parse_submission`] with the job's `strict` setting and mapped attributes.
pub fn parse_for_settings(
    settings: &CaptureSettings,
    value: &Value,
) -> Result<Submission, BadSubmission> {
    let known: Vec<&str> = settings.field_mapping.keys().map(String::as_str).collect();
    parse_submission(value, settings.strict, &known)
}

/// The Cordial attributes whose types the mapping needs.
pub fn typed_targets(settings: &CaptureSettings) -> Vec<&str> {
    crate::cordial::typed_targets(&settings.field_mapping)
}

/// The request that finds the submission's contact: by email when it has one, else by SMS
/// number (`GET /v2/contacts/channels.sms.address:%2B15551234567`).
pub fn lookup_request(base: &str, submission: &Submission) -> Option<HttpRequest> {
    if let Some(email) = &submission.email {
        return Some(requests::get_contact_by_email(base, email));
    }
    let sms = submission.sms.as_ref()?;
    Some(HttpRequest {
        method: Method::Get,
        url: format!(
            "{base}/v2/contacts/channels.sms.address:{}",
            sms.replace('+', "%2B")
        ),
        headers: vec![("accept".to_owned(), "application/json".to_owned())],
        body: None,
    })
}

/// What Cordial's answer to [`lookup_request`] says about each channel: a 404 is no
/// contact, a 2xx is read by [`Existing::from_contact`], anything else is Cordial's error.
pub fn existing_from_response(response: &HttpResponse) -> Result<Existing, CordialError> {
    match response.status {
        404 => Ok(Existing::NO_CONTACT),
        200..=299 => {
            let contact: Value = serde_json::from_slice(&response.body).map_err(|e| {
                CordialError::UnexpectedBody {
                    status: response.status,
                    message: format!("not JSON: {e}"),
                }
            })?;
            Ok(Existing::from_contact(Some(&contact)))
        }
        _ => Err(CordialError::from_response(response)),
    }
}

/// The value written to `opt_in_attribute`: `"true"`, `"false"` or `"unknown"`.
pub fn opt_in_status_value(opt_in: Option<bool>) -> &'static str {
    match opt_in {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
}

/// The mapped attributes of `submission`, each converted to its Cordial type when `types`
/// knows it (a geo sub-field such as `address.city` is text), plus the opt-in status when
/// `opt_in_attribute` is set. A value that cannot be converted refuses the submission.
pub fn mapped_attributes(
    settings: &CaptureSettings,
    submission: &Submission,
    types: &AttributeTypes,
) -> Result<Map<String, Value>, BadSubmission> {
    let mut attributes = Map::new();
    for (source, target) in &settings.field_mapping {
        let Some((field, value)) = source_value(submission, source) else {
            continue;
        };
        let kind = match target.split_once('.') {
            Some(_) => Some(AttributeType::String),
            None => types.get(target).copied(),
        };
        let value = match kind {
            None => value,
            Some(kind) => coerce(&value, kind).map_err(|why| {
                BadSubmission::new(
                    field,
                    format!(
                        "{why} (it is sent to the Cordial attribute `{target}`, a {})",
                        kind.as_str()
                    ),
                )
            })?,
        };
        attributes.insert(target.clone(), value);
    }
    if let Some(attribute) = &settings.opt_in_attribute {
        attributes.insert(
            attribute.clone(),
            opt_in_status_value(submission.opt_in).into(),
        );
    }
    Ok(attributes)
}

/// The answer named `source`, else the submission's own field of that name; with the path
/// to name in an error.
fn source_value(submission: &Submission, source: &str) -> Option<(String, Value)> {
    if let Some(value) = submission.answers.get(source) {
        return Some((format!("answers.{source}"), value.clone()));
    }
    let own = match source {
        "experience_id" => submission.experience_id.clone(),
        "timestamp" => submission.timestamp.clone(),
        "country" => submission.country.clone(),
        _ => None,
    };
    own.map(|v| (source.to_owned(), Value::String(v)))
}

/// The upsert for `submission` under `plan`: each channel that is not skipped with its
/// identifier and, when its decision subscribes, `subscribeStatus: subscribed`;
/// `forceSubscribe` when a decision asks for it; the mapped attributes; the job's list.
/// `Ok(None)` when every channel is skipped. The attributes are converted first, so a bad
/// value refuses the submission even when nothing would be sent.
pub fn contact_for_submission(
    settings: &CaptureSettings,
    submission: &Submission,
    types: &AttributeTypes,
    plan: &Plan,
) -> Result<Option<ContactUpsert>, BadSubmission> {
    let attributes = mapped_attributes(settings, submission, types)?;
    if plan.is_skipped() {
        return Ok(None);
    }
    let status = |channel| {
        plan.decision(channel)
            .filter(|d| d.subscribe)
            .map(|_| SubscribeStatus::Subscribed)
    };
    let mut contact = ContactUpsert {
        attributes,
        force_subscribe: plan.force_subscribe(),
        ..ContactUpsert::default()
    };
    if plan.sends(Channel::Email)
        && let Some(email) = &submission.email
    {
        contact.email = email.clone();
        contact.subscribe_status = status(Channel::Email);
    }
    if plan.sends(Channel::Sms)
        && let Some(sms) = &submission.sms
    {
        contact.sms = Some(SmsChannel {
            address: sms.clone(),
            subscribe_status: status(Channel::Sms),
        });
        if contact.email.is_empty() {
            contact.identify_by = vec!["channels.sms.address".into()];
        }
    }
    if let Some(list) = &settings.list {
        contact.lists.push((list.clone(), true));
    }
    Ok(Some(contact))
}

#[cfg(test)]
mod tests;
