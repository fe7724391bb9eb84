//! Kill the host with SIGKILL while events are in flight, start it again, and every event
//! it had accepted (answered 202) reaches Cordial.

#[path = "support/harness.rs"]
mod harness;
#[path = "support/serving.rs"]
mod serving;

use cordial_host::db::Db;
use harness::{Harness, host_binary};
use serving::{default_payload, wait_drained};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const JOB: &str = r#"
[[job]]
name = "vip"
kind = "export-realtime"
auth = "cordial"
audience = "vip_customers"
[job.delivery]
concurrency = 2
batch_size = 10
"#;

async fn start_host(config: &std::path::Path, addr: &str) -> Child {
    let child = Command::new(host_binary())
        .arg("serve")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Ready when it answers; the host binds only after its settings check.
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the host did not come up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn every_accepted_event_survives_a_sigkill() {
    let h = Harness::start().await;
    // A slow Cordial keeps events in flight long enough to kill the host among them.
    h.emulator.handle().set_latency(Duration::from_millis(40));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let text =
        h.config_text(JOB)
            .replacen("[host]\n", &format!("[host]\nlisten = \"{addr}\"\n"), 1);
    let config = h.dir.path().join("serve.toml");
    std::fs::write(&config, text).unwrap();

    let mut host = start_host(&config, &addr).await;
    let client = reqwest::Client::new();
    let mut accepted = 0;
    for batch in 0..10u64 {
        let items: Vec<String> = (0..20u64)
            .map(|i| {
                default_payload(
                    batch * 100 + i,
                    &format!("k{batch}-{i}@example.com"),
                    "enter",
                    "vip_customers",
                    "",
                )
            })
            .collect();
        let response = client
            .post(format!("http://{addr}/hooks/vip"))
            .body(format!("[{}]", items.join(",")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        accepted += 20;
    }
    host.start_kill().unwrap(); // SIGKILL
    host.wait().await.unwrap();
    let store = Db::open(&h.dir.path().join("store.sqlite")).unwrap();
    let at_kill = store.queue_counts("vip").unwrap();
    assert_eq!(at_kill.pending + at_kill.done, accepted);
    assert!(
        at_kill.pending > 0,
        "the kill came too late to test anything: {at_kill:?}"
    );

    let mut host = start_host(&config, &addr).await;
    let counts = wait_drained(&store, "vip", Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (accepted, 0));
    for batch in 0..10 {
        for i in 0..20 {
            let c = h
                .emulator
                .handle()
                .contact(&format!("email:k{batch}-{i}@example.com"));
            let lists = c.map(|c| c["lists"].clone()).unwrap_or_default();
            assert_eq!(
                lists,
                serde_json::json!(["Lytics_vip_customers"]),
                "k{batch}-{i}"
            );
        }
    }
    host.start_kill().unwrap();
    host.wait().await.unwrap();
}
