//! Requests to Cordial reuse the job's keep-alive connections: a loopback relay in front of
//! the emulator counts the TCP connections the host opens while one call sends many
//! requests one after another. wasmtime-wasi-http's own sender opened one per request.

use cordial_e2e::harness::Harness;
use cordial_e2e::realtime_job::vip;
use cordial_host::runtime::Runtime;
use cordial_jobs::job::Outcome;
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::{TcpListener, TcpStream};

/// A relay on a loopback port to `target`, counting the connections it accepts.
async fn counting_relay(target: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let target = target.clone();
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(&target).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_connection_carries_a_calls_requests_one_after_another() {
    let h = Harness::start().await;
    let emulator = h.emulator.base_url();
    let (relay, accepted) = counting_relay(emulator.trim_start_matches("http://").to_owned()).await;
    let text = h
        .config_text(&vip("[job.delivery]\nmax_in_flight = 1\n"))
        .replace(&emulator, &relay);
    let config = cordial_host::config::parse(&text).unwrap();
    let runtime = Runtime::new(config, h.store()).unwrap();
    let job = runtime.config().job("vip").unwrap().clone();
    let events: Vec<AudienceEvent> = (0..20u64)
        .map(|i| AudienceEvent {
            event_id: i,
            audience: "vip_customers".into(),
            kind: Membership::Enter,
            user: format!(r#"{{"email":"c{i}@example.com"}}"#),
            occurred_at: None,
        })
        .collect();
    let outcomes = runtime.deliver(&job, &events).await.unwrap();
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Delivered)),
        "{outcomes:?}"
    );
    let requests = h.emulator.handle().requests().len();
    assert!(requests > 20, "{requests} requests reached Cordial");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "{requests} requests, one in flight at a time, on one kept-alive connection"
    );
}
