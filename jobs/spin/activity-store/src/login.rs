//! Where the adapter logs in, from the entry's variables (hidden from the job by the
//! settings scope): `ingress_sftp_server`, `ingress_sftp_port` (22), `ingress_sftp_username`,
//! `ingress_sftp_password` (a secret), `ingress_sftp_folder` (the login's home when empty)
//! and `ingress_sftp_host_key`, the server's key pinned as `SHA256:…` or an OpenSSH
//! public-key line (`ssh-keyscan` prints it): the adapter talks to no server it cannot
//! recognise.

use crate::exports::cordial::jobs::sftp::SftpError;
use cordial_spin_glue::settings::Variables;
use cordial_ssh_sftp::{Credential, HostKey};

/// The SSH login and the folder the job works in.
pub struct Login {
    pub ssh: cordial_ssh_sftp::Login,
    pub folder: String,
}

pub fn read() -> Result<Login, SftpError> {
    let vars = Variables::read().map_err(SftpError::NotConfigured)?;
    let required = |name: &str, what: &str| {
        vars.ingress(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| {
                SftpError::NotConfigured(format!("set the Spin variable `ingress_{name}` ({what})"))
            })
    };
    let port = vars
        .ingress_number("sftp_port", 22)
        .ok()
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            SftpError::NotConfigured(
                "the Spin variable `ingress_sftp_port` must be a port number (1-65535)".into(),
            )
        })?;
    Ok(Login {
        ssh: cordial_ssh_sftp::Login {
            host: required("sftp_server", "the SFTP server Cordial exports to")?,
            port,
            username: required("sftp_username", "the SFTP login")?,
            credential: Credential::Password(required("sftp_password", "the SFTP password")?),
            host_key: HostKey::Pinned(required(
                "sftp_host_key",
                "the server's host key, `SHA256:…` or the line `ssh-keyscan` prints",
            )?),
        },
        folder: vars.ingress("sftp_folder").unwrap_or("").trim().to_owned(),
    })
}
