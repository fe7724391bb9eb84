use super::*;
use crate::cordial::{HttpRequest, HttpResponse, HttpTransport, Method};
use crate::ports::Config;
use crate::ports::fakes::{FakeCordial, MemoryConfig, MemoryKeyValue, json_response};
use crate::testing::{
    STARTED_AT, call, calls, email_of, no_such_endpoint, rate_limited, route, upserted, upserts,
};
use Membership::{Change, Enter, Exit};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// The contacts the events are about.
const A: &str = "a@x.co";
const B: &str = "b@x.co";
const C: &str = "c@x.co";

fn settings() -> Value {
    json!({"audience": "vip", "field_mapping": {"first_name": "fname", "age": "age"}})
}

/// Cordial as the export sees it: an account with the lists `lists` and the attributes
/// `fname` (text) and `age` (number). Each upsert is answered by `upsert`, given the
/// contact's email and the how-manieth upsert of that contact it is (1 for the first).
fn cordial(
    lists: &[&str],
    mut upsert: impl FnMut(&str, usize) -> HttpResponse,
) -> FakeCordial<impl FnMut(&HttpRequest) -> HttpResponse> {
    let mut lists: Vec<String> = lists.iter().map(|l| l.to_string()).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    FakeCordial::new(move |r: &HttpRequest| match route(r) {
        (Method::Get, "/v2/accountlists") => {
            let named: Vec<Value> = (1..)
                .zip(&lists)
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            json_response(200, named.into())
        }
        (Method::Post, "/v2/accountlists") => {
            lists.push(r.json_body().unwrap()["name"].as_str().unwrap().to_owned());
            json_response(201, json!({"id": lists.len()}))
        }
        (Method::Get, "/v2/accountcontactattributes") => json_response(
            200,
            json!([{"key": "fname", "type": "string"}, {"key": "age", "type": "number"}]),
        ),
        (Method::Post, "/v2/contacts") => {
            let n = seen.entry(email_of(r)).or_default();
            *n += 1;
            upsert(&email_of(r), *n)
        }
        _ => no_such_endpoint(),
    })
}

/// Upserts answered `answer` for `email`, and accepted for everyone else.
fn refusing(email: &'static str, answer: HttpResponse) -> impl FnMut(&str, usize) -> HttpResponse {
    move |upserting, _| {
        if upserting == email {
            answer.clone()
        } else {
            upserted()
        }
    }
}

/// Events numbered from 1, each with the user `{"email": …, "first_name": "Beth", "age": "41"}`.
fn events(of: &[(Membership, &str)]) -> Vec<AudienceEvent> {
    (1..)
        .zip(of)
        .map(|(event_id, &(kind, email))| AudienceEvent {
            event_id,
            audience: "vip".into(),
            kind,
            user: json!({"email": email, "first_name": "Beth", "age": "41"}).to_string(),
            occurred_at: None,
        })
        .collect()
}

fn deliver_with(
    http: &mut dyn HttpTransport,
    state: &mut MemoryKeyValue,
    config: &mut dyn Config,
    events: &[AudienceEvent],
) -> Vec<Outcome> {
    call("vip-realtime", http, state, config, |env| {
        deliver(env, events)
    })
    .0
}

/// `deliver` with the default settings and a fresh state.
fn run(http: &mut dyn HttpTransport, events: &[AudienceEvent]) -> Vec<Outcome> {
    run_with(http, settings(), events)
}

/// `deliver` with `settings` and a fresh state.
fn run_with(
    http: &mut dyn HttpTransport,
    settings: Value,
    events: &[AudienceEvent],
) -> Vec<Outcome> {
    let mut config = MemoryConfig::from_json(&settings);
    deliver_with(http, &mut MemoryKeyValue::default(), &mut config, events)
}

fn retry(after: Option<u64>, attempted: bool) -> impl Fn(&Outcome) -> bool {
    move |o| {
        matches!(o, Outcome::Retry { after: a, attempted: t, .. }
            if *a == after.map(Duration::from_secs) && *t == attempted)
    }
}

