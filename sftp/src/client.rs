//! The operations a job may do in its folder, with one reconnect on a dropped connection.

use crate::connect::{self, Session};
use crate::paths::{join_inside, relative_path};
use crate::{SftpFailure, Target};
use russh_sftp::client::fs::File;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub is_dir: bool,
    /// Seconds since the Unix epoch.
    pub modified: Option<u64>,
}

/// A file being written under a temporary name; [`SftpClient::finish`] publishes it.
pub struct Upload {
    file: File,
    temporary: String,
    destination: String,
    written: u64,
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), SftpFailure> {
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| SftpFailure::from_io(&self.destination, e))?;
        self.written += chunk.len() as u64;
        Ok(())
    }
}

/// The largest read a caller gets at once.
const MAX_READ: usize = 4 << 20;

/// A file being read, one chunk ahead: while the caller works on a chunk, the next one
/// (of the size last asked for) is already on its way, so the server's reads, the network
/// and the decryption overlap the caller's work instead of adding to it. At most one chunk
/// is held ahead.
pub struct Download {
    path: String,
    reading: Reading,
}

/// A background read's result, with the file it read from.
type ChunkRead = (Box<File>, Result<Vec<u8>, SftpFailure>);

enum Reading {
    /// Nothing under way: the next read goes to the server.
    Idle(Box<File>),
    /// The next chunk, being read in the background (the task holds the file meanwhile).
    Ahead(tokio::task::JoinHandle<ChunkRead>),
    /// The end of the file was reached.
    Ended,
    /// A background read could not finish (its task was lost): the file is gone.
    Lost(String),
}

impl Download {
    fn new(file: File, path: &str) -> Download {
        Download {
            path: path.to_owned(),
            reading: Reading::Idle(Box::new(file)),
        }
    }

    /// Up to `max` more bytes; empty at the end of the file. A chunk read ahead for a larger
    /// `max` than this call's is returned whole (callers take what they are given).
    pub async fn read(&mut self, max: usize) -> Result<Vec<u8>, SftpFailure> {
        let max = max.clamp(1, MAX_READ);
        let (file, chunk) = match std::mem::replace(&mut self.reading, Reading::Ended) {
            Reading::Ended => return Ok(Vec::new()),
            Reading::Lost(why) => {
                self.reading = Reading::Lost(why.clone());
                return Err(SftpFailure::Connection(why));
            }
            Reading::Idle(mut file) => {
                let chunk = fill(&mut file, &self.path, max).await;
                (file, chunk)
            }
            Reading::Ahead(task) => match task.await {
                Ok(done) => done,
                Err(e) => {
                    let why = format!("reading {}: {e}", self.path);
                    self.reading = Reading::Lost(why.clone());
                    return Err(SftpFailure::Connection(why));
                }
            },
        };
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                // The caller may try again: the file stays, never an early "end".
                self.reading = Reading::Idle(file);
                return Err(e);
            }
        };
        if !chunk.is_empty() {
            let path = self.path.clone();
            self.reading = Reading::Ahead(tokio::spawn(async move {
                let mut file = file;
                let next = fill(&mut file, &path, max).await;
                (file, next)
            }));
        }
        Ok(chunk)
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if let Reading::Ahead(task) = &self.reading {
            task.abort();
        }
    }
}

