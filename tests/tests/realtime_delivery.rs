//! The export-realtime component delivering audience events through the host to the
//! emulator: list membership, mapping, and each Cordial failure mode turned into the right
//! outcome (delivered, retry later, dead letter).

use cordial_e2e::harness::Harness;
use cordial_e2e::realtime_job::{FIRST_NAME_AND_AGE, vip};
use cordial_emulator::Fault;
use cordial_host::runtime::Runtime;
use cordial_jobs::job::Outcome;
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use std::time::Duration;

/// A harness and a runtime of `vip`, mapping `first_name` and `age`.
async fn start() -> (Harness, Runtime) {
    let h = Harness::start().await;
    let runtime = h.runtime(&vip(FIRST_NAME_AND_AGE));
    (h, runtime)
}

fn event(id: u64, kind: Membership, user: &str) -> AudienceEvent {
    AudienceEvent {
        event_id: id,
        audience: "vip_customers".into(),
        kind,
        user: user.into(),
        occurred_at: None,
    }
}

fn enter(id: u64, user: &str) -> AudienceEvent {
    event(id, Membership::Enter, user)
}

fn exit(id: u64, user: &str) -> AudienceEvent {
    event(id, Membership::Exit, user)
}

async fn deliver(runtime: &Runtime, events: &[AudienceEvent]) -> Vec<Outcome> {
    let job = runtime.config().job("vip").unwrap().clone();
    runtime.deliver(&job, events).await.unwrap()
}

/// A runtime whose job has delivered `warm` (the user of an enter): the list exists and is
/// remembered, so what a test does next hits the upsert itself.
async fn warmed_up(warm: &str) -> (Harness, Runtime) {
    let (h, runtime) = start().await;
    let outcomes = deliver(&runtime, &[enter(1, warm)]).await;
    assert!(matches!(outcomes[..], [Outcome::Delivered]), "{outcomes:?}");
    (h, runtime)
}

const WARM: &str = r#"{"email":"warm@example.com"}"#;

