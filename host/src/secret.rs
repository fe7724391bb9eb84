//! Secrets (the Cordial API key, SFTP passwords): read from an environment variable or a
//! file, never from the config text itself, and never printed.

use std::fmt;
use std::path::PathBuf;

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
    /// Handed over in code by a platform that embeds the host (a config file never holds
    /// one: it names a variable or a file).
    Given(Secret),
}

impl SecretSource {
    /// Reads the secret now, or says how to provide it.
    pub fn read(&self) -> Result<Secret, String> {
        let value = match self {
            SecretSource::Env(var) => std::env::var(var).map_err(|_| {
                format!("environment variable {var} is not set; export it, or use a *_file setting")
            })?,
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?,
            SecretSource::Given(secret) => secret.expose().to_owned(),
        };
        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(format!("{} is empty", self.describe()));
        }
        Ok(Secret(value))
    }

    fn describe(&self) -> String {
        match self {
            SecretSource::Env(var) => format!("environment variable {var}"),
            SecretSource::File(path) => format!("secret file {}", path.display()),
            SecretSource::Given(_) => "the secret given".to_owned(),
        }
    }
}

/// A secret value. `Debug` and `Display` print a placeholder, so a secret cannot reach a
/// log line by accident; [`Secret::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_format_their_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn a_missing_variable_says_how_to_provide_it() {
        let e = SecretSource::Env("CORDIAL_TEST_SURELY_UNSET_VAR".into())
            .read()
            .unwrap_err();
        assert!(e.contains("CORDIAL_TEST_SURELY_UNSET_VAR is not set"));
    }
}
