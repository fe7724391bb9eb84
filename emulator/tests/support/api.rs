//! What the emulator's SFTP tests share: an emulator that knows a real sshd's client key as
//! a key saved in the account, and JSON calls to it over real HTTP.

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;

use cordial_emulator::{EmulatorConfig, EmulatorHandle, RunningEmulator, start};
use cordial_sftp::sshd::LocalSshd;
use serde_json::Value;

/// The name the emulator knows the sshd's client key by.
pub const SAVED_KEY: &str = "test-key";

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
            http: reqwest::Client::new(),
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
}
