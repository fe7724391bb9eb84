use super::*;
use serde_json::json;

fn settings(value: Value) -> CaptureSettings {
    crate::settings::typed(crate::settings::JobKind::ExperienceCapture, &value).unwrap()
}

fn types() -> AttributeTypes {
    [
        ("first_name".to_owned(), AttributeType::String),
        ("shoe_size".to_owned(), AttributeType::Number),
        ("quiz_at".to_owned(), AttributeType::Date),
    ]
    .into()
}

fn quiz_settings() -> CaptureSettings {
    settings(json!({
        "auto_subscribe": true,
        "opt_in_mode": "all",
        "opt_in_attribute": "quiz_opt_in",
        "list": "spring_quiz",
        "field_mapping": {"first_name": "first_name", "shoe_size": "shoe_size", "city": "address.city"}
    }))
}

/// Parse, plan and build, as the component does.
fn body_for(s: &CaptureSettings, submission: Value, existing: Existing) -> (Plan, Option<Value>) {
    let sub = parse_for_settings(s, &submission).unwrap();
    let p = plan(s, &sub, existing);
    let contact = contact_for_submission(s, &sub, &types(), &p).unwrap();
    (p, contact.map(|c| c.to_json()))
}

#[test]
fn the_documented_example_is_what_is_sent() {
    let submission = json!({
        "email": "jane@example.com",
        "sms": "+33 6 12 34 56 78",
        "opt_in": true,
        "country": "FR",
        "answers": {"first_name": "Jane", "shoe_size": "38", "style": ["boots"]}
    });
    let (p, body) = body_for(&quiz_settings(), submission.clone(), Existing::NO_CONTACT);
    assert_eq!(p.action(), Action::Subscribed);
    assert_eq!(p.rule(), "R10 subscribe-explicit-opt-in");
    assert_eq!(
        body.unwrap(),
        json!({
            "channels": {
                "email": {"address": "jane@example.com", "subscribeStatus": "subscribed"},
                "sms": {"address": "+33612345678", "subscribeStatus": "subscribed"}
            },
            "first_name": "Jane",
            "shoe_size": 38,
            "quiz_opt_in": "true",
            "spring_quiz": true
        })
    );

    let mut unknown = submission;
    unknown.as_object_mut().unwrap().remove("opt_in");
    let (p, body) = body_for(&quiz_settings(), unknown, Existing::NO_CONTACT);
    assert_eq!(p.action(), Action::Created);
    assert_eq!(p.rule(), "R12 eu-needs-explicit-opt-in");
    assert_eq!(
        body.unwrap(),
        json!({
            "channels": {
                "email": {"address": "jane@example.com"},
                "sms": {"address": "+33612345678"}
            },
            "first_name": "Jane",
            "shoe_size": 38,
            "quiz_opt_in": "unknown",
            "spring_quiz": true
        })
    );
}

#[test]
fn force_subscribe_is_sent_only_to_bring_back_an_unsubscribed_channel() {
    let s = quiz_settings();
    let unsubscribed = Existing {
        email: ExistingStatus::Unsubscribed,
        sms: ExistingStatus::NoContact,
    };
    let (p, body) = body_for(
        &s,
        json!({"email": "a@b.co", "opt_in": "yes", "country": "US"}),
        unsubscribed,
    );
    assert_eq!(p.rule(), "R7 resubscribe-explicit-opt-in");
    let body = body.unwrap();
    assert_eq!(body["forceSubscribe"], json!(true));
    assert_eq!(body["channels"]["email"]["subscribeStatus"], "subscribed");

    let (p, body) = body_for(
        &s,
        json!({"email": "a@b.co", "country": "US"}),
        unsubscribed,
    );
    assert_eq!(p.rule(), "R8 unsubscribed-stays");
    assert_eq!(p.action(), Action::Updated);
    let body = body.unwrap();
    assert!(body.get("forceSubscribe").is_none());
    assert_eq!(body["channels"], json!({"email": {"address": "a@b.co"}}));
    assert_eq!(body["quiz_opt_in"], "unknown");
}

#[test]
fn a_skipped_submission_sends_nothing_but_is_still_checked() {
    let s = settings(json!({
        "opt_in_mode": "opted_in",
        "field_mapping": {"shoe_size": "shoe_size"}
    }));
    let sub =
        parse_for_settings(&s, &json!({"email": "a@b.co", "answers": {"shoe_size": 7}})).unwrap();
    let p = plan(&s, &sub, Existing::NO_CONTACT);
    assert_eq!(p.action(), Action::Skipped);
    assert_eq!(contact_for_submission(&s, &sub, &types(), &p), Ok(None));

    let sub = parse_for_settings(
        &s,
        &json!({"email": "a@b.co", "answers": {"shoe_size": "big"}}),
    )
    .unwrap();
    let p = plan(&s, &sub, Existing::NO_CONTACT);
    let bad = contact_for_submission(&s, &sub, &types(), &p).unwrap_err();
    assert_eq!(bad.field, "answers.shoe_size");
    assert_eq!(
        bad.message,
        "`big` is not a number (it is sent to the Cordial attribute `shoe_size`, a number)"
    );
}

