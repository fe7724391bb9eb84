//! The per-endpoint rate limit over real HTTP (no sshd needed): an endpoint takes its burst
//! and then gets Cordial's 429 with the seconds to wait, the requests it refuses never
//! reach the account, all contacts share one route's allowance, another endpoint keeps its
//! own, a queued fault comes first and takes no token, and lifting the limit lets requests
//! through again.
//!
//! Nothing here sleeps: the limit refills at one request a second, and the bursts below
//! take a few milliseconds, so no token can come back in the middle of one.

use cordial_emulator::{EmulatorConfig, Fault, RateLimit, RunningEmulator, start};
use serde_json::{Value, json};

const KEY: &str = "rate-limit-key";
const ONE_A_SECOND_BURST_3: RateLimit = RateLimit {
    requests_per_second: 1.0,
    burst: 3,
};

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn launch() -> (RunningEmulator, Client) {
        let emulator = start(EmulatorConfig {
            api_key: KEY.into(),
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator starts");
        // reqwest is built without a crypto provider in this workspace.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client {
            http: reqwest::Client::new(),
            base: emulator.base_url(),
        };
        (emulator, client)
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(KEY, Some(""))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    async fn upsert(&self, i: usize) -> reqwest::Response {
        let body = json!({"channels": {"email": {"address": format!("r{i}@example.com")}}});
        self.send(reqwest::Method::POST, "/v2/contacts", body).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_beyond_its_allowance_gets_429_with_the_wait_and_others_do_not() {
    let (emulator, client) = Client::launch().await;
    let handle = emulator.handle();
    handle.set_rate_limit(Some(ONE_A_SECOND_BURST_3));

    let mut answers = Vec::new();
    for i in 0..10 {
        answers.push(client.upsert(i).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses[..3].iter().all(|s| *s != 429) && statuses[3..].iter().all(|s| *s == 429),
        "the burst passes, then every request is refused: {statuses:?}"
    );
    for r in answers.drain(3..) {
        let headers = r.headers();
        assert_eq!(headers["retry-after"], "1", "a token a second");
        assert_eq!(headers["x-rate-limit-limit"], "3", "the burst");
        assert_eq!(headers["x-rate-limit-remaining"], "0");
        assert_eq!(headers["x-rate-limit-reset"], "1");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"error": true, "errorKey": "TOO_MANY_REQUESTS", "message": "Too Many Requests"}),
            "the body of Fault::RateLimited"
        );
    }
    assert_eq!(handle.contact_count(), 3, "refused upserts change nothing");
    let logged = handle.requests();
    assert_eq!(logged.len(), 10, "refusals are in the request log");
    let faults: Vec<Option<u16>> = logged.iter().map(|r| r.fault_status).collect();
    assert_eq!(faults[..3], [None; 3]);
    assert_eq!(faults[3..], [Some(429); 7]);

    let lists = client
        .send(reqwest::Method::GET, "/v2/accountlists", Value::Null)
        .await;
    assert_eq!(lists.status(), 200, "another endpoint has its own bucket");

    handle.set_rate_limit(None);
    for i in 10..20 {
        let status = client.upsert(i).await.status();
        assert!(status.is_success(), "no limit, no refusal: {status}");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_contact_shares_its_routes_allowance() {
    let (emulator, client) = Client::launch().await;
    for i in 0..4 {
        assert!(client.upsert(i).await.status().is_success());
    }
    emulator.handle().set_rate_limit(Some(ONE_A_SECOND_BURST_3));
    let mut statuses = Vec::new();
    for i in 0..4 {
        let path = format!("/v2/contacts/email:r{i}@example.com");
        let answer = client.send(reqwest::Method::PUT, &path, json!({})).await;
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429],
        "three contacts take the burst of `PUT /v2/contacts/{{id}}`, the fourth finds it empty"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_fault_answers_first_and_takes_no_token() {
    let (emulator, client) = Client::launch().await;
    let handle = emulator.handle();
    handle.set_rate_limit(Some(ONE_A_SECOND_BURST_3));
    handle.inject(Fault::RateLimited {
        retry_after_secs: 7,
        count: 1,
    });
    let first = client.upsert(0).await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "7", "the fault's answer");
    let mut statuses = Vec::new();
    for i in 1..5 {
        statuses.push(client.upsert(i).await.status().as_u16());
    }
    assert!(
        statuses[..3].iter().all(|s| *s != 429) && statuses[3] == 429,
        "the whole burst is left after the fault: {statuses:?}"
    );
    assert_eq!(handle.requests()[0].fault_status, Some(429));
    emulator.shutdown().await;
}
