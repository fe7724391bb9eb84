//! SFTP for the Cordial jobs, on russh.
//!
//! One [`SftpClient`] is one login to one server, confined to one folder:
//! - the server's host key must match the pinned fingerprint; an unknown or changed key is
//!   refused with the fingerprint the operator can pin;
//! - paths are relative to the folder; absolute paths, `..`, and symlinks that resolve
//!   outside it are refused;
//! - an upload is written to a temporary name and renamed into place when finished, so a
//!   reader never sees half a file under its final name;
//! - a dropped connection is re-opened once before an operation gives up.

mod client;
mod connect;
mod error;
mod paths;
/// A throwaway OpenSSH `sshd` on loopback, for tests, benchmarks and the demo; not part of
/// the client a host ships.
#[cfg(feature = "sshd")]
pub mod sshd;

pub use client::{Download, Entry, SftpClient, Upload};
pub use connect::{Credential, HostKeyPolicy, Target};
pub use error::SftpFailure;
pub use paths::{join_inside, relative_path};
