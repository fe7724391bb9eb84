//! Kill the host with SIGKILL while events are in flight, start it again, and every event
//! it had accepted (answered 202) reaches Cordial.

use cordial_e2e::audience_events::{batch, default_payload};
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::http::post;
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::wait_settled;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn every_accepted_event_survives_a_sigkill() {
    let h = Harness::start().await;
    // A slow Cordial keeps events in flight long enough to kill the host among them.
    h.emulator.handle().set_latency(Duration::from_millis(40));
    let job = vip("[job.delivery]\nconcurrency = 2\nbatch_size = 10\n");
    let mut host = ServeProcess::start(&h, &job).await;
    let mut accepted = 0;
    for n in 0..10u64 {
        let items: Vec<String> = (0..20u64)
            .map(|i| {
                let email = format!("k{n}-{i}@example.com");
                default_payload(n * 100 + i, &email, "enter", "vip_customers", "")
            })
            .collect();
        let (status, _) = post(&host.url("/hooks/vip"), batch(&items), &[]).await;
        assert_eq!(status, 202);
        accepted += 20;
    }
    let store = host.kill_while_pending("vip", accepted).await;

    host.restart().await;
    let counts = wait_settled(&store, "vip", accepted, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (accepted, 0));
    for n in 0..10 {
        for i in 0..20 {
            let email = format!("k{n}-{i}@example.com");
            assert_eq!(h.lists(&email), ["Lytics_vip_customers"], "{email}");
        }
    }
    host.kill().await;
}
