//! Opening one SFTP session: TCP, the host-key check, the login, the `sftp` subsystem.

use crate::SftpFailure;
use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the client logs in.
#[derive(Clone)]
pub enum Credential {
    Password(String),
    /// An OpenSSH private key file (unencrypted).
    PrivateKey(PathBuf),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Password(_) => f.write_str("Password(***)"),
            Credential::PrivateKey(p) => write!(f, "PrivateKey({})", p.display()),
        }
    }
}

/// Which server keys are trusted.
#[derive(Debug, Clone)]
pub enum HostKeyPolicy {
    /// Only the key with this `SHA256:…` fingerprint (as `ssh-keygen -lf` prints it).
    Pinned(String),
    /// Refuse every key, telling the operator the fingerprint to pin (no fingerprint configured).
    Unpinned,
    /// Trust any key. Only the emulator uses this: it plays Cordial, which fetches files from
    /// whatever server a customer names.
    AcceptAny,
}

/// One server login, confined to `folder`.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub credential: Credential,
    /// The folder the caller works in; empty means the login's home directory.
    pub folder: String,
    pub host_key: HostKeyPolicy,
}

/// The russh handler: checks the server key and remembers its fingerprint for the message.
struct KeyCheck {
    policy: HostKeyPolicy,
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for KeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let fingerprint = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.fingerprint(HashAlg::Sha256).to_string()
            }
            PublicKeyOrCertificate::Certificate(c) => {
                c.public_key().fingerprint(HashAlg::Sha256).to_string()
            }
        };
        let trusted = match &self.policy {
            HostKeyPolicy::Pinned(pinned) => pinned.trim() == fingerprint,
            HostKeyPolicy::Unpinned => false,
            HostKeyPolicy::AcceptAny => true,
        };
        *self.seen.lock().expect("fingerprint lock") = Some(fingerprint);
        Ok(trusted)
    }
}

/// A live session; dropping it closes the connection.
pub(crate) struct Session {
    pub sftp: SftpSession,
    _handle: client::Handle<KeyCheck>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// russh's safe defaults, with AES-GCM first where the processor has AES instructions: an
/// export file is hundreds of megabytes, and with AES-NI both ends (ring here, OpenSSL in
/// OpenSSH) encrypt it at several times ChaCha20-Poly1305's cost per byte. Servers without
/// AES-GCM still get ChaCha20-Poly1305 or AES-CTR, as the list goes on.
fn preferred_algorithms() -> russh::Preferred {
    use russh::cipher::{AES_256_GCM, CHACHA20_POLY1305};
    let mut preferred = russh::Preferred::default();
    if has_aes_instructions() {
        let mut ciphers = preferred.cipher.to_vec();
        ciphers.retain(|c| *c != AES_256_GCM);
        let at = ciphers
            .iter()
            .position(|c| *c == CHACHA20_POLY1305)
            .unwrap_or(0);
        ciphers.insert(at, AES_256_GCM);
        preferred.cipher = ciphers.into();
    }
    preferred
}

fn has_aes_instructions() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

pub(crate) async fn open(target: &Target) -> Result<Session, SftpFailure> {
    let place = format!("{}@{}:{}", target.username, target.host, target.port);
    let config = Arc::new(client::Config {
        nodelay: true,
        inactivity_timeout: Some(Duration::from_secs(300)),
        preferred: preferred_algorithms(),
        ..Default::default()
    });
    let seen = Arc::new(Mutex::new(None));
    let handler = KeyCheck {
        policy: target.host_key.clone(),
        seen: seen.clone(),
    };
    let connecting = client::connect(config, (target.host.as_str(), target.port), handler);
    let mut handle = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Err(_) => {
            return Err(SftpFailure::Connection(format!(
                "{place}: no answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
        Ok(Ok(handle)) => handle,
        Ok(Err(e)) => {
            let seen = seen.lock().expect("fingerprint lock").clone();
            return Err(connect_failure(&place, &target.host_key, seen, e));
        }
    };
    let auth = match &target.credential {
        Credential::Password(password) => handle
            .authenticate_password(&target.username, password)
            .await
            .map_err(|e| SftpFailure::Connection(format!("{place}: login failed: {e}")))?,
        Credential::PrivateKey(path) => {
            let key = russh::keys::load_secret_key(path, None).map_err(|e| {
                SftpFailure::Connection(format!(
                    "{place}: cannot use the private key {}: {e}",
                    path.display()
                ))
            })?;
            let hash = handle
                .best_supported_rsa_hash()
                .await
                .map_err(|e| SftpFailure::Connection(format!("{place}: {e}")))?
                .flatten();
            handle
                .authenticate_publickey(
                    &target.username,
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
                .map_err(|e| SftpFailure::Connection(format!("{place}: login failed: {e}")))?
        }
    };
    if !auth.success() {
        let what = match target.credential {
            Credential::Password(_) => "the password",
            Credential::PrivateKey(_) => "the private key",
        };
        return Err(SftpFailure::Connection(format!(
            "{place}: the server refused {what} for user `{}`; check the username and {what}",
            target.username
        )));
    }
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| SftpFailure::Connection(format!("{place}: cannot open a session: {e}")))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| SftpFailure::Connection(format!("{place}: no sftp subsystem: {e}")))?;
    let sftp = SftpSession::new(channel.into_stream())
        .await
        .map_err(|e| SftpFailure::Connection(format!("{place}: sftp did not start: {e}")))?;
    Ok(Session {
        sftp,
        _handle: handle,
    })
}

fn connect_failure(
    place: &str,
    policy: &HostKeyPolicy,
    seen: Option<String>,
    error: russh::Error,
) -> SftpFailure {
    let message = match (policy, seen, &error) {
        (HostKeyPolicy::Unpinned, Some(fp), russh::Error::UnknownKey) => format!(
            "{place}: the server's host key is not pinned. If {fp} is your server's key \
             (check with `ssh-keygen -lf` on the server), add host_key = \"{fp}\" to the sftp settings"
        ),
        (HostKeyPolicy::Pinned(pinned), Some(fp), russh::Error::UnknownKey) => format!(
            "{place}: the server's host key {fp} does not match the pinned {pinned}. \
             If the server's key was changed on purpose, pin host_key = \"{fp}\"; otherwise do not connect"
        ),
        _ => format!("{place}: cannot connect: {error}"),
    };
    SftpFailure::Connection(message)
}
