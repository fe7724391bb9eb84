//! What the SFTP tests share: an emulator that knows the test sshd's client key as a key
//! saved in Cordial, and the `[auth.cordial.sftp]` table that logs in with that key.

#![allow(dead_code)] // each test binary uses its own part

use crate::harness::Harness;
use cordial_emulator::{EmulatorConfig, Seed};
use cordial_sftp::sshd::LocalSshd;
use std::collections::HashMap;

/// The name the emulator knows the sshd's client key by.
pub const SAVED_KEY: &str = "test-key";

pub async fn harness_for(sshd: &LocalSshd) -> Harness {
    Harness::start_with_config(EmulatorConfig {
        seed: Seed::demo(),
        saved_sftp_keys: HashMap::from([(SAVED_KEY.to_owned(), sshd.client_key())]),
        ..EmulatorConfig::default()
    })
    .await
}

/// Key login to the sshd's files folder, its host key pinned.
pub fn sftp_auth(sshd: &LocalSshd) -> String {
    format!(
        r#"
[auth.cordial.sftp]
host = "127.0.0.1"
port = {port}
username = "{user}"
private_key_file = "{key}"
folder = "{folder}"
host_key = "{fp}"
"#,
        port = sshd.port(),
        user = sshd.user(),
        key = sshd.client_key().display(),
        folder = sshd.files_dir().display(),
        fp = sshd.host_fingerprint(),
    )
}