/// Up to `max` bytes from `file`, filling the buffer as far as the stream allows so that
/// callers get big chunks.
async fn fill(file: &mut File, path: &str, max: usize) -> Result<Vec<u8>, SftpFailure> {
    let mut buffer = vec![0; max];
    let mut filled = 0;
    while filled < buffer.len() {
        let n = file
            .read(&mut buffer[filled..])
            .await
            .map_err(|e| SftpFailure::from_io(path, e))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buffer.truncate(filled);
    Ok(buffer)
}

/// One login to one server, confined to the target's folder. Connects on first use.
pub struct SftpClient {
    target: Target,
    session: Option<Session>,
    /// The folder as the server resolves it (absolute), once connected.
    root: Option<String>,
}

impl SftpClient {
    pub fn new(target: Target) -> SftpClient {
        SftpClient {
            target,
            session: None,
            root: None,
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Connects now (it otherwise happens on first use); useful to check the settings.
    pub async fn connect(&mut self) -> Result<String, SftpFailure> {
        self.ensure_session().await?;
        Ok(self.root.clone().unwrap_or_default())
    }

    /// The configured folder as an absolute path on the server.
    pub async fn resolved_root(&mut self) -> Result<String, SftpFailure> {
        self.connect().await
    }

    async fn ensure_session(&mut self) -> Result<(), SftpFailure> {
        if self.session.is_some() {
            return Ok(());
        }
        let session = connect::open(&self.target).await?;
        let folder = if self.target.folder.trim().is_empty() {
            "."
        } else {
            self.target.folder.trim()
        };
        let root = session.sftp.canonicalize(folder).await.map_err(|e| {
            SftpFailure::from_sftp(folder, e).with_hint("check the sftp `folder` setting")
        })?;
        self.root = Some(root);
        self.session = Some(session);
        Ok(())
    }

    /// Drops a dead session and opens a new one.
    async fn reconnect(&mut self, error: &SftpFailure) -> Result<(), SftpFailure> {
        tracing::info!(%error, "sftp connection dropped; reconnecting once");
        self.session = None;
        self.ensure_session().await
    }

    fn parts(&self) -> (&Session, String) {
        (
            self.session.as_ref().expect("connected"),
            self.root.clone().unwrap_or_default(),
        )
    }

    /// Starts writing `path`: the bytes go to a temporary file beside it.
    pub async fn create(&mut self, path: &str) -> Result<Upload, SftpFailure> {
        retry_once!(self, create_once, path)
    }

    /// Closes the temporary file and renames it to its final name (replacing an older file
    /// of that name).
    pub async fn finish(&mut self, mut upload: Upload) -> Result<u64, SftpFailure> {
        let destination = upload.destination.clone();
        upload
            .file
            .shutdown()
            .await
            .map_err(|e| SftpFailure::from_io(&destination, e))?;
        drop(upload.file);
        let session = self.session.as_ref().ok_or_else(|| {
            SftpFailure::Connection(format!("{destination}: the connection was lost"))
        })?;
        // SFTP v3 rename refuses to replace; a leftover from an earlier attempt goes first.
        match session.sftp.remove_file(destination.clone()).await {
            Ok(()) => {}
            Err(e) => match SftpFailure::from_sftp(&destination, e) {
                SftpFailure::NotFound(_) => {}
                other => return Err(other),
            },
        }
        session
            .sftp
            .rename(upload.temporary.clone(), destination.clone())
            .await
            .map_err(|e| SftpFailure::from_sftp(&destination, e))?;
        Ok(upload.written)
    }

    /// Removes what an unfinished upload left behind (best effort).
    pub async fn abandon(&mut self, upload: Upload) {
        let temporary = upload.temporary.clone();
        drop(upload);
        if let Some(session) = &self.session
            && let Err(e) = session.sftp.remove_file(temporary.clone()).await
        {
            tracing::debug!(%temporary, error = %e, "could not remove an abandoned upload");
        }
    }

    /// Opens `path` for reading.
    pub async fn open(&mut self, path: &str) -> Result<Download, SftpFailure> {
        retry_once!(self, open_once, path)
    }

    /// The entries of `dir` (without `.` and `..`), sorted by name.
    pub async fn list_dir(&mut self, dir: &str) -> Result<Vec<Entry>, SftpFailure> {
        retry_once!(self, list_dir_once, dir)
    }

    /// Removes the file `path`.
    pub async fn remove(&mut self, path: &str) -> Result<(), SftpFailure> {
        retry_once!(self, remove_once, path)
    }
}

/// Runs one operation, and once more on a fresh connection if the first try found the
/// connection dead.
macro_rules! retry_once {
    ($client:ident, $op:ident, $arg:expr) => {{
        $client.ensure_session().await?;
        let first = {
            let (session, root) = $client.parts();
            $op(session, &root, $arg).await
        };
        match first {
            Err(e) if e.is_connection() => {
                $client.reconnect(&e).await?;
                let (session, root) = $client.parts();
                $op(session, &root, $arg).await
            }
            other => other,
        }
    }};
}
use retry_once;

async fn create_once(session: &Session, root: &str, path: &str) -> Result<Upload, SftpFailure> {
    let destination = join_inside(root, path)?;
    check_parent_inside(session, root, &destination).await?;
    let temporary = temporary_name(&destination);
    let file = session
        .sftp
        .create(temporary.clone())
        .await
        .map_err(|e| SftpFailure::from_sftp(path, e))?;
    Ok(Upload {
        file,
        temporary,
        destination,
        written: 0,
    })
}

async fn open_once(session: &Session, root: &str, path: &str) -> Result<Download, SftpFailure> {
    let full = join_inside(root, path)?;
    check_inside(session, root, &full, path).await?;
    let file = session
        .sftp
        .open(full)
        .await
        .map_err(|e| SftpFailure::from_sftp(path, e))?;
    Ok(Download::new(file, path))
}

async fn list_dir_once(
    session: &Session,
    root: &str,
    dir: &str,
) -> Result<Vec<Entry>, SftpFailure> {
    let full = join_inside(root, dir)?;
    check_inside(session, root, &full, dir).await?;
    let listing = session
        .sftp
        .read_dir(full)
        .await
        .map_err(|e| SftpFailure::from_sftp(dir, e))?;
    let mut entries: Vec<Entry> = listing
        .into_iter()
        .filter(|e| e.file_name() != "." && e.file_name() != "..")
        .map(|e| {
            let meta = e.metadata();
            Entry {
                name: e.file_name(),
                size: meta.size.unwrap_or(0),
                is_dir: meta.is_dir(),
                modified: meta.mtime.map(u64::from),
            }
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

async fn remove_once(session: &Session, root: &str, path: &str) -> Result<(), SftpFailure> {
    let full = join_inside(root, path)?;
    check_parent_inside(session, root, &full).await?;
    session
        .sftp
        .remove_file(full)
        .await
        .map_err(|e| SftpFailure::from_sftp(path, e))
}

/// `dir/name` → `dir/.name.part`: hidden, and never matched by a reader's `*.csv`.
fn temporary_name(destination: &str) -> String {
    match destination.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}.part"),
        None => format!(".{destination}.part"),
    }
}

/// Resolves `full` on the server (following symlinks) and refuses it when it lies outside.
async fn check_inside(
    session: &Session,
    root: &str,
    full: &str,
    shown: &str,
) -> Result<(), SftpFailure> {
    let resolved = session
        .sftp
        .canonicalize(full.to_owned())
        .await
        .map_err(|e| SftpFailure::from_sftp(shown, e))?;
    match relative_path(root, &resolved) {
        Some(_) => Ok(()),
        None => Err(SftpFailure::OutsideRoot(format!(
            "`{shown}` leads to {resolved} through a symlink"
        ))),
    }
}

/// The same check for the directory a new or removed file lives in.
async fn check_parent_inside(session: &Session, root: &str, full: &str) -> Result<(), SftpFailure> {
    match full.rsplit_once('/') {
        Some((parent, _)) if parent != root.trim_end_matches('/') && !parent.is_empty() => {
            check_inside(session, root, parent, parent).await
        }
        _ => Ok(()),
    }
}

impl SftpFailure {
    fn with_hint(self, hint: &str) -> SftpFailure {
        match self {
            SftpFailure::NotFound(m) => SftpFailure::NotFound(format!("{m}; {hint}")),
            SftpFailure::PermissionDenied(m) => {
                SftpFailure::PermissionDenied(format!("{m}; {hint}"))
            }
            other => other,
        }
    }
}
