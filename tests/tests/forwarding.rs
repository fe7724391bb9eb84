//! Forwarding end to end: streams in a real SQLite store sent by the `cordial-host` binary
//! (`run`, `forward`, `serve`) over real HTTP to the platform stand-in, with its faults.

use chrono::{Duration, Utc};
use cordial_e2e::activity::{
    Activity, STREAM, append_records, event, event_id, pushed, stream_ids, stream_record,
};
use cordial_e2e::cli::{Ran, ServeProcess, host};
use cordial_e2e::harness::Harness;
use cordial_e2e::http::post;
use cordial_e2e::platform::{PLATFORM_KEY, platform_table, platform_table_with_key, standin};
use cordial_e2e::serving::Serving;
use cordial_host::db::Db;
use platform_standin::{Endpoint, Fault, RunningStandin};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration as Elapsed, Instant};

const ARRIVAL: Elapsed = Elapsed::from_secs(30);

/// A store holding `records` in the activity stream, and a config with no jobs that
/// forwards it to `standin` (`extra`: more `[host.platform]` lines).
struct Forwarding {
    h: Harness,
    standin: RunningStandin,
}

impl Forwarding {
    async fn start() -> Forwarding {
        Forwarding {
            h: Harness::start().await,
            standin: standin().await,
        }
    }

    fn store(&self) -> Db {
        self.h.store()
    }

    fn fill(&self, records: &[String]) {
        append_records(&self.store(), records);
    }

    fn config(&self, extra: &str) -> PathBuf {
        self.h
            .config_file(&platform_table(&self.h, &self.standin, extra))
    }

    /// The platform's `_id`s, in the order it received them.
    fn received(&self) -> Vec<String> {
        self.standin
            .handle()
            .records(STREAM)
            .iter()
            .map(event_id)
            .collect()
    }

    /// The statuses of the collect requests, in order.
    fn statuses(&self) -> Vec<u16> {
        self.standin
            .handle()
            .requests()
            .iter()
            .map(|r| r.status)
            .collect()
    }
}

