//! Drives sunset's IO-less SSH client over a blocking `Read + Write` stream, up to an open
//! "sftp" subsystem channel, then moves SFTP packets through that channel.
//!
//! sunset never touches the network: it takes bytes in (`Runner::input`), hands bytes out
//! (`Runner::output_buf`), and reports events (`Runner::progress`) that the application
//! answers (host key, username, password or key). [`Session::turn`] is one round of that:
//! answer events, collect channel data, flush output, and only when nothing else can move,
//! block on the stream for more bytes. Every wait in this crate is a loop of `turn`s until
//! its condition holds, so there are no timers and no busy loops.

use std::io::{ErrorKind, Read, Write};

use sunset::event::{CliEvent, Event};
use sunset::{ChanData, ChanHandle, PubKey, Runner, SignKey};

use crate::{Credential, Error, HostKey, Login, wire};

/// Bytes read from the stream at a time.
const READ_BUF: usize = 16 * 1024;

/// What the login still needs while the handshake runs; dropped once the channel is open.
struct Handshake {
    username: String,
    password: Option<String>,
    /// Taken when offered, so a refused key is not offered twice.
    key: Option<SignKey>,
    /// Whether the server has accepted the credentials.
    authenticated: bool,
    /// Set once the subsystem is requested on the opened channel.
    subsystem_requested: bool,
}

/// An SSH connection with one session channel running the "sftp" subsystem.
pub(crate) struct Session<S> {
    stream: S,
    runner: Runner<'static, sunset::Client>,
    /// `None` until the server opens the session channel.
    channel: Option<ChanHandle>,
    handshake: Option<Handshake>,
    /// Checked at the first key exchange and at every re-key the server starts later.
    host_key: HostKey,
    /// Bytes read from the stream that sunset has not taken yet.
    pending: Vec<u8>,
    /// Channel data (SFTP bytes) not yet taken by [`Session::receive`].
    received: Vec<u8>,
    /// Where the server is, for error messages.
    peer: String,
}

impl<S: Read + Write> Session<S> {
    /// Runs the SSH handshake and authentication, opens a session channel and requests the
    /// "sftp" subsystem on it.
    pub(crate) fn start(stream: S, login: &Login) -> Result<Self, Error> {
        let (password, key) = match &login.credential {
            Credential::Password(p) => (Some(p.clone()), None),
            Credential::Ed25519Key(pem) => {
                let key = SignKey::from_openssh(pem).map_err(|e| {
                    Error::Login(format!(
                        "the private key could not be read ({e}); it must be an unencrypted OpenSSH Ed25519 key"
                    ))
                })?;
                (None, Some(key))
            }
        };
        let mut session = Session {
            stream,
            runner: Runner::new_client_owned(),
            channel: None,
            handshake: Some(Handshake {
                username: login.username.clone(),
                password,
                key,
                authenticated: false,
                subsystem_requested: false,
            }),
            host_key: login.host_key.clone(),
            pending: Vec::new(),
            received: Vec::new(),
            peer: format!("{}:{}", login.host, login.port),
        };
        while !session
            .handshake
            .as_ref()
            .is_some_and(|h| h.subsystem_requested)
        {
            session.turn()?;
        }
        session.handshake = None;
        Ok(session)
    }

    /// Sends `bytes` on the channel, waiting for the server's window when it is full.
    pub(crate) fn send(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        while !bytes.is_empty() {
            let channel = self
                .channel
                .as_ref()
                .expect("the channel is open after start");
            let n = self
                .runner
                .write_channel(channel, ChanData::Normal, bytes)
                .map_err(|e| self.lost(e))?;
            bytes = &bytes[n..];
            if n == 0 {
                self.turn()?;
            }
        }
        // Nothing is sent until the output is flushed; flushing is part of every turn, but
        // the last write must leave now or the server never sees the request.
        self.flush()?;
        Ok(())
    }

