//! The store failing under `cordial-host serve`, through the binary: while another process
//! holds the SQLite file's write lock, a webhook is answered `503` (retry later) and
//! nothing of it is kept; once the lock is released the same webhook is accepted and
//! delivered once.

use cordial_e2e::audience_events::{batch, default_payload};
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::http::post;
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::wait_settled;
use cordial_host::db::Db;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_store_answers_503_keeps_nothing_and_takes_the_retry_once_it_is_free() {
    let h = Harness::start().await;
    let mut host = ServeProcess::start(&h, &vip("")).await;
    let events: Vec<String> = (0..3)
        .map(|i| {
            default_payload(
                i,
                &format!("f{i}@example.com"),
                "enter",
                "vip_customers",
                "",
            )
        })
        .collect();

    let other = rusqlite::Connection::open(h.store_path()).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // The host waits for the lock as long as its store allows, then tells the sender to
    // retry rather than pretend.
    let (status, body) = post(&host.url("/hooks/vip"), batch(&events), &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not be stored; retry later")),
        "{body}"
    );
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);

    let store = Db::open(&h.store_path()).unwrap();
    assert_eq!(
        store.queue_counts("vip").unwrap().pending,
        0,
        "nothing kept of the refused webhook"
    );
    let (status, body) = post(&host.url("/hooks/vip"), batch(&events), &[]).await;
    assert_eq!(status, 202, "{body}");
    let counts = wait_settled(&store, "vip", 3, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (3, 0));
    for i in 0..3 {
        assert_eq!(
            h.lists(&format!("f{i}@example.com")),
            ["Lytics_vip_customers"]
        );
    }
    host.kill().await;
}
