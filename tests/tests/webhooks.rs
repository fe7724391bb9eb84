//! The real-time export end to end: platform webhooks posted to `cordial-host serve`,
//! committed to the queue, delivered by the real component to the emulator.

#[path = "support/harness.rs"]
mod harness;
#[path = "support/rate_limits.rs"]
mod rate_limits;
#[path = "support/serving.rs"]
mod serving;

use cordial_emulator::Fault;
use harness::Harness;
use serving::{Serving, cloud_event, default_payload};
use std::time::Duration;

const JOB: &str = r#"
[[job]]
name = "vip"
kind = "export-realtime"
auth = "cordial"
audience = "vip_customers"
[job.field_mapping]
first_name = "first_name"
age = "age"
[job.delivery]
concurrency = 4
batch_size = 20
max_attempts = 3
"#;

const DRAIN: Duration = Duration::from_secs(30);

async fn post(url: &str, body: String) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

fn lists(h: &Harness, email: &str) -> Vec<String> {
    let c = h
        .emulator
        .handle()
        .contact(&format!("email:{email}"))
        .unwrap_or_else(|| panic!("{email} missing"));
    serde_json::from_value(c["lists"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_change_and_exit_in_the_default_format() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    let (status, body) = post(
        &s.hook("vip"),
        default_payload(
            1,
            "ann@example.com",
            "enter",
            "vip_customers",
            r#","first_name":"Ann""#,
        ),
    )
    .await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (202, Some(1)),
        "{body}"
    );
    s.drained("vip", DRAIN).await;
    assert_eq!(lists(&h, "ann@example.com"), ["Lytics_vip_customers"]);

    post(
        &s.hook("vip"),
        default_payload(
            2,
            "ann@example.com",
            "change",
            "vip_customers",
            r#","first_name":"Annie""#,
        ),
    )
    .await;
    s.drained("vip", DRAIN).await;
    let ann = h
        .emulator
        .handle()
        .contact("email:ann@example.com")
        .unwrap();
    assert_eq!(ann["attributes"]["first_name"], "Annie");
    assert_eq!(
        lists(&h, "ann@example.com"),
        ["Lytics_vip_customers"],
        "a change leaves membership alone"
    );

    post(
        &s.hook("vip"),
        default_payload(3, "ann@example.com", "exit", "vip_customers", ""),
    )
    .await;
    s.drained("vip", DRAIN).await;
    assert!(lists(&h, "ann@example.com").is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_change_and_exit_as_single_cloudevents_and_in_a_batch() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    let hook = s.hook("vip");
    post(
        &hook,
        cloud_event(
            1,
            "ce@example.com",
            "enter",
            "vip_customers",
            r#","first_name":"Cee""#,
        ),
    )
    .await;
    s.drained("vip", DRAIN).await;
    assert_eq!(lists(&h, "ce@example.com"), ["Lytics_vip_customers"]);
    post(
        &hook,
        cloud_event(
            2,
            "ce@example.com",
            "change",
            "vip_customers",
            r#","first_name":"Cecily""#,
        ),
    )
    .await;
    s.drained("vip", DRAIN).await;
    let c = h.emulator.handle().contact("email:ce@example.com").unwrap();
    assert_eq!(c["attributes"]["first_name"], "Cecily");
    assert_eq!(lists(&h, "ce@example.com"), ["Lytics_vip_customers"]);
    post(
        &hook,
        cloud_event(3, "ce@example.com", "exit", "vip_customers", ""),
    )
    .await;
    s.drained("vip", DRAIN).await;
    assert!(lists(&h, "ce@example.com").is_empty());

    // The same three as one batch, for another contact: a change between enter and exit.
    let batch = [
        default_payload(
            4,
            "bat@example.com",
            "enter",
            "vip_customers",
            r#","first_name":"B""#,
        ),
        cloud_event(
            5,
            "bat@example.com",
            "change",
            "vip_customers",
            r#","first_name":"Bat""#,
        ),
        default_payload(6, "bat@example.com", "exit", "vip_customers", ""),
    ];
    let (status, body) = post(&hook, format!("[{}]", batch.join(","))).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (202, Some(3)),
        "{body}"
    );
    s.drained("vip", DRAIN).await;
    let c = h
        .emulator
        .handle()
        .contact("email:bat@example.com")
        .unwrap();
    assert_eq!(c["attributes"]["first_name"], "Bat");
    assert!(lists(&h, "bat@example.com").is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudevents_and_mixed_batches_are_accepted_and_ordered_per_contact() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    let mut items = Vec::new();
    for i in 0..30u64 {
        let email = format!("user{i}@example.com");
        items.push(cloud_event(i * 10, &email, "enter", "vip_customers", ""));
        items.push(default_payload(
            i * 10 + 1,
            &email,
            "exit",
            "vip_customers",
            "",
        ));
        if i % 2 == 0 {
            items.push(cloud_event(
                i * 10 + 2,
                &email,
                "enter",
                "vip_customers",
                "",
            ));
        }
    }
    items.push(default_payload(
        999,
        "other@example.com",
        "enter",
        "another_audience",
        "",
    ));
    let (status, body) = post(&s.hook("vip"), format!("[{}]", items.join(","))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 75);
    assert_eq!(body["ignored_other_audiences"], 1);
    let counts = s.drained("vip", DRAIN).await;
    assert_eq!((counts.done, counts.dead), (75, 0));
    for i in 0..30u64 {
        let expected: Vec<String> = if i % 2 == 0 {
            vec!["Lytics_vip_customers".into()]
        } else {
            vec![]
        };
        assert_eq!(
            lists(&h, &format!("user{i}@example.com")),
            expected,
            "user{i}"
        );
    }
    // Per contact, Cordial saw enter, exit(, enter) in that order.
    let requests = h.emulator.handle().requests();
    for i in (0..30u64).step_by(7) {
        let email = format!("user{i}@example.com");
        let seen: Vec<bool> = requests
            .iter()
            .filter(|r| {
                r.path == "/v2/contacts" && r.body["channels"]["email"]["address"] == email.as_str()
            })
            .map(|r| r.body["Lytics_vip_customers"].as_bool().unwrap())
            .collect();
        let want = if i % 2 == 0 {
            vec![true, false, true]
        } else {
            vec![true, false]
        };
        assert_eq!(seen, want, "{email}");
    }
    assert!(
        h.emulator
            .handle()
            .contact("email:other@example.com")
            .is_none()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_payloads_get_a_400_naming_the_problem_and_nothing_is_queued() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    let good = default_payload(1, "a@example.com", "enter", "vip_customers", "");
    let cases = [
        ("{not json".to_owned(), ""),
        (r#"{"id":"1","meta":{}}"#.to_owned(), "data"),
        (
            r#"{"id":"1","data":{"email":"a@example.com","segment_events":"enter"}}"#.to_owned(),
            "data.segment_events",
        ),
        (
            format!(
                r#"[{good}, {{"id":"2","data":{{"email":"b@example.com","segment_events":[{{"event":"joined","slug":"vip_customers"}}]}}}}]"#
            ),
            "[1].data.segment_events[0].event",
        ),
        ("[]".to_owned(), ""),
    ];
    for (body, path) in cases {
        let (status, answer) = post(&s.hook("vip"), body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
        if !path.is_empty() {
            assert_eq!(answer["path"], path, "{body} → {answer}");
        }
    }
    let huge = format!(
        r#"{{"id":"1","data":{{"email":"a@example.com","blob":"{}"}}}}"#,
        "x".repeat(33 << 20)
    );
    let (status, answer) = post(&s.hook("vip"), huge).await;
    assert_eq!(status, 413, "{answer}");
    let (status, answer) = post(&s.hook("nope"), good).await;
    assert_eq!(status, 404);
    assert!(
        answer["error"].as_str().unwrap().contains("vip"),
        "{answer}"
    );
    assert_eq!(
        s.store.queue_counts("vip").unwrap(),
        Default::default(),
        "nothing may be queued"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_secret_is_required() {
    let h = Harness::start().await;
    std::fs::write(h.dir.path().join("hook-secret"), "hunter2").unwrap();
    let jobs = format!(
        "{JOB}[job.webhook]\nsecret_file = \"{}\"\n",
        h.dir.path().join("hook-secret").display()
    );
    let s = Serving::start(&h, &jobs).await;
    let body = default_payload(1, "a@example.com", "enter", "vip_customers", "");
    let (status, answer) = post(&s.hook("vip"), body.clone()).await;
    assert_eq!(status, 401);
    assert!(
        answer["error"].as_str().unwrap().contains("Bearer"),
        "{answer}"
    );
    let response = reqwest::Client::new()
        .post(s.hook("vip"))
        .header("authorization", "Bearer hunter2")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    s.drained("vip", DRAIN).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_is_waited_out_as_cordial_asks_and_nothing_is_lost() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    // Warm up: the list exists and is remembered.
    post(
        &s.hook("vip"),
        default_payload(1, "warm@example.com", "enter", "vip_customers", ""),
    )
    .await;
    s.drained("vip", DRAIN).await;
    h.emulator.handle().inject(Fault::RateLimited {
        retry_after_secs: 1,
        count: 6,
    });
    let items: Vec<String> = (0..40)
        .map(|i| {
            default_payload(
                100 + i,
                &format!("r{i}@example.com"),
                "enter",
                "vip_customers",
                "",
            )
        })
        .collect();
    let (status, _) = post(&s.hook("vip"), format!("[{}]", items.join(","))).await;
    assert_eq!(status, 202);
    let counts = s.drained("vip", DRAIN).await;
    assert_eq!((counts.done, counts.dead), (41, 0));
    let requests = h.emulator.handle().requests();
    // Requests already on the wire when a 429 was sent arrive within moments of it; anything
    // sent after the host could know of the 429 must wait out its Retry-After (1 s).
    let in_flight_slack = Duration::from_millis(50);
    let limits: Vec<_> = requests
        .iter()
        .filter(|r| r.fault_status == Some(429))
        .map(|r| r.received_at)
        .collect();
    assert_eq!(limits.len(), 6);
    for limit in &limits {
        let too_soon: Vec<Duration> = requests
            .iter()
            .filter(|r| r.received_at > *limit + in_flight_slack)
            .map(|r| r.received_at.duration_since(*limit))
            .filter(|gap| *gap < Duration::from_millis(950))
            .collect();
        assert!(
            too_soon.is_empty(),
            "requests sent during a Retry-After of 1 s: {too_soon:?}"
        );
    }
    s.stop().await;
}

/// The shape of a real account under load: far more requests waiting than the job may have
/// in flight, and every 7th answered with a 429. Requests queued behind the in-flight cap
/// are held by the 429 like any other; only those already in flight may land in the window.
/// With one request in flight at a time that is none at all, whatever the timing: with
/// more, a request can also finish and free its permit between Cordial sending the 429 and
/// the host reading it, so the count Cordial sees would depend on scheduling.
#[tokio::test(flavor = "multi_thread")]
async fn requests_queued_behind_the_cap_wait_out_every_retry_after() {
    const CAPPED: &str = r#"
[[job]]
name = "vip"
kind = "export-realtime"
auth = "cordial"
audience = "vip_customers"
[job.delivery]
concurrency = 8
batch_size = 50
max_in_flight = 1
"#;
    let h = Harness::start().await;
    let s = Serving::start(&h, CAPPED).await;
    post(
        &s.hook("vip"),
        default_payload(1, "warm@example.com", "enter", "vip_customers", ""),
    )
    .await;
    s.drained("vip", DRAIN).await;
    h.emulator.handle().inject(Fault::RateLimitedEvery {
        nth: 7,
        retry_after_secs: 1,
        count: 5,
    });
    // 150 contacts, each entering then leaving: 300 events in one batch.
    let items: Vec<String> = (0..150u64)
        .flat_map(|i| {
            let email = format!("q{i}@example.com");
            [
                default_payload(10 + 2 * i, &email, "enter", "vip_customers", ""),
                default_payload(11 + 2 * i, &email, "exit", "vip_customers", ""),
            ]
        })
        .collect();
    let (status, _) = post(&s.hook("vip"), format!("[{}]", items.join(","))).await;
    assert_eq!(status, 202);
    let counts = s.drained("vip", Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (301, 0));
    let requests = h.emulator.handle().requests();
    let limited = rate_limits::assert_retry_after_held(&requests, Duration::from_secs(1), 0);
    assert_eq!(limited, 5);
    for i in 0..150 {
        assert!(
            lists(&h, &format!("q{i}@example.com")).is_empty(),
            "q{i} left the audience last"
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_until_cordial_recovers() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    h.emulator.handle().inject(Fault::ServerError {
        status: 502,
        count: 2,
    });
    post(
        &s.hook("vip"),
        default_payload(1, "five@example.com", "enter", "vip_customers", ""),
    )
    .await;
    let counts = s.drained("vip", DRAIN).await;
    assert_eq!((counts.done, counts.dead), (1, 0));
    assert_eq!(lists(&h, "five@example.com"), ["Lytics_vip_customers"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_422_is_dead_lettered_with_cordials_message_and_can_be_replayed() {
    let h = Harness::start().await;
    let s = Serving::start(&h, JOB).await;
    let warm = default_payload(
        1,
        "warm@example.com",
        "enter",
        "vip_customers",
        r#","age":1"#,
    );
    post(&s.hook("vip"), warm).await;
    s.drained("vip", DRAIN).await;
    // The schema changes under the running job: Cordial now refuses the mapped attribute.
    h.delete_attribute("age").await;
    let bad = default_payload(
        2,
        "bad@example.com",
        "enter",
        "vip_customers",
        r#","age":2"#,
    );
    post(&s.hook("vip"), bad).await;
    let counts = s.drained("vip", DRAIN).await;
    assert_eq!((counts.done, counts.dead), (1, 1));
    let dead = s.store.dead_letters("vip").unwrap();
    assert_eq!(dead[0].status, Some(422), "{dead:?}");
    assert!(
        dead[0].error.contains("key age is not part of the schema"),
        "{}",
        dead[0].error
    );
    assert_eq!(dead[0].attempts, 1, "a 422 is not retried");
    assert_eq!(s.store.replay_dead_letters("vip", None).unwrap(), 1);
    let counts = s.drained("vip", DRAIN).await;
    assert_eq!(
        counts.dead, 1,
        "replayed, and dead again since Cordial still refuses it"
    );
    s.stop().await;
}
