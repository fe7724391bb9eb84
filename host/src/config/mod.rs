//! The host's configuration file (TOML): where the store and the components are, the
//! authorizations (Cordial API key, SFTP), and the jobs with their settings.
//!
//! Loading never stops at the first mistake: [`load`] returns every problem it can find,
//! each naming the place in the file and what to write instead.

mod auth;
mod file;
mod host;
mod job;
mod limits;
mod toml_json;

pub use auth::{AuthConfig, SftpConfig, SftpCredential};
pub use host::HostConfig;
pub use job::{DeliveryConfig, HOST_JOB_KEYS, JobConfig};
pub use limits::Limits;

use std::path::Path;

/// One problem in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `job "activity" → import_since`, `auth "cordial" → api_key_env`.
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Reads and checks the config at `path`; relative paths inside it are taken from the
/// current directory.
pub fn load(path: &Path) -> Result<HostConfig, Vec<Problem>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Problem {
            place: path.display().to_string(),
            message: format!("cannot read the config file: {e}"),
        }]
    })?;
    parse(&text)
}

/// Parses and checks config text.
pub fn parse(text: &str) -> Result<HostConfig, Vec<Problem>> {
    file::parse(text)
}
