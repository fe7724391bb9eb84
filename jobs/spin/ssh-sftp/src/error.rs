//! The one error type of the crate: what went wrong, in words that say what to fix.

use std::fmt;

/// Why an SSH or SFTP operation failed.
///
/// The variants sort failures by who has to act: the network or the server address
/// (`Connection`), the credentials (`Login`), the pinned host key (`HostKey`), a path
/// (`NotFound`, `PermissionDenied`), or anything else the server or the protocol reported
/// (`Other`). Each carries the detail; [`Display`](fmt::Display) turns it into a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The TCP connection or the SSH transport failed, or the server hung up.
    Connection(String),
    /// The server refused the credentials (or the private key could not be read).
    Login(String),
    /// The server's host key is not the pinned one (or the pin cannot be read).
    HostKey(String),
    /// SFTP `NO_SUCH_FILE`: the path does not exist.
    NotFound(String),
    /// SFTP `PERMISSION_DENIED`: the account may not do this to the path.
    PermissionDenied(String),
    /// Any other SFTP status, or a reply the protocol does not allow.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connection(m) => write!(
                f,
                "SSH connection failed: {m}. Check the host and port, and that the server is running and accepts SSH."
            ),
            Error::Login(m) => write!(
                f,
                "SSH login refused: {m}. Check the username and the password or private key."
            ),
            Error::HostKey(m) => write!(
                f,
                "SSH host key check failed: {m}. Make sure this is the right server, then pin its current host key."
            ),
            Error::NotFound(m) => write!(
                f,
                "{m} does not exist on the SFTP server. Check the path (relative paths start at the login's home folder)."
            ),
            Error::PermissionDenied(m) => write!(
                f,
                "the SFTP server denied access to {m}. Check the account's permissions on that path."
            ),
            Error::Other(m) => write!(f, "SFTP failed: {m}."),
        }
    }
}

impl std::error::Error for Error {}
