//! What the import and export jobs share: reading the SFTP login out of a request (a
//! password, or a key saved in the account), telling a refused login from an
//! unreachable server, and failing a job with Cordial's message.

use std::collections::HashMap;
use std::path::PathBuf;

use cordial_sftp::{Credential, SftpFailure};
use serde_json::{Map, Value};

use crate::http::app::App;
use crate::model::job::JobStatus;
use crate::time;

/// Why a job failed: Cordial's message, and the SFTP client's own words for the handle.
pub struct Failure {
    pub message: String,
    pub detail: String,
}

/// Marks the job `Failed` (unless it already finished).
pub fn finish_failed(app: &App, id: &str, kind: &str, failure: Failure) {
    tracing::info!(job = id, message = %failure.message, detail = %failure.detail, "{kind} job failed");
    app.update_job(id, |j| {
        if j.status.is_finished() {
            return;
        }
        j.status = JobStatus::Failed;
        j.ended = Some(time::now());
        j.message = Some(failure.message);
        j.failure_detail = Some(failure.detail);
    });
}

/// A non-blank text (or number) field.
pub fn text(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The login of a source or destination: `savedKey` (a key this emulator was given) wins
/// over `password`; neither is Cordial's "Parameter password is not set".
pub fn credential(
    fields: &Map<String, Value>,
    saved_keys: &HashMap<String, PathBuf>,
) -> Result<Credential, String> {
    match (text(fields, "savedKey"), text(fields, "password")) {
        (Some(name), _) => match saved_keys.get(&name) {
            Some(key) => Ok(Credential::PrivateKey(key.clone())),
            None => {
                let mut known: Vec<&str> = saved_keys.keys().map(String::as_str).collect();
                known.sort_unstable();
                Err(format!(
                    "The saved key \"{name}\" does not exist. (This emulator knows the keys given to it \
                     in EmulatorConfig::saved_sftp_keys: {known:?}.)"
                ))
            }
        },
        (None, Some(password)) => Ok(Credential::Password(password)),
        (None, None) => Err("Parameter password is not set".into()),
    }
}

/// Whether a connection-level failure was the server refusing the credentials
/// (as opposed to no server, or no answer). `cordial_sftp` says so in its message.
pub fn is_login_failure(e: &SftpFailure) -> bool {
    let m = e.to_string();
    m.contains("the server refused")
        || m.contains("login failed")
        || m.contains("cannot use the private key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_failures_are_told_from_connection_failures() {
        let refused = SftpFailure::Connection(
            "u@h:22: the server refused the password for user `u`; check the username and the password".into(),
        );
        assert!(is_login_failure(&refused));
        let down = SftpFailure::Connection(
            "u@h:22: cannot connect: Connection refused (os error 111)".into(),
        );
        assert!(!is_login_failure(&down));
    }
}
