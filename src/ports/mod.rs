//! What a job needs from outside, as small traits. A job's whole sequence is written once
//! against these; each runtime binds them to what it has:
//!
//! | port | in a component (any runtime) | in native tests |
//! |---|---|---|
//! | [`HttpTransport`] | `wasi:http/outgoing-handler` | `fakes::FakeCordial` |
//! | [`KeyValue`] | `wasi:keyvalue/store` | `fakes::MemoryKeyValue` |
//! | [`Config`] | `wasi:config/store` | `fakes::MemoryConfig` |
//! | [`Log`] | structured lines on `wasi:cli/stderr` | `fakes::RecordingLog` |
//! | [`Clock`] | `wasi:clocks` | `fakes::FakeClock` |
//! | [`Files`] | `cordial:jobs/sftp` | `fakes::MemoryFiles` |
//! | [`Streams`] | `cordial:jobs/streams` | `fakes::MemoryStreams` |
//! | [`Members`] | `cordial:jobs/members` | `fakes::MemoryMembers` |
//!
//! Ports are used as trait objects: each call moves a whole chunk, page or batch, so dynamic
//! dispatch costs nothing measurable, and sequences stay free of type parameters.

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod flat;
pub mod paths;

use crate::cordial::HttpTransport;
use crate::job::JobError;
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::Duration;

/// A port that could not do what was asked (the store is unavailable, the host refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError(pub String);

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Durable key-value state private to one job: cursors, checkpoints, caches. A write is
/// durable when `set` returns.
pub trait KeyValue {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), PortError>;
    /// Forgetting a missing key is not an error.
    fn delete(&mut self, key: &str) -> Result<(), PortError>;
}

/// The job's settings, as the runtime holds them: one text value per top-level setting
/// (tables and lists as JSON text). See [`crate::settings::from_pairs`].
pub trait Config {
    fn get_all(&mut self) -> Result<Vec<(String, String)>, PortError>;
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        [Level::Debug, Level::Info, Level::Warn, Level::Error]
            .into_iter()
            .find(|l| l.as_str() == text)
    }
}

/// The job's log. A job must never log what it was not given: secrets stay in the host.
pub trait Log {
    fn log(&mut self, level: Level, message: &str);
}

/// Wall-clock time and waiting.
pub trait Clock {
    fn now(&mut self) -> DateTime<Utc>;
    fn sleep(&mut self, duration: Duration);
}

/// Why a file operation failed, as the job must react to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The job's authorization has no file server configured.
    NotConfigured(String),
    NotFound(String),
    PermissionDenied(String),
    /// The path leaves the configured folder.
    OutsideRoot(String),
    /// The server could not be reached, refused the login, or dropped the connection.
    Connection(String),
    Other(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, m) = match self {
            FileError::NotConfigured(m) => ("not configured", m),
            FileError::NotFound(m) => ("not found", m),
            FileError::PermissionDenied(m) => ("permission denied", m),
            FileError::OutsideRoot(m) => ("outside the folder", m),
            FileError::Connection(m) => ("connection", m),
            FileError::Other(m) => ("error", m),
        };
        write!(f, "{what}: {m}")
    }
}

/// How a port's failure ends a run: the job's error for it.
impl JobError {
    /// A file-server failure while `doing` something: settings problems are invalid
    /// config, a lost connection is transient, the rest permanent.
    pub fn from_files(doing: &str, error: FileError) -> JobError {
        use FileError as E;
        match error {
            E::NotConfigured(m) | E::OutsideRoot(m) | E::PermissionDenied(m) => {
                JobError::InvalidConfig(format!("SFTP {doing}: {m}"))
            }
            E::Connection(m) => JobError::Transient(format!("SFTP {doing}: {m}")),
            E::NotFound(m) | E::Other(m) => JobError::Permanent(format!("SFTP {doing}: {m}")),
        }
    }

    /// A port failure (state, streams, members): transient, the runtime may recover.
    pub fn from_port(doing: &str, error: PortError) -> JobError {
        JobError::Transient(format!("{doing}: {error}"))
    }
}

