//! What the experience-capture tests share: an account with the attribute and list the
//! jobs use, submitting to `POST /capture/<job>`, seeding contacts in the emulator, and
//! reading the contacts back.

use crate::harness::{API_KEY, Harness};
use crate::http::post;
use cordial_emulator::{AttributeSeed, AttributeType, Seed};
use serde_json::{Value, json};
use std::collections::HashSet;

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

/// The `[[job]]` table of the experience-capture job `name`, followed by `settings`: more
/// `key = value` lines, then tables such as `[job.field_mapping]`.
pub fn capture_job(name: &str, settings: &str) -> String {
    format!(
        "\n[[job]]\nname = \"{name}\"\nkind = \"experience-capture\"\nauth = \"cordial\"\n\
         {settings}"
    )
}

pub async fn start() -> Harness {
    Harness::start_with(seed()).await
}

/// Posts and expects a 202; the submission ids.
pub async fn submit(url: &str, body: &Value) -> Vec<String> {
    submit_with(url, body, &[]).await
}

/// [`submit`] with headers.
pub async fn submit_with(url: &str, body: &Value, headers: &[(&str, &str)]) -> Vec<String> {
    let (status, answer) = post(url, body.to_string(), headers).await;
    assert_eq!(status, 202, "{body} → {answer}");
    assert_eq!(
        answer["accepted"],
        answer["submission_ids"].as_array().unwrap().len()
    );
    serde_json::from_value(answer["submission_ids"].clone()).unwrap()
}

/// Writes contacts straight to the emulator, as Cordial's UI or another system would, each
/// with `first_name = "Seeded"`. Clones share one connection pool.
#[derive(Clone)]
pub struct ContactSeeder {
    client: reqwest::Client,
    contacts_url: String,
}

impl ContactSeeder {
    pub fn new(h: &Harness) -> ContactSeeder {
        ContactSeeder {
            client: crate::http::client(),
            contacts_url: format!("{}/v2/contacts", h.emulator.base_url()),
        }
    }

    /// A contact with `channels` as given, identified by its SMS number when `by_sms`.
    pub async fn seed(&self, channels: Value, by_sms: bool) {
        let mut body = json!({"channels": channels, "first_name": "Seeded"});
        if by_sms {
            body["identifyBy"] = json!(["channels.sms.address"]);
        }
        let response = self
            .client
            .post(&self.contacts_url)
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
pub fn force_subscribed(h: &Harness) -> HashSet<String> {
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
