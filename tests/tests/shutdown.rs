//! `cordial-host serve` told to stop (SIGTERM, as a service manager stops it), through the
//! real binary against a slow Cordial: intake stops first, the call in flight finishes and
//! is recorded within the grace period, a call that outlasts it is cut off, and everything
//! not delivered stays pending for the next start, which delivers it.

use cordial_e2e::audience_events::{batch, default_payload};
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::http::post;
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::{wait_for_a_request, wait_settled};
use cordial_host::db::Db;
use std::time::Duration;

const EVENTS: u64 = 20;

/// A host delivering one call at a time, `EVENTS` enter events accepted, and a delivery
/// call to a Cordial answering after `latency` under way (Cordial has answered one of its
/// requests).
async fn delivering(h: &Harness, latency: Duration, grace_secs: u64) -> ServeProcess {
    h.emulator.handle().set_latency(latency);
    let job = vip("[job.delivery]\nconcurrency = 1\nbatch_size = 5\n");
    let host =
        ServeProcess::start_with(h, &format!("shutdown_grace_secs = {grace_secs}"), &job).await;
    let events: Vec<String> = (0..EVENTS)
        .map(|i| {
            default_payload(
                i,
                &format!("s{i}@example.com"),
                "enter",
                "vip_customers",
                "",
            )
        })
        .collect();
    // The start's settings check is over (the host listens only after it): any request
    // Cordial receives from now on is the first delivery call's.
    let before = h.emulator.handle().requests().len();
    let (status, _) = post(&host.url("/hooks/vip"), batch(&events), &[]).await;
    assert_eq!(status, 202);
    wait_for_a_request(h, before).await;
    host
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_call_in_flight_finish_and_leaves_the_rest_pending() {
    let h = Harness::start().await;
    let mut host = delivering(&h, Duration::from_millis(200), 20).await;
    assert!(host.terminate().await, "{}", host.log());

    // Intake stopped first: nothing listens any more.
    assert!(
        cordial_e2e::http::client()
            .get(host.url("/healthz"))
            .send()
            .await
            .is_err()
    );
    let store = Db::open(&h.store_path()).unwrap();
    let counts = store.queue_counts("vip").unwrap();
    // The call in flight (its batch of 1 to 5) finished and was recorded; no other began.
    assert!((1..=5).contains(&counts.done), "{counts:?}");
    assert_eq!((counts.pending, counts.dead), (EVENTS - counts.done, 0));
    let delivered: Vec<String> = (0..EVENTS)
        .map(|i| format!("s{i}@example.com"))
        .filter(|email| h.emulator.handle().contact(email).is_some())
        .collect();
    assert_eq!(delivered.len() as u64, counts.done, "{delivered:?}");
    for email in &delivered {
        assert_eq!(h.lists(email), ["Lytics_vip_customers"], "{email}");
    }
    let log = host.log();
    assert!(
        log.contains("letting calls in flight finish (up to 20s)"),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "{} item(s) left pending for the next start",
            counts.pending
        )),
        "{log}"
    );

    // The next start delivers the rest.
    h.emulator.handle().set_latency(Duration::ZERO);
    host.restart().await;
    let counts = wait_settled(&store, "vip", EVENTS, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (EVENTS, 0));
    host.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_outlasting_the_grace_period_is_cut_off_and_its_items_stay_pending() {
    let h = Harness::start().await;
    let mut host = delivering(&h, Duration::from_secs(3), 1).await;
    assert!(host.terminate().await, "{}", host.log());
    let store = Db::open(&h.store_path()).unwrap();
    let counts = store.queue_counts("vip").unwrap();
    // Cordial answers each request after 3 s: the call in flight at the SIGTERM could not
    // finish within the second it was given, and nothing of it was recorded as done.
    assert!(counts.pending >= 1, "{counts:?}");
    assert_eq!(counts.done + counts.pending, EVENTS, "{counts:?}");
    let log = host.log();
    assert!(
        log.contains("calls still running at the shutdown deadline were stopped"),
        "{log}"
    );
}
