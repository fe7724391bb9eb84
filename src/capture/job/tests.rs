use super::*;
use crate::cordial::{HttpRequest, HttpResponse, Method};
use crate::ports::fakes::{FakeCordial, MemoryConfig, MemoryKeyValue, RecordingLog, json_response};
use crate::testing::{call, calls, no_such_endpoint, rate_limited, route, upserted, upserts};
use serde_json::{Value, json};
use std::time::Duration;

/// Subscribes on an explicit opt-in, sends everyone else with their opt-in status.
fn quiz_settings() -> Value {
    json!({
        "auto_subscribe": true,
        "opt_in_mode": "all",
        "opt_in_attribute": "quiz_opt_in",
        "list": "spring_quiz",
        "field_mapping": {"first_name": "first_name", "shoe_size": "shoe_size"}
    })
}

/// Cordial as the capture job sees it: the attributes `first_name` and `quiz_opt_in` (text)
/// and `shoe_size` (number), the list `spring_quiz`, and the contacts `known` (email and
/// the contact as Cordial returns it). Each upsert is answered by `upsert`, given the
/// how-manieth upsert it is (1 for the first).
fn cordial(
    known: Vec<(&'static str, Value)>,
    mut upsert: impl FnMut(usize) -> HttpResponse,
) -> FakeCordial<impl FnMut(&HttpRequest) -> HttpResponse> {
    let mut upserts = 0;
    FakeCordial::new(move |r: &HttpRequest| match route(r) {
        (Method::Get, "/v2/accountcontactattributes") => json_response(
            200,
            json!([
                {"key": "first_name", "type": "string"},
                {"key": "shoe_size", "type": "number"},
                {"key": "quiz_opt_in", "type": "string"}
            ]),
        ),
        (Method::Get, "/v2/accountlists") => {
            json_response(200, json!([{"id": 1, "name": "spring_quiz"}]))
        }
        (Method::Post, "/v2/contacts") => {
            upserts += 1;
            upsert(upserts)
        }
        (Method::Get, p) if p.starts_with("/v2/contacts/email:") => {
            let email = &p["/v2/contacts/email:".len()..];
            match known.iter().find(|(k, _)| *k == email) {
                Some((_, contact)) => json_response(200, contact.clone()),
                None => json_response(404, json!({"error": true, "message": "record not found"})),
            }
        }
        _ => no_such_endpoint(),
    })
}

/// Upserts answered `answer` the `nth` time, and accepted every other time.
fn refusing_the(nth: usize, answer: HttpResponse) -> impl FnMut(usize) -> HttpResponse {
    move |n| if n == nth { answer.clone() } else { upserted() }
}

/// Submissions from `emails`, each opting in, from the US.
fn opted_in(emails: &[&str]) -> Vec<Submission> {
    let bodies: Vec<Value> = emails
        .iter()
        .map(|email| json!({"email": email, "opt_in": true, "country": "US"}))
        .collect();
    submissions(&bodies)
}

/// Submissions `s1`, `s2`, … with these bodies.
fn submissions(bodies: &[Value]) -> Vec<Submission> {
    (1..)
        .zip(bodies)
        .map(|(n, body)| Submission {
            id: format!("s{n}"),
            body: body.to_string(),
        })
        .collect()
}

/// `submit` with `settings` and a fresh state; the results and the log.
fn submit_with(
    http: &mut dyn crate::cordial::HttpTransport,
    settings: Value,
    batch: &[Submission],
) -> (Vec<CaptureResult>, RecordingLog) {
    let mut state = MemoryKeyValue::default();
    let mut config = MemoryConfig::from_json(&settings);
    call("spring-quiz", http, &mut state, &mut config, |env| {
        submit(env, batch)
    })
}

fn result(outcome: Outcome, rule: &str, action: &str) -> CaptureResult {
    CaptureResult {
        outcome,
        rule: rule.into(),
        action: action.into(),
    }
}

#[test]
fn a_new_contact_who_opted_in_is_looked_up_then_created_subscribed_on_the_list() {
    let mut http = cordial(vec![], |_| upserted());
    let (results, log) = submit_with(
        &mut http,
        quiz_settings(),
        &submissions(&[json!({
            "email": "Jane@Example.com",
            "opt_in": true,
            "country": "FR",
            "answers": {"first_name": "Jane", "shoe_size": "38"}
        })]),
    );
    assert_eq!(
        results,
        [result(
            Outcome::Delivered,
            "R10 subscribe-explicit-opt-in",
            "subscribed"
        )]
    );
    assert_eq!(
        calls(&http),
        "GET /v2/accountcontactattributes, GET /v2/accountlists, \
         GET /v2/contacts/email:jane@example.com, POST /v2/contacts"
    );
    assert_eq!(
        upserts(&http),
        [json!({
            "channels": {"email": {"address": "jane@example.com", "subscribeStatus": "subscribed"}},
            "first_name": "Jane",
            "shoe_size": 38,
            "quiz_opt_in": "true",
            "spring_quiz": true
        })]
    );
    assert!(
        log.0.iter().any(|(level, line)| *level == Level::Debug
            && line.starts_with("s1: R10 subscribe-explicit-opt-in (")),
        "{:?}",
        log.0
    );
}

#[test]
fn an_unsubscribed_contact_stays_unsubscribed_without_an_opt_in() {
    let unsubscribed = json!({
        "_id": "1",
        "channels": {"email": {"address": "a@b.co", "subscribeStatus": "unsubscribed"}}
    });
    let mut http = cordial(vec![("a@b.co", unsubscribed)], |_| upserted());
    let (results, _) = submit_with(
        &mut http,
        quiz_settings(),
        &submissions(&[json!({"email": "a@b.co", "country": "US"})]),
    );
    assert_eq!(
        results,
        [result(
            Outcome::Delivered,
            "R8 unsubscribed-stays",
            "updated"
        )]
    );
    assert_eq!(
        upserts(&http),
        [json!({
            "channels": {"email": {"address": "a@b.co"}},
            "quiz_opt_in": "unknown",
            "spring_quiz": true
        })]
    );
}

#[test]
fn a_skipped_submission_is_delivered_without_an_upsert() {
    let mut http = cordial(vec![], |_| upserted());
    let (results, _) = submit_with(
        &mut http,
        json!({"opt_in_mode": "opted_in"}),
        &submissions(&[json!({"email": "a@b.co", "country": "US"})]),
    );
    assert_eq!(
        results,
        [result(Outcome::Delivered, "R3 not-opted-in", "skipped")]
    );
    assert_eq!(
        calls(&http),
        "GET /v2/contacts/email:a@b.co",
        "no mapped attributes, no list, nothing upserted"
    );
}

#[test]
fn a_rate_limit_holds_back_the_rest_of_the_batch_unsent() {
    let mut http = cordial(vec![], refusing_the(2, rate_limited("4")));
    let batch = opted_in(&["a@b.co", "b@b.co", "c@b.co"]);
    let (results, _) = submit_with(&mut http, quiz_settings(), &batch);
    assert_eq!(results[0].outcome, Outcome::Delivered);
    assert!(
        matches!(&results[1].outcome, Outcome::Retry { after: Some(d), attempted: true, .. }
            if *d == Duration::from_secs(4)),
        "{:?}",
        results[1]
    );
    assert_eq!(results[1].rule, "R10 subscribe-explicit-opt-in");
    assert!(
        matches!(
            &results[2].outcome,
            Outcome::Retry {
                after: None,
                attempted: false,
                ..
            }
        ),
        "{:?}",
        results[2]
    );
    assert_eq!(
        (results[2].rule.as_str(), results[2].action.as_str()),
        ("not-decided", "skipped")
    );
    assert!(
        !http.requests.iter().any(|r| r.url.contains("c@b.co")),
        "the held-back submission is not even looked up"
    );
}

#[test]
fn a_refused_upsert_is_dead_lettered_with_cordials_status_and_the_batch_goes_on() {
    let invalid = json_response(422, json!({"error": true, "message": "invalid attribute"}));
    let mut http = cordial(vec![], refusing_the(1, invalid));
    let batch = opted_in(&["a@b.co", "b@b.co"]);
    let (results, _) = submit_with(&mut http, quiz_settings(), &batch);
    assert!(
        matches!(&results[0].outcome, Outcome::DeadLetter { status: Some(422), reason }
            if reason.contains("invalid attribute")),
        "{:?}",
        results[0]
    );
    assert_eq!(results[0].action, "subscribed", "the decision is kept");
    assert_eq!(results[1].outcome, Outcome::Delivered);
}

#[test]
fn an_unreadable_submission_is_dead_lettered_not_decided_and_unsent() {
    let mut http = cordial(vec![], |_| upserted());
    let mut batch = submissions(&[json!({"email": "a@b.co", "opt_in": true})]);
    batch.insert(
        0,
        Submission {
            id: "s0".into(),
            body: "{not json".into(),
        },
    );
    let (results, _) = submit_with(&mut http, quiz_settings(), &batch);
    assert!(
        matches!(&results[0].outcome, Outcome::DeadLetter { status: None, reason }
            if reason.starts_with("bad submission: (submission): not JSON")),
        "{:?}",
        results[0]
    );
    assert_eq!(
        (results[0].rule.as_str(), results[0].action.as_str()),
        ("not-decided", "skipped")
    );
    assert_eq!(
        results[1].outcome,
        Outcome::Delivered,
        "a dead letter holds nothing back"
    );
    assert_eq!(upserts(&http).len(), 1);
}

#[test]
fn when_cordial_cannot_be_asked_every_submission_shares_the_failure() {
    let mut http = FakeCordial::new(|_: &HttpRequest| {
        json_response(503, json!({"error": "an error has occurred"}))
    });
    let (results, _) = submit_with(
        &mut http,
        quiz_settings(),
        &submissions(&[json!({"email": "a@b.co"}), json!({"email": "b@b.co"})]),
    );
    for r in &results {
        assert!(
            matches!(&r.outcome, Outcome::Retry { attempted: true, reason, .. } if reason.contains("503")),
            "{r:?}"
        );
        assert_eq!(r.rule, "not-decided");
    }
    assert_eq!(results.len(), 2);
    assert_eq!(http.requests.len(), 1, "the attribute lookup, nothing more");
}
