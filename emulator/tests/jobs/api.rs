//! What the job tests share: an emulator that knows a real sshd's client key as a key saved
//! in the account, JSON calls to it over real HTTP, and following the jobs it starts.

use std::collections::HashMap;
use std::time::Duration;

use cordial_emulator::{EmulatorConfig, EmulatorHandle, RunningEmulator, start};
use cordial_sftp::sshd::LocalSshd;
use serde_json::{Value, json};

/// The name the emulator knows the sshd's client key by.
pub const SAVED_KEY: &str = "test-key";
/// How long a job may take before a test gives up (a stuck job, not a slow one).
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub emulator: RunningEmulator,
    pub sshd: LocalSshd,
    key: String,
}

impl Api {
    /// A fresh sshd and an emulator with `config`, its API key `key` and the saved key.
    pub async fn launch(key: &str, config: EmulatorConfig) -> Api {
        let sshd = LocalSshd::start().expect("sshd starts");
        let emulator = start(EmulatorConfig {
            api_key: key.into(),
            saved_sftp_keys: HashMap::from([(SAVED_KEY.to_owned(), sshd.client_key())]),
            ..config
        })
        .await
        .expect("emulator starts");
        Api {
            base: emulator.base_url(),
            http: {
                // reqwest is built without a crypto provider in this workspace.
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::new()
            },
            emulator,
            sshd,
            key: key.into(),
        }
    }

    pub fn handle(&self) -> EmulatorHandle {
        self.emulator.handle()
    }

    /// One call with the API key; the answer's status and JSON (or text) body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(""));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// A job's SFTP login to the sshd as its account with the saved key, at `path`: the
    /// fields an export's destination and an import's source share.
    pub fn key_login(&self, path: &str) -> Value {
        json!({
            "server": "127.0.0.1",
            "port": self.sshd.port(),
            "username": self.sshd.user(),
            "savedKey": SAVED_KEY,
            "path": path,
        })
    }

    /// Posts a job to `route`, expects `status` and a 24-hex job id.
    pub async fn start_job(&self, route: &str, body: Value, status: u16) -> String {
        let (got, answer) = self.post(route, body).await;
        assert_eq!(got, status, "{answer}");
        let id = answer["jobId"].as_str().expect("jobId").to_owned();
        assert!(
            id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
        id
    }

    /// Posts each `(body, status, message)` of `refused` to `route`: each is answered with
    /// that status and Cordial's error envelope carrying that message.
    pub async fn assert_refused(&self, route: &str, refused: Vec<(Value, u16, &str)>) {
        for (body, status, message) in refused {
            let (got, answer) = self.post(route, body).await;
            assert_eq!(got, status, "{message}: {answer}");
            assert_eq!(
                answer,
                json!({"error": true, "errorKey": "GENERIC_ERROR_KEY", "message": message})
            );
        }
    }

    /// Posts `body`, whose login names the saved key `unknown-key`, to `route`: refused with
    /// `status` and a message naming the key the account has.
    pub async fn assert_unknown_saved_key_refused(&self, route: &str, body: Value, status: u16) {
        let (got, answer) = self.post(route, body).await;
        assert_eq!(got, status);
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with("The saved key \"unknown-key\" does not exist.")
                && message.contains(SAVED_KEY),
            "{message}"
        );
    }

    /// The document of the held job `id`: `Pending`, named `job_name`, with `metadata`.
    pub async fn assert_held(&self, id: &str, job_name: &str, metadata: Value) -> Value {
        let (status, doc) = self.get(&format!("/v2/jobs/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(doc["status"], "Pending");
        assert_eq!(doc["_id"], id);
        assert_eq!(doc["jobName"], job_name);
        assert_eq!(doc["metadata"], metadata);
        doc
    }

    /// Waits for the job to finish, then returns its `GET /v2/jobs/{id}` document and the
    /// handle's view (with the emulator-only `failureDetail` and `rejectedRows`).
    pub async fn finished(&self, id: &str) -> (Value, Value) {
        let details = tokio::time::timeout(JOB_TIMEOUT, self.handle().wait_for_job(id))
            .await
            .expect("the job finishes")
            .expect("the job exists");
        let (status, doc) = self.get(&format!("/v2/jobs/{id}")).await;
        assert_eq!(status, 200, "{doc}");
        (doc, details)
    }
}

/// `good` with `change` made to it: a request wrong in one way.
pub fn changed(good: &Value, change: impl FnOnce(&mut Value)) -> Value {
    let mut body = good.clone();
    change(&mut body);
    body
}

/// `good` without the field at `path`.
pub fn without(good: &Value, path: &[&str]) -> Value {
    changed(good, |body| {
        let (last, parents) = path.split_last().unwrap();
        let parent = parents.iter().fold(body, |v, p| &mut v[*p]);
        parent.as_object_mut().unwrap().remove(*last);
    })
}
