//! A small blocking SSH + SFTP (version 3) client over any `Read + Write` stream.
//!
//! Why this crate: the jobs run as WebAssembly components under Spin, where outbound TCP is
//! `wasi:sockets` (a plain blocking [`std::net::TcpStream`] on `wasm32-wasip2`) and there is
//! no async runtime, no C compiler and no OS SSH. So the SSH transport is
//! [sunset](https://docs.rs/sunset), a pure-Rust, IO-less SSH implementation (curve25519 or
//! ML-KEM hybrid key exchange, chacha20-poly1305 or AES, Ed25519 host keys), driven here over
//! a blocking stream; the SFTP protocol on top (draft-ietf-secsh-filexfer-02) is implemented
//! in this crate. The same code runs natively, which is how it is tested
//! against a real OpenSSH server.
//!
//! ```no_run
//! use cordial_ssh_sftp::{Credential, HostKey, Login, Sftp};
//! let login = Login {
//!     host: "sftp.example.com".into(),
//!     port: 22,
//!     username: "alice".into(),
//!     credential: Credential::Password("secret".into()),
//!     host_key: HostKey::Pinned("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s".into()),
//! };
//! let mut sftp = Sftp::connect(&login)?;
//! for entry in sftp.list_dir("incoming")? {
//!     println!("{} {} bytes", entry.name, entry.size);
//! }
//! # Ok::<(), cordial_ssh_sftp::Error>(())
//! ```
//!
//! One request is answered before the next method returns, but large reads and writes are
//! split into [`CHUNK`]-sized requests that are kept in flight together, so a transfer does
//! not wait one round trip per chunk.
//!
//! Known limit: sunset 0.6 offers the server a fixed 1000-byte receive window per channel,
//! so downloads move about 1000 bytes per network round trip (fast on a LAN, slow across
//! continents); uploads use the server's window (2 MiB with OpenSSH) and are not limited so.

mod error;
mod ssh;
mod wire;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;

pub use error::Error;
use ssh::Session;
use wire::{Reply, Request};

/// The most data one READ or WRITE request carries: the packet size every SFTP server must
/// accept (the draft guarantees 34000 bytes per packet), so no server splits or refuses it.
pub const CHUNK: usize = 32 * 1024;

/// How many READ or WRITE requests are in flight at once: enough to keep the connection
/// busy, few enough that a server's queue (OpenSSH allows far more) is never the limit.
const IN_FLIGHT: usize = 16;

/// How to prove who we are.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Password(String),
    /// An unencrypted OpenSSH private key, the text of the file `ssh-keygen -t ed25519` writes
    /// (`-----BEGIN OPENSSH PRIVATE KEY-----` …).
    Ed25519Key(String),
}

/// Secrets stay out of logs and panics.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Password(_) => f.write_str("Password(..)"),
            Credential::Ed25519Key(_) => f.write_str("Ed25519Key(..)"),
        }
    }
}

/// Which server host key to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKey {
    /// Accept only this key: an OpenSSH public-key line (`ssh-ed25519 AAAA…`, as in
    /// `known_hosts` or `/etc/ssh/ssh_host_ed25519_key.pub`) or its fingerprint
    /// `SHA256:…` (as `ssh-keygen -lf` prints it).
    Pinned(String),
    /// Accept whatever key the server shows. Only for tests and first contact: anyone who can
    /// intercept the connection can then read the credentials and the files.
    AcceptAny,
}

/// Where to connect and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub credential: Credential,
    pub host_key: HostKey,
}

/// A file or folder as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name within its folder (for [`Sftp::stat`], the path's last component).
    pub name: String,
    /// Bytes; 0 when the server does not say.
    pub size: u64,
    pub is_dir: bool,
    /// Last modification, in seconds since the Unix epoch, when the server says.
    pub modified: Option<u64>,
}

/// An open file on the server. Give it back to [`Sftp::close`]: the server keeps it open
/// (and, for a new file, may not show all of its data) until then.
#[derive(Debug, PartialEq, Eq)]
pub struct Handle(Vec<u8>);

/// An SFTP session over one SSH connection.
pub struct Sftp<S: Read + Write> {
    session: Session<S>,
    next_id: u32,
}

impl Sftp<TcpStream> {
    /// Connects over TCP (on `wasm32-wasip2`, through `wasi:sockets`) and logs in.
    ///
    /// No timeouts are set, so a server that stops answering blocks the call; where that
    /// matters, connect the stream yourself, set its timeouts and use [`Sftp::over`].
    pub fn connect(login: &Login) -> Result<Self, Error> {
        let stream = TcpStream::connect((login.host.as_str(), login.port)).map_err(|e| {
            Error::Connection(format!(
                "connecting to {}:{} failed: {e}",
                login.host, login.port
            ))
        })?;
        // Each request is a small write that waits for its answer: don't let Nagle hold it.
        // Best effort, since not every socket implementation has the option.
        let _ = stream.set_nodelay(true);
        Self::over(stream, login)
    }
}