/// Where the file server is, as Cordial must be told in an import source or export
/// destination. The password is never here: a job writes
/// [`PASSWORD_PLACEHOLDER`](crate::cordial::jobs::PASSWORD_PLACEHOLDER) and the runtime fills
/// it in on the way to Cordial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub server: String,
    pub port: u16,
    pub username: String,
    /// The configured folder, absolute on the server.
    pub folder: String,
}

/// A directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    pub is_dir: bool,
}

/// A file being written: visible under its name only once `finish` succeeds; dropped
/// unfinished, it leaves nothing behind.
pub trait Upload {
    fn write(&mut self, chunk: &[u8]) -> Result<(), FileError>;
    fn finish(self: Box<Self>) -> Result<(), FileError>;
}

/// A file being read, a chunk at a time.
pub trait Download {
    /// Up to `max` more bytes; empty at the end of the file.
    fn read(&mut self, max: usize) -> Result<Vec<u8>, FileError>;
}

/// The job's folder on the customer's file server (SFTP). Paths are relative to it.
pub trait Files {
    fn describe(&mut self) -> Result<Remote, FileError>;
    /// Where Cordial can fetch the files over HTTPS (`<url>/<path>`), when the runtime
    /// serves them itself (Spin); `None` where [`describe`](Files::describe) names the server.
    fn files_url(&mut self) -> Result<Option<String>, FileError>;
    fn create(&mut self, path: &str) -> Result<Box<dyn Upload + '_>, FileError>;
    fn open(&mut self, path: &str) -> Result<Box<dyn Download + '_>, FileError>;
    fn list_dir(&mut self, dir: &str) -> Result<Vec<FileEntry>, FileError>;
    fn remove(&mut self, path: &str) -> Result<(), FileError>;
}

/// One record for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    /// A record whose key the stream already holds is skipped.
    pub key: Option<String>,
    /// One flat JSON object.
    pub body: String,
}

/// What a stream did with a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmitSummary {
    pub accepted: u32,
    pub duplicates: u32,
    pub rejected: u32,
}

/// Batches' summaries add up to what a flush reports.
impl std::ops::AddAssign for EmitSummary {
    fn add_assign(&mut self, other: EmitSummary) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
    }
}

/// A record that could not be used, kept aside with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub file: String,
    pub line: u64,
    pub reason: String,
    pub text: String,
}

/// The platform's streams.
pub trait Streams {
    /// Hands `records` over to be appended to `stream` (in one transaction, after those
    /// handed over before) without waiting for their commit, so the platform stores them
    /// while the job reads on. An error is an earlier batch that could not be stored.
    fn append(&mut self, stream: &str, records: Vec<StreamRecord>) -> Result<(), PortError>;
    /// Waits until every record appended is durable: a job saves its place only after this
    /// returns `Ok`. What the streams took since the last flush.
    fn flush(&mut self) -> Result<EmitSummary, PortError>;
    fn quarantine(&mut self, stream: &str, entries: &[Quarantined]) -> Result<(), PortError>;
}

/// A member waiting for the job's bulk export: the latest state of one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Rises with every change; a newer change of the same contact gets a higher one.
    pub seq: u64,
    /// In the audience (entered or changed), or left it.
    pub entered: bool,
    /// The user's fields: one JSON object.
    pub user: String,
}

/// The audience members the platform sent for a bulk export.
pub trait Members {
    /// The highest `seq` waiting now, 0 when none is.
    fn high_water(&mut self) -> Result<u64, PortError>;
    /// Waiting members with `after < seq <= up_to`, in `seq` order, at most `limit`.
    fn page(&mut self, after: u64, up_to: u64, limit: u32) -> Result<Vec<Member>, PortError>;
    /// Forgets the members with `seq <= up_to`; returns how many.
    fn acknowledge(&mut self, up_to: u64) -> Result<u64, PortError>;
}

/// The ports every job has, and the call it is making.
pub struct Env<'a> {
    pub ctx: &'a crate::job::RunContext,
    pub http: &'a mut dyn HttpTransport,
    pub state: &'a mut dyn KeyValue,
    pub config: &'a mut dyn Config,
    pub log: &'a mut dyn Log,
    pub clock: &'a mut dyn Clock,
}

impl Env<'_> {
    pub fn info(&mut self, message: &str) {
        self.log.log(Level::Info, message);
    }

    pub fn warn(&mut self, message: &str) {
        self.log.log(Level::Warn, message);
    }
}