#[test]
fn enter_exit_and_change_upsert_the_contact_and_set_only_their_list_flag() {
    let mut http = cordial(&[], |_, _| upserted());
    let outcomes = run(&mut http, &events(&[(Enter, A), (Exit, B), (Change, C)]));
    assert_eq!(outcomes, vec![Outcome::Delivered; 3]);
    let contact = |email: &str| json!({"email": {"address": email}});
    assert_eq!(
        upserts(&http),
        [
            json!({"channels": contact("a@x.co"), "fname": "Beth", "age": 41, "Lytics_vip": true}),
            json!({"channels": contact("b@x.co"), "fname": "Beth", "age": 41, "Lytics_vip": false}),
            json!({"channels": contact("c@x.co"), "fname": "Beth", "age": 41}),
        ]
    );
}

#[test]
fn each_contacts_events_go_out_in_order_one_round_at_a_time() {
    let mut http = cordial(&[], |_, _| upserted());
    let outcomes = run(
        &mut http,
        &events(&[(Enter, A), (Enter, B), (Exit, A), (Change, A)]),
    );
    assert_eq!(outcomes, vec![Outcome::Delivered; 4]);
    let sent: Vec<(String, Value)> = upserts(&http)
        .into_iter()
        .map(|body| {
            let email = body["channels"]["email"]["address"].as_str().unwrap();
            (email.to_owned(), body["Lytics_vip"].clone())
        })
        .collect();
    let sent: Vec<(&str, &Value)> = sent.iter().map(|(e, f)| (e.as_str(), f)).collect();
    assert_eq!(
        sent,
        [
            ("a@x.co", &json!(true)),
            ("b@x.co", &json!(true)),
            ("a@x.co", &json!(false)),
            ("a@x.co", &Value::Null),
        ]
    );
}

#[test]
fn a_rate_limit_retries_every_remaining_event_after_cordials_delay() {
    let mut http = cordial(&[], refusing(B, rate_limited("7")));
    let outcomes = run(
        &mut http,
        &events(&[(Enter, A), (Enter, B), (Exit, A), (Enter, C), (Exit, B)]),
    );
    assert_eq!(outcomes[0], Outcome::Delivered);
    assert!(retry(Some(7), true)(&outcomes[1]), "{:?}", outcomes[1]);
    assert!(retry(Some(7), false)(&outcomes[2]), "{:?}", outcomes[2]);
    assert_eq!(outcomes[3], Outcome::Delivered, "c was in the first round");
    assert!(retry(Some(7), false)(&outcomes[4]), "{:?}", outcomes[4]);
    assert_eq!(upserts(&http).len(), 3, "nothing is sent after the 429");
}

#[test]
fn a_server_error_retries_the_event_and_holds_back_only_that_contact() {
    let unavailable = json_response(503, json!({"error": "an error has occurred"}));
    let mut http = cordial(&[], refusing(A, unavailable));
    let outcomes = run(
        &mut http,
        &events(&[(Enter, A), (Enter, B), (Exit, A), (Exit, B)]),
    );
    assert!(retry(None, true)(&outcomes[0]), "{:?}", outcomes[0]);
    assert!(
        matches!(&outcomes[2], Outcome::Retry { attempted: false, reason, .. } if reason.contains("503")),
        "{:?}",
        outcomes[2]
    );
    assert_eq!(outcomes[1], Outcome::Delivered);
    assert_eq!(outcomes[3], Outcome::Delivered);
    assert_eq!(upserts(&http).len(), 3);
}

