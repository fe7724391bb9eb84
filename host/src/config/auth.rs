//! `[auth.<name>]`: a Cordial API key and origin, and the SFTP server the file jobs use.

use super::Problem;
use crate::secret::SecretSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// An authorization: a Cordial API key, and the SFTP server for the file-based jobs.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub name: String,
    /// Cordial's REST base without `/v2`, e.g. `https://api.cordial.io`.
    pub base_url: String,
    pub api_key: SecretSource,
    pub sftp: Option<SftpConfig>,
}

impl AuthConfig {
    /// An authorization without SFTP (enough for the real-time and capture jobs).
    pub fn new(name: &str, base_url: &str, api_key: SecretSource) -> AuthConfig {
        AuthConfig {
            name: name.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            sftp: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SftpConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub credential: SftpCredential,
    /// The folder jobs work in; empty means the login's home directory.
    pub folder: String,
    /// The server's host key fingerprint (`SHA256:…`) to pin.
    pub host_key: Option<String>,
}

#[derive(Debug, Clone)]
pub enum SftpCredential {
    Password(SecretSource),
    PrivateKey(PathBuf),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    base_url: Option<String>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    sftp: Option<RawSftp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSftp {
    host: String,
    port: Option<u16>,
    username: String,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    private_key_file: Option<PathBuf>,
    #[serde(default)]
    folder: String,
    host_key: Option<String>,
}

/// Every `[auth.<name>]` table that reads well, telling `problem` (place, message) of the
/// rest. Not tables at all is one problem that ends the reading.
pub(super) fn read_auths(
    section: Option<&toml::Value>,
    problem: &mut impl FnMut(&str, String),
) -> Result<BTreeMap<String, AuthConfig>, Problem> {
    let mut auths = BTreeMap::new();
    let Some(section) = section else {
        return Ok(auths);
    };
    let Some(table) = section.as_table() else {
        return Err(Problem {
            place: "auth".into(),
            message: "write authorizations as [auth.<name>] tables".into(),
        });
    };
    for (name, value) in table {
        let place = format!("auth \"{name}\"");
        match value.clone().try_into::<RawAuth>() {
            Err(e) => problem(&place, e.to_string()),
            Ok(raw) => match auth_from_raw(name, raw) {
                Ok(auth) => {
                    auths.insert(name.clone(), auth);
                }
                Err(messages) => messages.into_iter().for_each(|m| problem(&place, m)),
            },
        }
    }
    Ok(auths)
}

fn auth_from_raw(name: &str, raw: RawAuth) -> Result<AuthConfig, Vec<String>> {
    let mut messages = Vec::new();
    let base_url =
        match normalise_base_url(raw.base_url.as_deref().unwrap_or("https://api.cordial.io")) {
            Ok(u) => u,
            Err(m) => {
                messages.push(m);
                String::new()
            }
        };
    let api_key = match (raw.api_key_env, raw.api_key_file) {
        (Some(var), None) => Some(SecretSource::Env(var)),
        (None, Some(path)) => Some(SecretSource::File(path)),
        (Some(_), Some(_)) => {
            messages.push("set api_key_env or api_key_file, not both".into());
            None
        }
        (None, None) => {
            messages.push(
                "needs the Cordial API key: api_key_env = \"CORDIAL_API_KEY\" or api_key_file = \"/path/to/key\"".into(),
            );
            None
        }
    };
    let sftp = raw.sftp.and_then(|s| match sftp_from_raw(s) {
        Ok(s) => Some(s),
        Err(m) => {
            messages.push(format!("sftp: {m}"));
            None
        }
    });
    match api_key {
        Some(api_key) if messages.is_empty() => Ok(AuthConfig {
            name: name.to_owned(),
            base_url,
            api_key,
            sftp,
        }),
        _ => Err(messages),
    }
}

fn sftp_from_raw(raw: RawSftp) -> Result<SftpConfig, String> {
    let credential = match (raw.password_env, raw.password_file, raw.private_key_file) {
        (Some(var), None, None) => SftpCredential::Password(SecretSource::Env(var)),
        (None, Some(path), None) => SftpCredential::Password(SecretSource::File(path)),
        (None, None, Some(path)) => SftpCredential::PrivateKey(path),
        _ => {
            return Err(
                "set exactly one of password_env, password_file or private_key_file".into(),
            );
        }
    };
    if raw.host.trim().is_empty() {
        return Err("host must not be empty".into());
    }
    Ok(SftpConfig {
        host: raw.host,
        port: raw.port.unwrap_or(22),
        username: raw.username,
        credential,
        folder: raw.folder,
        host_key: raw.host_key,
    })
}

/// `https://api.cordial.io/v2/` and friends → `https://api.cordial.io`.
fn normalise_base_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v2").unwrap_or(trimmed);
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("base_url `{url}` must start with https:// (or http:// for a local emulator)")
        })?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!(
            "base_url `{url}` must be just the origin, e.g. https://api.cordial.io"
        ));
    }
    if rest.contains("admin.cordial.io") {
        return Err(format!(
            "base_url `{url}` is Cordial's admin UI, not its API; use https://api.cordial.io (or https://api.usw2.cordial.io)"
        ));
    }
    Ok(trimmed.to_owned())
}