impl<S: Read + Write> Sftp<S> {
    /// Runs SSH over an already connected `stream`: the handshake, the host key check, the
    /// login, a session channel with the "sftp" subsystem, and SFTP's INIT/VERSION.
    /// `login.host` and `login.port` only name the server in errors.
    pub fn over(stream: S, login: &Login) -> Result<Self, Error> {
        let mut session = Session::start(stream, login)?;
        session.send(&Request::Init.encode(0))?;
        let packet = session.receive()?;
        match wire::decode(&packet) {
            Ok((None, Reply::Version(v))) if v == wire::VERSION => Ok(Sftp {
                session,
                next_id: 1,
            }),
            Ok((None, Reply::Version(v))) => Err(Error::Other(format!(
                "the server speaks SFTP version {v}; this client speaks only version 3"
            ))),
            _ => Err(Error::Other(
                "the server did not answer SFTP's INIT with VERSION".into(),
            )),
        }
    }

    /// The names in a folder, without "." and "..".
    pub fn list_dir(&mut self, path: &str) -> Result<Vec<Entry>, Error> {
        let handle = self.handle(Request::OpenDir { path }, path)?;
        let mut entries = Vec::new();
        let listed = loop {
            match self.request(Request::ReadDir { handle: &handle.0 }) {
                Ok(Reply::Name(names)) => entries.extend(
                    names
                        .into_iter()
                        .filter(|n| n.filename != "." && n.filename != "..")
                        .map(|n| entry(n.filename, &n.attrs)),
                ),
                Ok(Reply::Status { code, .. }) if code == wire::STATUS_EOF => break Ok(()),
                Ok(other) => break Err(status_error(other, "list", path)),
                Err(e) => break Err(e),
            }
        };
        // Close even after a failed read, so the server frees the handle; report the first
        // failure.
        let closed = self.close(handle);
        listed.and(closed).map(|()| entries)
    }

    /// Opens a file for reading.
    pub fn open(&mut self, path: &str) -> Result<Handle, Error> {
        let flags = wire::OPEN_READ;
        self.handle(Request::Open { path, flags }, path)
    }

    /// Creates a file for writing, or empties it if it exists.
    pub fn create(&mut self, path: &str) -> Result<Handle, Error> {
        let flags = wire::OPEN_WRITE | wire::OPEN_CREATE | wire::OPEN_TRUNCATE;
        self.handle(Request::Open { path, flags }, path)
    }

    /// Reads up to `len` bytes at `offset`; fewer only at the end of the file, and an empty
    /// `Vec` at (or past) the end.
    pub fn read(&mut self, h: &Handle, offset: u64, len: u32) -> Result<Vec<u8>, Error> {
        let pieces = pieces(offset, len as usize);
        let requests = pieces.iter().map(|&(offset, len)| Request::Read {
            handle: &h.0,
            offset,
            len: len as u32,
        });
        let replies = self.exchange(requests.collect())?;
        let mut data = Vec::with_capacity(len as usize);
        for (reply, (_, asked)) in replies.into_iter().zip(&pieces) {
            match reply {
                Reply::Data(d) => {
                    let short = d.len() < *asked;
                    data.extend_from_slice(&d);
                    // Past a short read the later pieces cannot follow on: stop.
                    if short {
                        break;
                    }
                }
                Reply::Status { code, .. } if code == wire::STATUS_EOF => break,
                other => return Err(status_error(other, "read", "the open file")),
            }
        }
        Ok(data)
    }

    /// Writes `data` at `offset`, in requests of at most [`CHUNK`] bytes.
    pub fn write(&mut self, h: &Handle, offset: u64, data: &[u8]) -> Result<(), Error> {
        let requests = pieces(offset, data.len()).into_iter().map(|(at, len)| {
            let start = (at - offset) as usize;
            Request::Write {
                handle: &h.0,
                offset: at,
                data: &data[start..start + len],
            }
        });
        for reply in self.exchange(requests.collect())? {
            ok(reply, "write", "the open file")?;
        }
        Ok(())
    }

    /// Closes a file or folder handle; for a written file, the server has it all after this.
    pub fn close(&mut self, h: Handle) -> Result<(), Error> {
        let reply = self.request(Request::Close { handle: &h.0 })?;
        ok(reply, "close", "the open file")
    }

    /// Deletes a file.
    pub fn remove(&mut self, path: &str) -> Result<(), Error> {
        let reply = self.request(Request::Remove { path })?;
        ok(reply, "remove", path)
    }

    /// Describes a file or folder, following symbolic links.
    pub fn stat(&mut self, path: &str) -> Result<Entry, Error> {
        self.attrs(Request::Stat { path }, path)
    }

    /// Describes a file or folder; a symbolic link is described itself, not its target.
    pub fn lstat(&mut self, path: &str) -> Result<Entry, Error> {
        self.attrs(Request::LStat { path }, path)
    }

