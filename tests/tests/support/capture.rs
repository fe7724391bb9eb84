//! What the experience-capture tests share: an account with the attribute and list the
//! jobs use, posting submissions to `POST /capture/<job>`, seeding contacts in the
//! emulator, and waiting for a job's queue to be worked off.

#![allow(dead_code)] // each test binary uses its own part

use super::harness::{API_KEY, Harness};
use cordial_emulator::{AttributeSeed, AttributeType, Seed};
use cordial_host::db::{Db, QueueCounts};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

/// The string attribute that receives the opt-in status.
pub const OPT_IN_ATTRIBUTE: &str = "quiz_opt_in";
/// The list every sent contact joins.
pub const LIST: &str = "quiz_list";

/// The demo account plus `quiz_opt_in` and the `quiz_list` list.
pub fn seed() -> Seed {
    let mut seed = Seed::demo();
    seed.attributes.push(AttributeSeed::new(
        OPT_IN_ATTRIBUTE,
        "Quiz opt-in",
        AttributeType::String,
    ));
    seed.lists.push(LIST.into());
    seed
}

pub async fn start() -> Harness {
    Harness::start_with(seed()).await
}

pub fn capture_url(addr: SocketAddr, job: &str) -> String {
    format!("http://{addr}/capture/{job}")
}

/// Posts `body` (JSON text) with optional headers; the status and the JSON answer.
pub async fn post_with(url: &str, body: String, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn post(url: &str, body: &Value) -> (u16, Value) {
    post_with(url, body.to_string(), &[]).await
}

/// Posts and expects a 202; the submission ids.
pub async fn submit(url: &str, body: &Value) -> Vec<String> {
    submit_with(url, body, &[]).await
}

/// [`submit`] with headers.
pub async fn submit_with(url: &str, body: &Value, headers: &[(&str, &str)]) -> Vec<String> {
    let (status, answer) = post_with(url, body.to_string(), headers).await;
    assert_eq!(status, 202, "{body} → {answer}");
    assert_eq!(
        answer["accepted"],
        answer["submission_ids"].as_array().unwrap().len()
    );
    serde_json::from_value(answer["submission_ids"].clone()).unwrap()
}

/// Writes a contact straight to the emulator (as Cordial's UI or another system would):
/// `channels` as given, `first_name = "Seeded"`.
pub async fn seed_contact(h: &Harness, channels: Value, identify_by_sms: bool) {
    let mut body = json!({"channels": channels, "first_name": "Seeded"});
    if identify_by_sms {
        body["identifyBy"] = json!(["channels.sms.address"]);
    }
    let response = reqwest::Client::new()
        .post(format!("{}/v2/contacts", h.emulator.base_url()))
        .basic_auth(API_KEY, Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "seeding {body}: {}",
        response.text().await.unwrap()
    );
}

/// Waits until `job` has decided `expected` submissions and has none pending.
pub async fn wait_settled(store: &Db, job: &str, expected: u64, limit: Duration) -> QueueCounts {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let counts = store.queue_counts(job).unwrap();
        if counts.pending == 0 && counts.done + counts.dead >= expected {
            return counts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue of `{job}` was not worked off: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The contact as the emulator holds it, by email or SMS number.
pub fn contact(h: &Harness, identity: &str) -> Option<Value> {
    let key = if identity.starts_with('+') {
        format!("channels.sms.address:{identity}")
    } else {
        format!("email:{identity}")
    };
    h.emulator.handle().contact(&key)
}

/// The identities whose `POST /v2/contacts` carried `forceSubscribe: true`.
pub fn force_subscribed(h: &Harness) -> std::collections::HashSet<String> {
    h.emulator
        .handle()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/contacts")
        .filter(|r| r.body.get("forceSubscribe") == Some(&Value::Bool(true)))
        .flat_map(|r| {
            ["email", "sms"]
                .into_iter()
                .filter_map(|c| r.body["channels"][c]["address"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}
