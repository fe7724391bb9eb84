//! The per-endpoint rate limit over real HTTP: an endpoint takes its burst and then gets
//! Cordial's 429 with the seconds to wait, another endpoint keeps its own allowance, and
//! lifting the limit lets requests through again.

use cordial_emulator::{EmulatorConfig, RateLimit, start};
use serde_json::json;

const KEY: &str = "rate-limit-key";

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_beyond_its_allowance_gets_429_with_the_wait_and_others_do_not() {
    let emulator = start(EmulatorConfig {
        api_key: KEY.into(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = emulator.base_url();
    let upsert = |i: usize| {
        http.post(format!("{base}/v2/contacts"))
            .basic_auth(KEY, Some(""))
            .json(&json!({"channels": {"email": {"address": format!("r{i}@example.com")}}}))
            .send()
    };
    emulator.handle().set_rate_limit(Some(RateLimit {
        requests_per_second: 2.0,
        burst: 3,
    }));

    let mut answers = Vec::new();
    for i in 0..10 {
        answers.push(upsert(i).await.unwrap());
    }
    let limited: Vec<_> = answers.iter().filter(|r| r.status() == 429).collect();
    assert_eq!(answers.len() - limited.len(), 3, "the burst passes");
    assert_eq!(limited.len(), 7);
    for r in &limited {
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(r.headers()["x-rate-limit-limit"], "3");
        assert_eq!(r.headers()["x-rate-limit-remaining"], "0");
    }
    let logged = emulator.handle().requests();
    assert_eq!(
        logged.iter().filter(|r| r.fault_status == Some(429)).count(),
        7,
        "refusals are in the request log"
    );

    let lists = http
        .get(format!("{base}/v2/accountlists"))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(lists.status(), 200, "another endpoint has its own bucket");

    emulator.handle().set_rate_limit(None);
    assert!(upsert(99).await.unwrap().status().is_success());
    emulator.shutdown().await;
}