#[test]
fn a_refused_upsert_is_dead_lettered_with_cordials_status_and_the_contact_goes_on() {
    let mut http = cordial(&[], |_, n| {
        if n == 1 {
            json_response(
                422,
                json!({"error": true, "messages": {"validationErrors": {"fname": ["too long"]}}}),
            )
        } else {
            upserted()
        }
    });
    let outcomes = run(&mut http, &events(&[(Enter, A), (Exit, A)]));
    assert!(
        matches!(&outcomes[0], Outcome::DeadLetter { status: Some(422), reason } if reason.contains("fname: too long")),
        "{:?}",
        outcomes[0]
    );
    assert_eq!(outcomes[1], Outcome::Delivered);
}

#[test]
fn an_event_without_a_usable_user_is_dead_lettered_unsent() {
    let mut http = cordial(&[], |_, _| upserted());
    let mut batch = events(&[(Enter, A), (Enter, ""), (Enter, C)]);
    batch[2].user = "{not json".into();
    let outcomes = run(&mut http, &batch);
    assert_eq!(outcomes[0], Outcome::Delivered);
    assert!(
        matches!(&outcomes[1], Outcome::DeadLetter { status: None, reason } if reason.contains("no `email` field")),
        "{:?}",
        outcomes[1]
    );
    assert!(
        matches!(&outcomes[2], Outcome::DeadLetter { status: None, reason } if reason.starts_with("the user is not a JSON object")),
        "{:?}",
        outcomes[2]
    );
    assert_eq!(upserts(&http).len(), 1);
}

#[test]
fn the_list_is_created_once_and_remembered_with_the_attribute_types() {
    let mut http = cordial(&["other"], |_, _| upserted());
    let mut state = MemoryKeyValue::default();
    let mut config = MemoryConfig::from_json(&settings());
    let batch = events(&[(Enter, A)]);
    for _ in 0..2 {
        let outcomes = deliver_with(&mut http, &mut state, &mut config, &batch);
        assert_eq!(outcomes, [Outcome::Delivered]);
    }
    assert_eq!(
        calls(&http),
        "GET /v2/accountlists, POST /v2/accountlists, GET /v2/accountcontactattributes, \
         POST /v2/contacts, POST /v2/contacts"
    );
    assert_eq!(
        http.requests[1].json_body().unwrap()["name"],
        "Lytics_vip",
        "the automatic list"
    );
    let cached: Value =
        serde_json::from_slice(&state.entries[super::super::attribute_cache::KEY]).unwrap();
    assert_eq!(
        cached["fetched_at"], STARTED_AT,
        "types are cached as of the call's start"
    );
}

#[test]
fn a_configured_list_is_used_as_it_is() {
    let mut http = cordial(&["spring"], |_, _| upserted());
    let spring = json!({"audience": "vip", "list": "spring"});
    let outcomes = run_with(&mut http, spring, &events(&[(Enter, A)]));
    assert_eq!(outcomes, [Outcome::Delivered]);
    assert!(
        !http
            .requests
            .iter()
            .any(|r| r.method == Method::Post && r.url.ends_with("/v2/accountlists"))
    );
    assert_eq!(upserts(&http)[0]["spring"], true);
}

#[test]
fn when_the_list_cannot_be_made_sure_of_every_event_shares_the_failure() {
    let mut http = FakeCordial::new(|_: &HttpRequest| rate_limited("30"));
    let outcomes = run(&mut http, &events(&[(Enter, A), (Exit, B)]));
    assert!(outcomes.iter().all(retry(Some(30), true)), "{outcomes:?}");
    assert_eq!(http.requests.len(), 1);
}

#[test]
fn unusable_settings_dead_letter_every_event_unsent() {
    let mut http = cordial(&[], |_, _| upserted());
    let no_audience = json!({"list": "spring"});
    let outcomes = run_with(&mut http, no_audience, &events(&[(Enter, A), (Exit, B)]));
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Outcome::DeadLetter { status: None, reason }
                if reason.starts_with("unusable job settings: ") && reason.contains("audience")),
            "{outcome:?}"
        );
    }
    assert_eq!(outcomes.len(), 2);
    assert!(http.requests.is_empty());
}