/// A [`warmed_up`] runtime whose Cordial answers the next request with `fault`.
async fn warmed_up_facing(fault: Fault) -> (Harness, Runtime) {
    let (h, runtime) = warmed_up(WARM).await;
    h.emulator.handle().inject(fault);
    (h, runtime)
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_then_exit_creates_the_contact_and_moves_it_in_and_out_of_the_list() {
    let (h, runtime) = start().await;
    let ann = r#"{"email":"Ann@Example.com","first_name":"Ann","age":"41"}"#;
    let outcomes = deliver(
        &runtime,
        &[enter(1, ann), enter(2, r#"{"email":"bob@example.com"}"#)],
    )
    .await;
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Delivered)),
        "{outcomes:?}"
    );
    assert_eq!(h.lists("ann@example.com"), ["Lytics_vip_customers"]);
    let ann = h.contact("ann@example.com");
    assert_eq!(ann["attributes"]["first_name"], "Ann");
    assert_eq!(
        ann["channels"]["email"]["subscribeStatus"], "none",
        "never subscribed by default"
    );

    let outcomes = deliver(&runtime, &[exit(3, r#"{"email":"ann@example.com"}"#)]).await;
    assert!(matches!(outcomes[..], [Outcome::Delivered]), "{outcomes:?}");
    assert!(h.lists("ann@example.com").is_empty());
    assert_eq!(h.lists("bob@example.com"), ["Lytics_vip_customers"]);
    let created_lists = h
        .emulator
        .handle()
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/accountlists")
        .count();
    assert_eq!(created_lists, 1, "the list is created once and remembered");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_without_a_usable_email_are_dead_lettered_not_retried() {
    let (h, runtime) = start().await;
    let users = [
        r#"{"first_name":"Nobody"}"#,
        r#"{"email":"not-an-email"}"#,
        "[1,2]",
    ];
    let events: Vec<AudienceEvent> = (1..).zip(users).map(|(id, user)| enter(id, user)).collect();
    let outcomes = deliver(&runtime, &events).await;
    let reasons: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            Outcome::DeadLetter { reason, .. } => reason.clone(),
            other => panic!("expected a dead letter, got {other:?}"),
        })
        .collect();
    assert!(reasons[0].contains("no `email` field"), "{reasons:?}");
    assert!(reasons[1].contains("not an email address"), "{reasons:?}");
    assert!(reasons[2].contains("no `email` field"), "{reasons:?}");
    assert_eq!(h.emulator.handle().contact_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_that_cannot_take_its_attribute_type_is_dead_lettered_before_any_call() {
    let (h, runtime) = warmed_up(WARM).await;
    let before = h.emulator.handle().requests().len();
    let forty = r#"{"email":"a@example.com","age":"forty"}"#;
    let outcomes = deliver(&runtime, &[enter(2, forty)]).await;
    match &outcomes[..] {
        [Outcome::DeadLetter { status, reason }] => {
            assert_eq!(*status, None);
            assert_eq!(
                reason,
                "field `age`: `forty` is not a number (Cordial attribute `age` is a number)"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.emulator.handle().requests().len(),
        before,
        "nothing was sent to Cordial"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mapped_values_reach_cordial_in_their_attribute_type() {
    let (h, runtime) = start().await;
    let outcomes = deliver(
        &runtime,
        &[enter(1, r#"{"email":"n@example.com","age":"41"}"#)],
    )
    .await;
    assert!(matches!(outcomes[..], [Outcome::Delivered]), "{outcomes:?}");
    let sent = h
        .emulator
        .handle()
        .requests()
        .into_iter()
        .find(|r| r.path == "/v2/contacts")
        .unwrap();
    assert_eq!(
        sent.body["age"],
        serde_json::json!(41),
        "sent as a number, not the text \"41\""
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_422_is_dead_lettered_with_cordials_status_and_message() {
    let (h, runtime) = warmed_up(r#"{"email":"warm@example.com","age":3}"#).await;
    // The schema changes under the running job: Cordial now refuses the mapped attribute.
    h.delete_attribute("age").await;
    let outcomes = deliver(
        &runtime,
        &[enter(2, r#"{"email":"a@example.com","age":40}"#)],
    )
    .await;
    match &outcomes[..] {
        [Outcome::DeadLetter { status, reason }] => {
            assert_eq!(*status, Some(422));
            assert!(
                reason.contains("key age is not part of the schema"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_asks_to_retry_after_cordials_delay_and_holds_back_the_rest() {
    let limited = Fault::RateLimited {
        retry_after_secs: 7,
        count: 1,
    };
    let (h, runtime) = warmed_up_facing(limited).await;
    let b = r#"{"email":"b@example.com"}"#;
    let outcomes = deliver(&runtime, &[enter(2, b), exit(3, b)]).await;
    match &outcomes[..] {
        [
            Outcome::Retry {
                after: first_after,
                reason: first,
                ..
            },
            Outcome::Retry { reason: second, .. },
        ] => {
            assert_eq!(*first_after, Some(Duration::from_secs(7)));
            assert!(first.contains("429"), "{first}");
            assert!(second.contains("held back"), "{second}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        h.find_contact("b@example.com").is_none(),
        "the exit must not overtake the enter"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_asks_to_retry_and_the_retry_succeeds() {
    let unavailable = Fault::ServerError {
        status: 503,
        count: 1,
    };
    let (h, runtime) = warmed_up_facing(unavailable).await;
    let batch = [enter(2, r#"{"email":"c@example.com"}"#)];
    let outcomes = deliver(&runtime, &batch).await;
    assert!(
        matches!(&outcomes[..], [Outcome::Retry { after: None, reason, .. }] if reason.contains("503")),
        "{outcomes:?}"
    );
    let outcomes = deliver(&runtime, &batch).await;
    assert!(matches!(outcomes[..], [Outcome::Delivered]), "{outcomes:?}");
    assert_eq!(h.lists("c@example.com"), ["Lytics_vip_customers"]);
}