#[test]
fn answers_take_their_attribute_type_and_submission_fields_can_be_mapped() {
    let s = settings(json!({
        "field_mapping": {
            "city": "address.city",
            "experience_id": "last_quiz",
            "timestamp": "quiz_at",
            "country": "country_code",
            "free": "free_text"
        }
    }));
    let sub = parse_for_settings(
        &s,
        &json!({
            "email": "a@b.co",
            "opt_in": true,
            "country": "de",
            "experience_id": "spring",
            "timestamp": "2026-03-01T12:00:00+01:00",
            "answers": {"city": 10115, "free": {"any": "thing"}, "unmapped": 1}
        }),
    )
    .unwrap();
    let attributes = mapped_attributes(&s, &sub, &types()).unwrap();
    assert_eq!(
        Value::Object(attributes),
        json!({
            "address.city": "10115",
            "last_quiz": "spring",
            "quiz_at": "2026-03-01T11:00:00Z",
            "country_code": "DE",
            "free_text": {"any": "thing"}
        })
    );
    let mut targets = typed_targets(&s);
    targets.sort_unstable();
    assert_eq!(
        targets,
        ["country_code", "free_text", "last_quiz", "quiz_at"]
    );
}

#[test]
fn an_sms_only_submission_is_identified_by_its_number() {
    let s = settings(json!({"auto_subscribe": true, "opt_in_mode": "opted_in_or_unknown"}));
    let (p, body) = body_for(
        &s,
        json!({"sms": "+1 555-123-4567", "country": "US"}),
        Existing::NO_CONTACT,
    );
    assert_eq!(p.rule(), "R13 subscribe-implied-opt-in");
    assert_eq!(
        body.unwrap(),
        json!({
            "channels": {"sms": {"address": "+15551234567", "subscribeStatus": "subscribed"}},
            "identifyBy": ["channels.sms.address"]
        })
    );
}

#[test]
fn each_channel_keeps_its_own_status() {
    let s = settings(json!({"auto_subscribe": true, "opt_in_mode": "opted_in"}));
    let (p, body) = body_for(
        &s,
        json!({"email": "a@b.co", "sms": "+15551234567", "opt_in": 1, "eu": true}),
        Existing {
            email: ExistingStatus::Subscribed,
            sms: ExistingStatus::NotSubscribed,
        },
    );
    assert_eq!(p.action(), Action::Subscribed);
    assert_eq!(
        body.unwrap(),
        json!({"channels": {
            "email": {"address": "a@b.co"},
            "sms": {"address": "+15551234567", "subscribeStatus": "subscribed"}
        }})
    );
}

#[test]
fn the_contact_is_looked_up_by_email_else_by_number() {
    let both = parse_submission(
        &json!({"email": "A+b@X.co", "sms": "+15551234567"}),
        false,
        &[],
    )
    .unwrap();
    let r = lookup_request("http://c", &both).unwrap();
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.url, "http://c/v2/contacts/email:a%2Bb@x.co");
    let sms = parse_submission(&json!({"sms": "+15551234567"}), false, &[]).unwrap();
    let r = lookup_request("http://c", &sms).unwrap();
    assert_eq!(
        r.url,
        "http://c/v2/contacts/channels.sms.address:%2B15551234567"
    );
    assert!(r.body.is_none());
    assert_eq!(lookup_request("http://c", &Submission::default()), None);
}

#[test]
fn the_lookup_answer_gives_the_existing_statuses() {
    let response = |status: u16, body: &str| HttpResponse {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    };
    assert_eq!(
        existing_from_response(&response(
            404,
            r#"{"error":true,"message":"record not found"}"#
        )),
        Ok(Existing::NO_CONTACT)
    );
    let found =
        r#"{"_id":"1","channels":{"email":{"address":"a@b.co","subscribeStatus":"unsubscribed"}}}"#;
    assert_eq!(
        existing_from_response(&response(200, found)),
        Ok(Existing {
            email: ExistingStatus::Unsubscribed,
            sms: ExistingStatus::NotSubscribed
        })
    );
    assert!(existing_from_response(&response(200, "<html>")).is_err());
    let err = existing_from_response(&response(503, "{}")).unwrap_err();
    assert!(err.is_retryable());
}

#[test]
fn a_bad_body_is_refused_before_anything_is_looked_up() {
    let s = settings(json!({"strict": true, "field_mapping": {"first_name": "first_name"}}));
    let bad = parse_for_settings(
        &s,
        &json!({"email": "a@b.co", "answers": {"colour": "red"}}),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "answers.colour: unknown attribute (the job is strict and does not map it); mapped attributes: first_name"
    );
}