    /// Waits for one whole SFTP packet from the server and returns it, length prefix included.
    pub(crate) fn receive(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            let framed = wire::frame_len(&self.received).map_err(|m| {
                Error::Other(format!("the server sent a malformed SFTP packet ({})", m.0))
            })?;
            if let Some(len) = framed {
                return Ok(self.received.drain(..len).collect());
            }
            let channel = self
                .channel
                .as_ref()
                .expect("the channel is open after start");
            if self.runner.is_channel_eof(channel) {
                return Err(Error::Connection(format!(
                    "{} ended the SFTP session (is its sftp subsystem enabled?)",
                    self.peer
                )));
            }
            self.turn()?;
        }
    }

    /// One round: answer sunset's events, take channel data, flush output; if none of that
    /// moved anything, block until the stream has more bytes, give them to sunset and handle
    /// what they complete.
    fn turn(&mut self) -> Result<(), Error> {
        let mut moved = self.answer_events()?;
        moved |= self.take_channel_data()?;
        moved |= self.flush()?;
        if moved {
            return Ok(());
        }
        if !self.runner.is_input_ready() {
            return Err(Error::Other(format!(
                "the SSH session with {} stalled: nothing to send and no room to receive",
                self.peer
            )));
        }
        if self.pending.is_empty() {
            let mut buf = [0u8; READ_BUF];
            let n = loop {
                match self.stream.read(&mut buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(Error::Connection(format!(
                            "reading from {} failed: {e}",
                            self.peer
                        )));
                    }
                }
            };
            if n == 0 {
                // sunset reports the end as a Defunct event on the next turn.
                self.runner.close_input();
                return Ok(());
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
        let used = self
            .runner
            .input(&self.pending)
            .map_err(|e| self.failed(e))?;
        if used == 0 {
            return Err(Error::Other(format!(
                "the SSH session with {} stalled: sunset took no input",
                self.peer
            )));
        }
        self.pending.drain(..used);
        // A packet that completes here is handled by the next `progress()`, which reports
        // `Event::None` for packets (like a window adjust) that need no answer: handle it now,
        // so the caller's condition sees its effect instead of blocking for more input.
        self.answer_events()?;
        self.take_channel_data()?;
        self.flush()?;
        Ok(())
    }

    /// Answers every event sunset has; returns whether there was any.
    fn answer_events(&mut self) -> Result<bool, Error> {
        let mut any = false;
        loop {
            // What to do once the event (which borrows the runner) is answered and dropped.
            let mut open_channel = false;
            let answered = match self.runner.progress() {
                Err(e) => return Err(fail(&self.handshake, &self.peer, e)),
                Ok(Event::None) => return Ok(any),
                Ok(Event::Progressed | Event::Serv(_)) => Ok(()),
                Ok(Event::Cli(event)) => {
                    match (event, self.handshake.as_mut()) {
                        (CliEvent::Hostkey(k), _) => {
                            let verdict = k.hostkey().map_err(|e| {
                                Error::HostKey(format!("the server's host key is unreadable ({e})"))
                            });
                            // A refused key ends the connection: sunset's own error for the
                            // rejection says less than ours.
                            verdict.and_then(|key| check_host_key(&self.host_key, &key))?;
                            k.accept()
                        }
                        (CliEvent::Username(u), Some(h)) => u.username(&h.username),
                        (CliEvent::Password(p), Some(h)) => match h.password.take() {
                            Some(password) => p.password(password),
                            // Already refused (or a key login): give up rather than loop.
                            None => p.skip(),
                        },
                        (CliEvent::Pubkey(p), Some(h)) => match h.key.take() {
                            Some(key) => p.pubkey(key),
                            None => p.skip(),
                        },
                        (CliEvent::AgentSign(a), _) => a.skip(),
                        (CliEvent::Authenticated, Some(h)) => {
                            h.authenticated = true;
                            open_channel = true;
                            Ok(())
                        }
                        (CliEvent::SessionOpened(mut opener), Some(h)) => {
                            h.subsystem_requested = true;
                            opener.subsystem("sftp")
                        }
                        (CliEvent::SessionExit(_), _) => {
                            // The channel's EOF that follows ends any wait in `receive`.
                            Ok(())
                        }
                        (CliEvent::Defunct, _) => {
                            return Err(Error::Connection(format!(
                                "{} closed the connection",
                                self.peer
                            )));
                        }
                        (CliEvent::Banner(_) | CliEvent::PollAgain, _) => Ok(()),
                        (other, None) => {
                            return Err(Error::Other(format!(
                                "the SSH server sent {other:?} after the session was set up"
                            )));
                        }
                    }
                }
            };
            answered.map_err(|e| fail(&self.handshake, &self.peer, e))?;
            if open_channel {
                let channel = self
                    .runner
                    .open_client_session()
                    .map_err(|e| fail(&self.handshake, &self.peer, e))?;
                self.channel = Some(channel);
            }
            any = true;
        }
    }

    /// Moves channel data sunset holds into `received`; stderr (which the sftp subsystem
    /// does not use) is dropped. Returns whether there was any.
    fn take_channel_data(&mut self) -> Result<bool, Error> {
        let mut any = false;
        while let Some((_, kind, len)) = self.runner.read_channel_ready() {
            let channel = self
                .channel
                .as_ref()
                .expect("data arrives on an open channel");
            if kind == ChanData::Normal {
                let start = self.received.len();
                self.received.resize(start + len, 0);
                let n = self
                    .runner
                    .read_channel(channel, kind, &mut self.received[start..])
                    .map_err(|e| lost(&self.peer, e))?;
                self.received.truncate(start + n);
            } else {
                self.runner
                    .discard_read_channel(channel)
                    .map_err(|e| lost(&self.peer, e))?;
            }
            any = true;
        }
        Ok(any)
    }

    /// Writes everything sunset has queued to the stream; returns whether there was any.
    fn flush(&mut self) -> Result<bool, Error> {
        let mut any = false;
        loop {
            let out = self.runner.output_buf();
            if out.is_empty() {
                if any {
                    self.stream.flush().map_err(|e| self.io_failed(e))?;
                }
                return Ok(any);
            }
            let n = out.len();
            if let Err(e) = self.stream.write_all(out) {
                return Err(self.io_failed(e));
            }
            self.runner.consume_output(n);
            any = true;
        }
    }

    fn io_failed(&self, e: std::io::Error) -> Error {
        Error::Connection(format!("writing to {} failed: {e}", self.peer))
    }

    fn failed(&self, e: sunset::Error) -> Error {
        fail(&self.handshake, &self.peer, e)
    }

    fn lost(&self, e: sunset::Error) -> Error {
        lost(&self.peer, e)
    }
}

