//! What the import and export jobs share about SFTP: reading the login out of a
//! request's `source` or `destination` (a password, or a key saved in the account),
//! the client target it makes, and Cordial's message for a login that failed.

use std::collections::HashMap;
use std::path::PathBuf;

use cordial_sftp::{Credential, HostKeyPolicy, SftpFailure, Target};
use serde_json::{Map, Value};

use crate::jobs::fields::text;

/// The SFTP port when `port` is absent.
const DEFAULT_SFTP_PORT: u16 = 22;

/// Where and as whom a job logs in: an import's `source` or an export's `destination`.
#[derive(Debug, Clone)]
pub struct Login {
    pub server: String,
    pub port: u16,
    pub username: String,
    pub credential: Credential,
    /// `path` as given: the file an import reads, the folder an export writes to.
    pub path: String,
}

impl Login {
    /// Reads `server`, `port` (default 22), `username`, `path` and the credential of
    /// the request object named `object` (`source`, `destination`), in that order;
    /// the error is Cordial's message for the first that is missing or bad.
    pub fn parse(
        fields: &Map<String, Value>,
        object: &str,
        saved_keys: &HashMap<String, PathBuf>,
    ) -> Result<Login, String> {
        let required = |key: &str| {
            text(fields, key).ok_or_else(|| format!("The {object}.{key} field is required."))
        };
        let server = required("server")?.trim().to_owned();
        let port = match fields.get("port") {
            None | Some(Value::Null) => DEFAULT_SFTP_PORT,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| {
                    format!("The {object}.port must be an integer between 1 and 65535.")
                })?,
        };
        let username = required("username")?;
        let path = required("path")?;
        let credential = credential(fields, saved_keys)?;
        Ok(Login {
            server,
            port,
            username,
            credential,
            path,
        })
    }

    /// The SFTP client's target, working in `folder`. Any host key is accepted:
    /// Cordial connects to whatever server a customer names.
    pub fn target(&self, folder: String) -> Target {
        Target {
            host: self.server.clone(),
            port: self.port,
            username: self.username.clone(),
            credential: self.credential.clone(),
            folder,
            host_key: HostKeyPolicy::AcceptAny,
        }
    }

    /// Cordial's message when the connection itself failed: the server refused
    /// the credentials (`Can't login to the server (<server>)`) or could not be
    /// reached (`Can't connect to the server (<server>)`). `None` for a failure
    /// past the login, which each job words for itself.
    pub fn failure_message(&self, e: &SftpFailure) -> Option<String> {
        let server = &self.server;
        match e {
            SftpFailure::Connection(_) if is_login_failure(e) => {
                Some(format!("Can't login to the server ({server})"))
            }
            SftpFailure::Connection(_) => Some(format!("Can't connect to the server ({server})")),
            _ => None,
        }
    }
}

/// The login of a source or destination: `savedKey` (a key this emulator was given) wins
/// over `password`; neither is Cordial's "Parameter password is not set".
fn credential(
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
fn is_login_failure(e: &SftpFailure) -> bool {
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
