//! The real-time export end to end: platform webhooks posted to `cordial-host serve`,
//! committed to the queue, delivered by the real component to the emulator.

use cordial_e2e::audience_events::{batch, cloud_event, default_payload};
use cordial_e2e::harness::Harness;
use cordial_e2e::http::{post, status_for_announced_body};
use cordial_e2e::rate_limits;
use cordial_e2e::realtime_job::{FIRST_NAME_AND_AGE, vip};
use cordial_e2e::serving::Serving;
use cordial_emulator::{Fault, RateLimit};
use std::time::Duration;

const DRAIN: Duration = Duration::from_secs(30);

/// `vip`, mapping `first_name` and `age`, delivering with `delivery` (the `[job.delivery]`
/// settings).
fn job(delivery: &str) -> String {
    vip(&format!("{FIRST_NAME_AND_AGE}[job.delivery]\n{delivery}"))
}

/// Four workers taking batches of 20, three attempts at most.
fn four_workers() -> String {
    job("concurrency = 4\nbatch_size = 20\nmax_attempts = 3\n")
}

/// A payload format: id, email, event, audience, extra user fields.
type Format = fn(u64, &str, &str, &str, &str) -> String;

/// `email` enters as `first`, changes its first name to `changed` and leaves, one webhook in
/// `format` at a time: each is accepted, and once it is delivered Cordial's contact is as
/// the event left it.
async fn enter_change_and_exit(
    h: &Harness,
    s: &Serving,
    format: Format,
    email: &str,
    names: [&str; 2],
) {
    let hook = s.hook("vip");
    let [first, changed] = names.map(|name| format!(r#","first_name":"{name}""#));
    for (id, event, extra) in [
        (1, "enter", first.as_str()),
        (2, "change", &changed),
        (3, "exit", ""),
    ] {
        let (status, body) =
            post(&hook, format(id, email, event, "vip_customers", extra), &[]).await;
        assert_eq!(
            (status, body["accepted"].as_u64()),
            (202, Some(1)),
            "{body}"
        );
        s.drained("vip", DRAIN).await;
        match event {
            "enter" => assert_eq!(h.lists(email), ["Lytics_vip_customers"]),
            "change" => {
                assert_eq!(h.contact(email)["attributes"]["first_name"], names[1]);
                assert_eq!(
                    h.lists(email),
                    ["Lytics_vip_customers"],
                    "a change leaves membership alone"
                );
            }
            _ => assert!(h.lists(email).is_empty()),
        }
    }
}

/// Delivers an enter of warm@example.com (with `extra` user fields) before a test's events:
/// the list exists and is remembered, so what the test injects next hits the upserts.
/// `contacts` contacts (`<prefix><i>@example.com`), each entering then leaving the audience:
/// the events in the default format, ids from 10.
fn enter_then_exit(prefix: &str, contacts: u64) -> Vec<String> {
    (0..contacts)
        .flat_map(|i| {
            let email = format!("{prefix}{i}@example.com");
            [
                default_payload(10 + 2 * i, &email, "enter", "vip_customers", ""),
                default_payload(11 + 2 * i, &email, "exit", "vip_customers", ""),
            ]
        })
        .collect()
}

async fn warm_up(s: &Serving, extra: &str) {
    let warm = default_payload(1, "warm@example.com", "enter", "vip_customers", extra);
    let (status, _) = post(&s.hook("vip"), warm, &[]).await;
    assert_eq!(status, 202);
    s.drained("vip", DRAIN).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_change_and_exit_in_the_default_format() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
    enter_change_and_exit(&h, &s, default_payload, "ann@example.com", ["Ann", "Annie"]).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_change_and_exit_as_single_cloudevents_and_in_a_batch() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
    enter_change_and_exit(&h, &s, cloud_event, "ce@example.com", ["Cee", "Cecily"]).await;

    // The same three as one batch, for another contact: a change between enter and exit.
    let bat = "bat@example.com";
    let events = [
        default_payload(4, bat, "enter", "vip_customers", r#","first_name":"B""#),
        cloud_event(5, bat, "change", "vip_customers", r#","first_name":"Bat""#),
        default_payload(6, bat, "exit", "vip_customers", ""),
    ];
    let (status, body) = post(&s.hook("vip"), batch(&events), &[]).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (202, Some(3)),
        "{body}"
    );
    s.drained("vip", DRAIN).await;
    let c = h.contact("bat@example.com");
    assert_eq!(c["attributes"]["first_name"], "Bat");
    assert!(h.lists(bat).is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudevents_and_mixed_batches_are_accepted_and_ordered_per_contact() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
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
    let other = "other@example.com";
    items.push(default_payload(999, other, "enter", "another_audience", ""));
    let (status, body) = post(&s.hook("vip"), batch(&items), &[]).await;
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
            h.lists(&format!("user{i}@example.com")),
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
    assert!(h.find_contact("other@example.com").is_none());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_payloads_get_a_400_naming_the_problem_and_nothing_is_queued() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
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
        let (status, answer) = post(&s.hook("vip"), body.clone(), &[]).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
        if !path.is_empty() {
            assert_eq!(answer["path"], path, "{body} → {answer}");
        }
    }
    // Refused on its content-length, before any of the 33 MiB is read.
    assert_eq!(
        status_for_announced_body(&s.hook("vip"), 33 << 20, &[]).await,
        413
    );
    let (status, answer) = post(&s.hook("nope"), good, &[]).await;
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
        "{}[job.webhook]\nsecret_file = \"{}\"\n",
        four_workers(),
        h.dir.path().join("hook-secret").display()
    );
    let s = Serving::start(&h, &jobs).await;
    let body = default_payload(1, "a@example.com", "enter", "vip_customers", "");
    let (status, answer) = post(&s.hook("vip"), body.clone(), &[]).await;
    assert_eq!(status, 401);
    assert!(
        answer["error"].as_str().unwrap().contains("Bearer"),
        "{answer}"
    );
    let bearer = [("authorization", "Bearer hunter2")];
    assert_eq!(post(&s.hook("vip"), body, &bearer).await.0, 202);
    s.drained("vip", DRAIN).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_is_waited_out_as_cordial_asks_and_nothing_is_lost() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
    warm_up(&s, "").await;
    h.emulator.handle().inject(Fault::RateLimited {
        retry_after_secs: 1,
        count: 6,
    });
    let items: Vec<String> = (0..40)
        .map(|i| {
            let email = format!("r{i}@example.com");
            default_payload(100 + i, &email, "enter", "vip_customers", "")
        })
        .collect();
    let (status, _) = post(&s.hook("vip"), batch(&items), &[]).await;
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
    let capped = vip("[job.delivery]\nconcurrency = 8\nbatch_size = 50\nmax_in_flight = 1\n");
    let h = Harness::start().await;
    let s = Serving::start(&h, &capped).await;
    warm_up(&s, "").await;
    h.emulator.handle().inject(Fault::RateLimitedEvery {
        nth: 7,
        retry_after_secs: 1,
        count: 5,
    });
    // 150 contacts, each entering then leaving: 300 events in one batch.
    let items = enter_then_exit("q", 150);
    let (status, _) = post(&s.hook("vip"), batch(&items), &[]).await;
    assert_eq!(status, 202);
    let counts = s.drained("vip", Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (301, 0));
    let requests = h.emulator.handle().requests();
    let limited = rate_limits::assert_retry_after_held(&requests, Duration::from_secs(1), 0);
    assert_eq!(limited, 5);
    for i in 0..150 {
        assert!(
            h.lists(&format!("q{i}@example.com")).is_empty(),
            "q{i} left the audience last"
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_until_cordial_recovers() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
    h.emulator.handle().inject(Fault::ServerError {
        status: 502,
        count: 2,
    });
    let five = default_payload(1, "five@example.com", "enter", "vip_customers", "");
    post(&s.hook("vip"), five, &[]).await;
    let counts = s.drained("vip", DRAIN).await;
    assert_eq!((counts.done, counts.dead), (1, 0));
    assert_eq!(h.lists("five@example.com"), ["Lytics_vip_customers"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_422_is_dead_lettered_with_cordials_message_and_can_be_replayed() {
    let h = Harness::start().await;
    let s = Serving::start(&h, &four_workers()).await;
    warm_up(&s, r#","age":1"#).await;
    // The schema changes under the running job: Cordial now refuses the mapped attribute.
    h.delete_attribute("age").await;
    let bad = default_payload(
        2,
        "bad@example.com",
        "enter",
        "vip_customers",
        r#","age":2"#,
    );
    post(&s.hook("vip"), bad, &[]).await;
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

/// Cordial allows 20 requests a second (a token bucket one second deep) and the job may have
/// 16 requests in flight. Without a pace, every second would open with a burst the bucket
/// cannot take: a 429 for each request in flight beyond the bucket, again and again. The
/// host learns the limit from the first 429s and paces the endpoint below it, so after the
/// first burst 429s are rare; every event is still delivered, in order per contact.
#[tokio::test(flavor = "multi_thread")]
async fn the_host_learns_cordials_rate_limit_and_stops_hitting_it() {
    const ALLOWED: f64 = 20.0;
    const IN_FLIGHT: usize = 16;
    let h = Harness::start().await;
    let s = Serving::start(
        &h,
        &vip(&format!(
            "[job.delivery]\nconcurrency = 4\nbatch_size = 50\nmax_in_flight = {IN_FLIGHT}\n"
        )),
    )
    .await;
    warm_up(&s, "").await;
    h.emulator.handle().set_rate_limit(Some(RateLimit {
        requests_per_second: ALLOWED,
        burst: ALLOWED as u32,
    }));
    let items = enter_then_exit("paced", 60);
    let (status, _) = post(&s.hook("vip"), batch(&items), &[]).await;
    assert_eq!(status, 202);
    let counts = s.settled("vip", 121, Duration::from_secs(120)).await;
    assert_eq!((counts.done, counts.dead), (121, 0));
    let requests = h.emulator.handle().requests();
    let refused: Vec<_> = requests
        .iter()
        .filter(|r| r.fault_status == Some(429))
        .map(|r| r.received_at)
        .collect();
    let delivered = requests.iter().filter(|r| r.fault_status.is_none()).count();
    assert!(delivered >= 120, "{delivered}");
    // The first burst may be refused whole; after it, a paced job meets fewer 429s in the
    // whole run than one unpaced second brings (up to IN_FLIGHT; 40 in all when the pace
    // was switched off). Paced, it meets about one per cut while it converges.
    let after_first_burst = refused
        .iter()
        .filter(|t| **t > refused[0] + Duration::from_millis(500))
        .count();
    assert!(
        after_first_burst < IN_FLIGHT,
        "{after_first_burst} 429s after the first burst ({} in all, {delivered} requests delivered)",
        refused.len()
    );
    rate_limits::assert_retry_after_held(&requests, Duration::from_secs(1), IN_FLIGHT - 1);
    for i in 0..60 {
        assert!(
            h.lists(&format!("paced{i}@example.com")).is_empty(),
            "paced{i} left last"
        );
    }
    s.stop().await;
}