/// A sunset error after the session is up: the SSH connection is no longer usable.
fn lost(peer: &str, e: sunset::Error) -> Error {
    Error::Connection(format!("the SSH connection to {peer} failed ({e})"))
}

/// A sunset error, named after the handshake step it ended: exhausted credentials surface
/// from sunset as `NoAuthMethods`.
fn fail(handshake: &Option<Handshake>, peer: &str, e: sunset::Error) -> Error {
    match handshake {
        Some(h) if !h.authenticated && matches!(e, sunset::Error::NoAuthMethods) => {
            Error::Login(format!(
                "{peer} accepted none of the credentials offered for user {:?}",
                h.username
            ))
        }
        Some(_) => Error::Connection(format!("the SSH handshake with {peer} failed ({e})")),
        None => lost(peer, e),
    }
}

/// Checks the server's host key against the login's policy.
fn check_host_key(policy: &HostKey, key: &PubKey) -> Result<(), Error> {
    let pinned = match policy {
        HostKey::AcceptAny => return Ok(()),
        HostKey::Pinned(p) => p.trim(),
    };
    let fingerprint = key
        .fingerprint()
        .map_err(|e| Error::HostKey(format!("the server's host key is unsupported ({e})")))?
        .to_string();
    let matches = if pinned.starts_with("SHA256:") {
        // Base64 is case-sensitive: compare exactly (OpenSSH omits the padding, as we do).
        pinned == fingerprint
    } else {
        key.matches_openssh(pinned).map_err(|_| {
            Error::HostKey(format!(
                "the pinned host key {pinned:?} is neither an \"ssh-ed25519 AAAA…\" line nor a \"SHA256:…\" fingerprint"
            ))
        })?
    };
    if matches {
        Ok(())
    } else {
        Err(Error::HostKey(format!(
            "the server's host key {fingerprint} does not match the pinned key {pinned}"
        )))
    }
}
