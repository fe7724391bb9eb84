//! What can go wrong, in the terms the job's WIT interface uses.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SftpFailure {
    NotFound(String),
    PermissionDenied(String),
    /// The path leaves the configured folder.
    OutsideRoot(String),
    /// Unreachable server, refused login, unknown host key, dropped connection.
    Connection(String),
    Other(String),
}

impl SftpFailure {
    /// Whether re-opening the connection might help.
    pub fn is_connection(&self) -> bool {
        matches!(self, SftpFailure::Connection(_))
    }

    /// Maps an SFTP-level error for `path`.
    pub(crate) fn from_sftp(path: &str, error: russh_sftp::client::error::Error) -> SftpFailure {
        use russh_sftp::client::error::Error;
        use russh_sftp::protocol::StatusCode;
        match error {
            Error::Status(s) => match s.status_code {
                StatusCode::NoSuchFile => SftpFailure::NotFound(format!("{path}: no such file")),
                StatusCode::PermissionDenied => {
                    SftpFailure::PermissionDenied(format!("{path}: permission denied"))
                }
                StatusCode::ConnectionLost | StatusCode::NoConnection => {
                    SftpFailure::Connection(format!("{path}: {}", s.error_message))
                }
                code => SftpFailure::Other(format!("{path}: {code:?}: {}", s.error_message)),
            },
            Error::IO(m) => SftpFailure::Connection(format!("{path}: connection lost ({m})")),
            Error::Timeout => {
                SftpFailure::Connection(format!("{path}: the server stopped answering"))
            }
            // The session's reader task is gone: the connection dropped under us.
            Error::UnexpectedBehavior(m) if m.contains("dropped") => {
                SftpFailure::Connection(format!("{path}: connection lost ({m})"))
            }
            other => SftpFailure::Other(format!("{path}: {other}")),
        }
    }

    /// Maps an I/O error from a file stream (reads and writes of an open file).
    pub(crate) fn from_io(path: &str, error: std::io::Error) -> SftpFailure {
        match error.kind() {
            std::io::ErrorKind::NotFound => SftpFailure::NotFound(format!("{path}: {error}")),
            std::io::ErrorKind::PermissionDenied => {
                SftpFailure::PermissionDenied(format!("{path}: {error}"))
            }
            _ => SftpFailure::Connection(format!("{path}: {error}")),
        }
    }
}

impl fmt::Display for SftpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SftpFailure::NotFound(m)
            | SftpFailure::PermissionDenied(m)
            | SftpFailure::Connection(m)
            | SftpFailure::Other(m) => f.write_str(m),
            SftpFailure::OutsideRoot(m) => write!(f, "outside the configured folder: {m}"),
        }
    }
}

impl std::error::Error for SftpFailure {}