async fn forward(config: &Path, wait_secs: &str) -> Ran {
    host(&[&"forward", &config, &"--wait-secs", &wait_secs]).await
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{i:024x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_sends_the_stream_in_acknowledged_batches_once() {
    let f = Forwarding::start().await;
    f.fill(&(0..25).map(stream_record).collect::<Vec<_>>());
    let config = f.config("batch_size = 10");
    let ran = forward(&config, "30").await;
    assert!(ran.ok, "{ran}");
    assert_eq!(f.received(), ids(0..25), "in store order");
    let requests = f.standin.handle().requests();
    let sizes: Vec<usize> = requests.iter().map(|r| r.records).collect();
    assert_eq!(sizes, [10, 10, 5]);
    assert!(requests.iter().all(|r| r.endpoint == Endpoint::Json
        && r.timestamp_field.as_deref() == Some("cr_event_timestamp")));
    let state = f.store().forwarding(STREAM).unwrap();
    assert_eq!((state.forwarded, state.resent_batches), (25, 0));
    assert!(
        ran.stdout.contains(STREAM) && ran.stdout.contains(" 25 "),
        "{ran}"
    );

    // Nothing beyond the cursor: a second forward sends nothing; new records go next.
    assert!(forward(&config, "30").await.ok);
    assert_eq!(f.standin.handle().requests().len(), 3);
    f.fill(&[stream_record(25)]);
    assert!(forward(&config, "30").await.ok);
    assert_eq!(f.received(), ids(0..26));
    assert!(
        !format!("{ran}").contains(PLATFORM_KEY),
        "the key is never printed"
    );
}

/// The platform answers 429 twice with `Retry-After: 2`; each is waited out for its full
/// `Retry-After` (4 s in all; the host's own first backoffs, 1 s then 2 s, would be 3 s) and
/// the batch then lands once.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_is_waited_out_for_its_retry_after() {
    let f = Forwarding::start().await;
    f.fill(&(0..5).map(stream_record).collect::<Vec<_>>());
    f.standin.handle().fail_next(Fault::RateLimited {
        retry_after_secs: 2,
        count: 2,
    });
    let started = Instant::now();
    let ran = forward(&f.config(""), "60").await;
    assert!(ran.ok, "{ran}");
    assert!(
        started.elapsed() >= Elapsed::from_secs(4),
        "Retry-After honoured"
    );
    assert_eq!(f.statuses(), [429, 429, 200]);
    assert_eq!(f.received(), ids(0..5));
    let state = f.store().forwarding(STREAM).unwrap();
    assert_eq!(
        (state.forwarded, state.resent_batches),
        (5, 0),
        "a 429 stored nothing"
    );
}

/// A 503 may have been stored before the platform failed: the retry is counted as a re-send.
#[tokio::test(flavor = "multi_thread")]
async fn a_5xx_is_retried_and_counted_as_a_possible_resend() {
    let f = Forwarding::start().await;
    f.fill(&(0..4).map(stream_record).collect::<Vec<_>>());
    f.standin.handle().fail_next(Fault::ServerError {
        status: 503,
        count: 1,
    });
    let ran = forward(&f.config(""), "60").await;
    assert!(ran.ok, "{ran}");
    assert_eq!(f.statuses(), [503, 200]);
    assert_eq!(f.received(), ids(0..4));
    let state = f.store().forwarding(STREAM).unwrap();
    assert_eq!((state.resent_batches, state.resent_records), (1, 4));
}

/// One record the platform refuses (over its 16 KiB record size) in a batch of ten: the
/// batch is halved until the record stands alone, the nine others land, and the one is
/// quarantined with the platform's message.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_record_is_split_out_of_its_batch_and_quarantined() {
    let f = Forwarding::start().await;
    let mut records: Vec<String> = (0..10).map(stream_record).collect();
    let mut big: Value = serde_json::from_str(&records[6]).unwrap();
    big["cr_message_name"] = json!("x".repeat(20_000));
    records[6] = big.to_string();
    f.fill(&records);
    let config = f.config("batch_size = 10");
    let ran = forward(&config, "30").await;
    assert!(ran.ok, "a set-aside record does not stop forwarding: {ran}");
    let mut expected = ids(0..10);
    expected.remove(6);
    assert_eq!(f.received(), expected);
    assert_eq!(f.statuses()[0], 400, "the whole batch was refused first");
    let state = f.store().forwarding(STREAM).unwrap();
    assert_eq!((state.forwarded, state.quarantined), (9, 1));
    let listed = host(&[&"quarantine", &config, &"platform"]).await;
    assert!(listed.ok, "{listed}");
    assert!(
        listed.stdout.contains("16"),
        "the platform's message: {listed}"
    );
    assert!(
        listed.stdout.contains(r#""cr_contact_id":"c6""#),
        "the record: {listed}"
    );
    assert!(listed.stdout.contains("1 quarantined"), "{listed}");
}

/// Records the platform takes but drops (`rejected_count`: here an unreadable
/// `timestamp_field`) are counted, not retried.
#[tokio::test(flavor = "multi_thread")]
async fn records_the_platform_drops_are_counted_as_rejected() {
    let f = Forwarding::start().await;
    let mut records: Vec<String> = (0..6).map(stream_record).collect();
    for i in [1, 4] {
        let mut r: Value = serde_json::from_str(&records[i]).unwrap();
        r["cr_event_timestamp"] = json!("last tuesday");
        records[i] = r.to_string();
    }
    f.fill(&records);
    let ran = forward(&f.config(""), "30").await;
    assert!(ran.ok, "{ran}");
    let state = f.store().forwarding(STREAM).unwrap();
    assert_eq!((state.forwarded, state.rejected), (6, 2));
    assert_eq!(f.standin.handle().rejected(STREAM).len(), 2);
    assert_eq!(f.statuses(), [200], "sent once");
}

/// A wrong key: forwarding stops at once with what to fix, the cursor stays, and with the
/// key fixed everything goes.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_stops_forwarding_and_keeps_the_cursor() {
    let f = Forwarding::start().await;
    f.fill(&(0..3).map(stream_record).collect::<Vec<_>>());
    let wrong = "pk-wrong-0d9e7";
    let config =
        f.h.config_file(&platform_table_with_key(&f.h, &f.standin, wrong, ""));
    let ran = forward(&config, "30").await;
    assert!(!ran.ok, "{ran}");
    assert!(ran.to_string().contains("api_key_file"), "{ran}");
    assert!(
        !ran.to_string().contains(wrong),
        "the key is never printed: {ran}"
    );
    assert_eq!(f.statuses(), [401], "not retried");
    let state = f.store().forwarding(STREAM).unwrap();
    assert_eq!((state.cursor, state.forwarded), (0, 0));
    assert!(state.last_error.unwrap().contains("refused the key"));

    let ran = forward(&f.config(""), "30").await;
    assert!(ran.ok, "{ran}");
    assert_eq!(f.received(), ids(0..3));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_platform_fails_forward_and_loses_nothing() {
    let h = Harness::start().await;
    let unreachable = cordial_e2e::http::free_local_addr();
    let key = h.dir.path().join("platform-key");
    std::fs::write(&key, PLATFORM_KEY).unwrap();
    let config = h.config_file(&format!(
        "[host.platform]\nbase_url = \"http://{unreachable}\"\napi_key_file = \"{}\"\n",
        key.display()
    ));
    append_records(&h.store(), &[stream_record(1)]);
    let ran = forward(&config, "2").await;
    assert!(!ran.ok, "{ran}");
    assert!(ran.to_string().contains("cannot connect"), "{ran}");
    let state = h.store().forwarding(STREAM).unwrap();
    assert_eq!(state.cursor, 0);
    assert_eq!(h.store().stream_backlog(STREAM, 0).unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_backlog_goes_through_the_bulk_endpoint() {
    let f = Forwarding::start().await;
    f.fill(&(0..50).map(stream_record).collect::<Vec<_>>());
    let ran = forward(&f.config("batch_size = 10\nbulk_after = 20"), "30").await;
    assert!(ran.ok, "{ran}");
    let requests = f.standin.handle().requests();
    assert_eq!(requests.len(), 1, "one bulk request, not five batches");
    assert_eq!(requests[0].endpoint, Endpoint::Bulk);
    assert_eq!(requests[0].records, 50);
    assert_eq!(f.received(), ids(0..50));
    // Below the threshold, batches again.
    f.fill(&(50..55).map(stream_record).collect::<Vec<_>>());
    assert!(
        forward(&f.config("batch_size = 10\nbulk_after = 20"), "30")
            .await
            .ok
    );
    assert_eq!(f.standin.handle().requests()[1].endpoint, Endpoint::Json);
}

/// A scheduled run of Import Activity through the binary forwards what it imported.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_forwards_the_activity_it_imported() {
    let now = Utc::now();
    let a = Activity::with_events(vec![
        event("f1", "open", now - Duration::hours(3)),
        event("f2", "click", now - Duration::hours(2)),
    ])
    .await;
    let platform = standin().await;
    let jobs = a.config("") + &platform_table(&a.h, &platform, "");
    let config = a.h.config_file(&jobs);
    let ran = host(&[&"run", &config, &"activity"]).await;
    assert!(ran.ok, "{ran}");
    let received: BTreeSet<String> = platform
        .handle()
        .records(STREAM)
        .iter()
        .map(event_id)
        .collect();
    assert_eq!(received, a.stream_ids());
    assert_eq!(received.len(), 2);
    assert!(!ran.to_string().contains(PLATFORM_KEY), "{ran}");
}

const SECRET: &str = "fwd-push-secret";

/// The `activity` job taking pushes, forwarding to `platform`.
fn pushes_forwarded(a: &Activity, platform: &RunningStandin) -> String {
    let file = a.h.dir.path().join("push-secret");
    std::fs::write(&file, SECRET).unwrap();
    a.config(&format!(
        "[job.webhook]\nsecret_file = \"{}\"\n",
        file.display()
    )) + &platform_table(&a.h, platform, "")
}

fn pushes(labels: &[&str]) -> String {
    let now = Utc::now();
    let events: Vec<Value> = labels
        .iter()
        .map(|l| pushed(&event(l, "open", now - Duration::minutes(5))))
        .collect();
    Value::Array(events).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_forwards_pushed_activity_as_it_arrives() {
    let a = Activity::start().await;
    let platform = standin().await;
    let s = Serving::start(&a.h, &pushes_forwarded(&a, &platform)).await;
    let bearer = format!("Bearer {SECRET}");
    let (status, body) = post(
        &s.events("activity"),
        pushes(&["s1", "s2", "s3"]),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let arrived = platform
        .handle()
        .wait_for_records(STREAM, 3, ARRIVAL)
        .await
        .unwrap();
    let ids: BTreeSet<String> = arrived.iter().map(event_id).collect();
    assert_eq!(ids, stream_ids(&s.store));
    s.stop().await;
}

/// The host is killed after the platform stored a batch and before its acknowledgement
/// came back. Restarted, it sends that batch again — once — and nothing is lost; the re-send
/// is counted.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_before_the_acknowledgement_resends_the_batch_once() {
    let a = Activity::start().await;
    let platform = standin().await;
    let mut serve = ServeProcess::start(&a.h, &pushes_forwarded(&a, &platform)).await;
    platform.handle().hold_acks(true);
    let bearer = format!("Bearer {SECRET}");
    let (status, _) = post(
        &serve.url("/cordial-events/activity"),
        pushes(&["k1", "k2", "k3", "k4"]),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 202);
    platform
        .handle()
        .wait_for_records(STREAM, 4, ARRIVAL)
        .await
        .unwrap();
    serve.kill().await;
    let store = a.h.store();
    let at_kill = store.forwarding(STREAM).unwrap();
    assert!(
        at_kill.sending > at_kill.cursor,
        "killed with the batch out: {at_kill:?}"
    );
    platform.handle().hold_acks(false);

    serve.restart().await;
    let arrived = platform
        .handle()
        .wait_for_records(STREAM, 8, ARRIVAL)
        .await
        .unwrap();
    let ids: Vec<String> = arrived.iter().map(event_id).collect();
    assert_eq!(ids[..4], ids[4..], "the same batch, twice");
    assert_eq!(
        ids[..4].iter().cloned().collect::<BTreeSet<_>>(),
        stream_ids(&store),
        "nothing lost"
    );
    // The restarted host records the acknowledgement; wait for it, not for a guess.
    let deadline = Instant::now() + ARRIVAL;
    let state = loop {
        let state = store.forwarding(STREAM).unwrap();
        if state.cursor == at_kill.sending || Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Elapsed::from_millis(20)).await;
    };
    assert_eq!(state.cursor, at_kill.sending);
    assert_eq!((state.resent_batches, state.resent_records), (1, 4));
    serve.kill().await;
}
