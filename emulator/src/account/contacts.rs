//! `/v2/contacts`: upsert, read, update, delete and unsubscribe contacts.

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::account::contact_body::{self, Mode};
use crate::http::answer::{Answer, ok, success};
use crate::http::app::App;
use crate::http::errors::ApiError;
use crate::http::pipeline::ParsedBody;
use crate::http::query::{Page, query};
use crate::model::store::{Contact, SubscribeStatus};
use crate::time;

/// Page size when `per_page` is absent or not a positive number. Cordial
/// documents no default; 25 is the common one across its paged endpoints.
const DEFAULT_PER_PAGE: usize = 25;
/// Largest page served.
const MAX_PER_PAGE: usize = 10_000;

/// `GET /v2/contacts`: a bare array, paged with `page`/`per_page`, no paging headers.
///
/// A filter that matches nothing (`email`, or any `audience-key`, since the
/// emulator has no audiences) is the Swagger's 404 `RECORD_NOT_FOUND`; an
/// unfiltered page past the end is `[]`, so clients paging until a short page stop.
pub async fn index(State(app): State<App>, RawQuery(raw): RawQuery) -> Answer {
    let q = query(raw);
    if q.contains_key("audience-key") {
        return Err(ApiError::record_not_found());
    }
    let store = app.store();
    let email = q.get("email").map(|e| e.trim().to_lowercase());
    let mut found: Vec<&Contact> = store
        .contacts()
        .filter(|c| email.as_ref().is_none_or(|e| &c.email == e))
        .collect();
    if email.is_some() && found.is_empty() {
        return Err(ApiError::record_not_found());
    }
    match q.get("sort_by").map(String::as_str) {
        None | Some("createdAt") => {}
        Some("lastModified") => found.sort_by_key(|c| c.modified),
        Some("email" | "channels.email.address") => found.sort_by(|a, b| a.email.cmp(&b.email)),
        Some("cID" | "_id") => found.sort_by(|a, b| a.cid.cmp(&b.cid)),
        Some(key) => found.sort_by_key(|c| c.attributes.get(key).map(Value::to_string)),
    }
    if q.get("sort_dir")
        .is_some_and(|d| d.eq_ignore_ascii_case("desc"))
    {
        found.reverse();
    }
    let mut page = Page::read(&q, DEFAULT_PER_PAGE);
    page.size = page.size.min(MAX_PER_PAGE);
    let items: Vec<Value> = page.of(found).map(|c| store.render(c)).collect();
    ok(Value::Array(items))
}

/// `POST /v2/contacts`: an upsert keyed on the lower-cased email. 201
/// `contact created` for a new contact, 200 `contact updated` (same cID) for an
/// existing one, as recorded on v1. A body without an email whose `identifyBy`
/// names `channels.sms.address` is keyed on its SMS number instead.
pub async fn create(State(app): State<App>, Extension(body): Extension<ParsedBody>) -> Answer {
    let mut store = app.store();
    let patch = contact_body::parse(&body.0, &store, Mode::Post)?;
    let email = patch.email.clone().unwrap_or_default();
    let existing = match &patch.email {
        Some(email) => store.find_email(email),
        None => patch.sms.as_deref().and_then(|sms| store.find_sms(sms)),
    };
    sms_free(&store, &patch, existing)?;
    let now = time::now();
    if let Some(seq) = existing {
        store.update_contact(seq, |c| patch.apply(c, now));
        let cid = store.contact(seq).map(|c| c.cid.clone());
        return ok(json!({"success": true, "message": "contact updated", "cID": cid}));
    }
    let mut contact = Contact::new(email, now);
    patch.apply(&mut contact, now);
    let cid = contact.cid.clone();
    store.insert_contact(contact);
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "message": "contact created", "cID": cid})),
    ))
}

/// `GET /v2/contacts/{pk}`: the v2 contact shape, or 404 `RECORD_NOT_FOUND`.
pub async fn show(State(app): State<App>, Path(pk): Path<String>) -> Answer {
    let store = app.store();
    let seq = store.find(&pk).ok_or_else(ApiError::record_not_found)?;
    let contact = store.contact(seq).ok_or_else(ApiError::record_not_found)?;
    ok(store.render(contact))
}

/// `PUT /v2/contacts/{pk}`: 200 `{"success":true}` (the v2 Swagger's shape), or
/// 404 `CONTACTS_CONTACT_NOT_FOUND` for a missing contact: PUT never creates.
pub async fn update(
    State(app): State<App>,
    Path(pk): Path<String>,
    Extension(body): Extension<ParsedBody>,
) -> Answer {
    let mut store = app.store();
    let seq = store
        .find(&pk)
        .ok_or_else(ApiError::contact_not_found_for_update)?;
    let patch = contact_body::parse(&body.0, &store, Mode::Put)?;
    if let Some(email) = &patch.email
        && store.find_email(email).is_some_and(|other| other != seq)
    {
        return Err(ApiError::invalid_field(
            "channels.email.address",
            "The channels.email.address has already been taken.",
        ));
    }
    sms_free(&store, &patch, Some(seq))?;
    let now = time::now();
    store.update_contact(seq, |c| patch.apply(c, now));
    success()
}

/// An SMS number belongs to one contact: writing another contact's number is a 422.
fn sms_free(
    store: &crate::model::store::Store,
    patch: &contact_body::ContactPatch,
    contact: Option<u64>,
) -> Result<(), ApiError> {
    match &patch.sms {
        Some(sms)
            if store
                .find_sms(sms)
                .is_some_and(|other| Some(other) != contact) =>
        {
            Err(ApiError::invalid_field(
                contact_body::SMS_FIELD,
                "The channels.sms.address has already been taken.",
            ))
        }
        _ => Ok(()),
    }
}

/// `DELETE /v2/contacts/{pk}`.
pub async fn destroy(State(app): State<App>, Path(pk): Path<String>) -> Answer {
    let mut store = app.store();
    let seq = store.find(&pk).ok_or_else(ApiError::record_not_found)?;
    store.remove_contact(seq);
    success()
}

/// `PUT /v2/contacts/{pk}/unsubscribe/{channel}`: the email channel, or the SMS
/// channel of a contact that has one; `mcID` (query) is accepted and ignored.
pub async fn unsubscribe(
    State(app): State<App>,
    Path((pk, channel)): Path<(String, String)>,
) -> Answer {
    let mut store = app.store();
    let seq = store.find(&pk).ok_or_else(ApiError::record_not_found)?;
    let has_sms = store.contact(seq).is_some_and(|c| c.sms.is_some());
    if channel != "email" && !(channel == "sms" && has_sms) {
        return Err(ApiError::invalid_field(
            "channel",
            "The selected channel is invalid.",
        ));
    }
    let now = time::now();
    store.update_contact(seq, |c| {
        let subscription = match (channel.as_str(), c.sms.as_mut()) {
            ("sms", Some(sms)) => &mut sms.subscription,
            _ => &mut c.subscription,
        };
        subscription.set(SubscribeStatus::Unsubscribed, false, now);
        c.modified = now;
    });
    success()
}