    fn attrs(&mut self, request: Request, path: &str) -> Result<Entry, Error> {
        match self.request(request)? {
            Reply::Attrs(a) => {
                let trimmed = path.trim_end_matches('/');
                let name = trimmed.rsplit('/').next().unwrap_or(trimmed);
                Ok(entry(name.to_owned(), &a))
            }
            other => Err(status_error(other, "stat", path)),
        }
    }

    fn handle(&mut self, request: Request, path: &str) -> Result<Handle, Error> {
        match self.request(request)? {
            Reply::Handle(h) => Ok(Handle(h)),
            other => Err(status_error(other, "open", path)),
        }
    }

    /// Sends one request and waits for its reply.
    fn request(&mut self, request: Request) -> Result<Reply, Error> {
        let mut replies = self.exchange(vec![request])?;
        Ok(replies.pop().expect("one reply per request"))
    }

    /// Sends `requests`, at most [`IN_FLIGHT`] unanswered at a time, and returns their replies
    /// in request order (servers may answer out of order). Every reply is awaited, even after
    /// an error status, so the next call starts with nothing outstanding.
    fn exchange(&mut self, requests: Vec<Request>) -> Result<Vec<Reply>, Error> {
        let first = self.next_id;
        self.next_id = self.next_id.wrapping_add(requests.len() as u32);
        let mut waiting: HashMap<u32, usize> = HashMap::new();
        let mut replies: Vec<Option<Reply>> = vec![None; requests.len()];
        let mut sent = 0;
        let mut answered = 0;
        while answered < requests.len() {
            while sent < requests.len() && sent - answered < IN_FLIGHT {
                let id = first.wrapping_add(sent as u32);
                self.session.send(&requests[sent].encode(id))?;
                waiting.insert(id, sent);
                sent += 1;
            }
            let packet = self.session.receive()?;
            let (id, reply) = wire::decode(&packet).map_err(|m| {
                Error::Other(format!("the server sent a malformed SFTP reply ({})", m.0))
            })?;
            let Some(index) = id.and_then(|id| waiting.remove(&id)) else {
                return Err(Error::Other(format!(
                    "the server answered a request that was not asked (id {id:?})"
                )));
            };
            replies[index] = Some(reply);
            answered += 1;
        }
        Ok(replies
            .into_iter()
            .map(|r| r.expect("all answered"))
            .collect())
    }
}

/// Splits `len` bytes at `offset` into `(offset, len)` pieces of at most [`CHUNK`] bytes.
fn pieces(offset: u64, len: usize) -> Vec<(u64, usize)> {
    (0..len)
        .step_by(CHUNK)
        .map(|start| (offset + start as u64, CHUNK.min(len - start)))
        .collect()
}

fn entry(name: String, a: &wire::Attrs) -> Entry {
    Entry {
        name,
        size: a.size.unwrap_or(0),
        is_dir: a.is_dir(),
        modified: a.mtime.map(u64::from),
    }
}

/// A STATUS OK is success; anything else is the failure it reports.
fn ok(reply: Reply, what: &str, path: &str) -> Result<(), Error> {
    match reply {
        Reply::Status { code, .. } if code == wire::STATUS_OK => Ok(()),
        other => Err(status_error(other, what, path)),
    }
}

/// The error for a reply that is not what `what` (on `path`) needed: the server's status,
/// by code, or a protocol error for an unexpected packet.
fn status_error(reply: Reply, what: &str, path: &str) -> Error {
    match reply {
        Reply::Status { code, .. } if code == wire::STATUS_NO_SUCH_FILE => {
            Error::NotFound(path.to_owned())
        }
        Reply::Status { code, .. } if code == wire::STATUS_PERMISSION_DENIED => {
            Error::PermissionDenied(path.to_owned())
        }
        Reply::Status { code, message } => Error::Other(format!(
            "the server could not {what} {path}: {message} (SFTP status {code})"
        )),
        other => Error::Other(format!(
            "the server answered {what} {path} with an unexpected {}",
            other.kind()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_range_in_chunks() {
        assert_eq!(pieces(10, 0), []);
        assert_eq!(pieces(10, 5), [(10, 5)]);
        assert_eq!(
            pieces(100, 2 * CHUNK + 1),
            [
                (100, CHUNK),
                (100 + CHUNK as u64, CHUNK),
                (100 + 2 * CHUNK as u64, 1)
            ]
        );
    }

    #[test]
    fn statuses_map_to_what_the_caller_must_fix() {
        let status = |code: u32| Reply::Status {
            code,
            message: "msg".into(),
        };
        assert_eq!(
            status_error(status(2), "open", "a.txt"),
            Error::NotFound("a.txt".into())
        );
        assert_eq!(
            status_error(status(3), "open", "a.txt"),
            Error::PermissionDenied("a.txt".into())
        );
        assert_eq!(
            status_error(status(4), "remove", "d"),
            Error::Other("the server could not remove d: msg (SFTP status 4)".into())
        );
        assert!(ok(status(0), "close", "f").is_ok());
        assert!(matches!(
            ok(Reply::Data(vec![]), "close", "f"),
            Err(Error::Other(m)) if m.contains("unexpected DATA")
        ));
    }
}
