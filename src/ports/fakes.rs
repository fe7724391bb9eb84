//! In-memory fakes of every port, for native tests of the job sequences (and of anything
//! else written against the ports). Each fake can be shared by several runs, so a test can
//! crash a run part-way and run it again over the same state, files and streams.
//!
//! **Crashes.** A [`Crash`] counts the effects a run has on the outside world (state writes,
//! file writes, stream emits, member acknowledgements, requests that reach Cordial). Armed
//! with `n`, the `n`-th effect and everything after it fails as if the process had died
//! there; a request that is the `n`-th effect reaches Cordial, but its answer is lost.
//! Disarm it and run again to check that the sequence resumes where it stopped.

use super::*;
use crate::cordial::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A shared countdown to a simulated crash (see the module docs). Clones share it.
#[derive(Clone, Default)]
pub struct Crash(Rc<CrashState>);

#[derive(Default)]
struct CrashState {
    /// Effects left before the crash; `None` when not armed.
    left: Cell<Option<u64>>,
    crashed: Cell<bool>,
    /// Effects counted since the last `arm`/`disarm`.
    effects: Cell<u64>,
}

impl Crash {
    /// Crashes at the `n`-th effect from now (1 = the very next).
    pub fn arm(&self, n: u64) {
        self.0.left.set(Some(n));
        self.0.crashed.set(false);
        self.0.effects.set(0);
    }

    /// No crash; the process is alive again (a restart).
    pub fn disarm(&self) {
        self.0.left.set(None);
        self.0.crashed.set(false);
        self.0.effects.set(0);
    }

    pub fn crashed(&self) -> bool {
        self.0.crashed.get()
    }

    /// Effects counted since the last `arm` or `disarm`: run a sequence once disarmed to
    /// learn how many crash points it has.
    pub fn effects(&self) -> u64 {
        self.0.effects.get()
    }

    /// Counts one effect. `Err` when the process is (now) dead: the effect must not happen,
    /// except where the caller says it already did (a request that reached Cordial).
    pub fn effect(&self) -> Result<(), PortError> {
        if self.0.crashed.get() {
            return Err(PortError("crashed".into()));
        }
        self.0.effects.set(self.0.effects.get() + 1);
        if let Some(left) = self.0.left.get() {
            if left <= 1 {
                self.0.crashed.set(true);
                self.0.left.set(None);
                return Err(PortError("crashed".into()));
            }
            self.0.left.set(Some(left - 1));
        }
        Ok(())
    }

    /// Fails a read when the process is dead (reads are not effects).
    pub fn alive(&self) -> Result<(), PortError> {
        if self.0.crashed.get() {
            Err(PortError("crashed".into()))
        } else {
            Ok(())
        }
    }
}

/// State in a map.
#[derive(Default)]
pub struct MemoryKeyValue {
    pub entries: BTreeMap<String, Vec<u8>>,
    pub crash: Crash,
}

impl KeyValue for MemoryKeyValue {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.crash.alive()?;
        Ok(self.entries.get(key).cloned())
    }

    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), PortError> {
        self.crash.effect()?;
        self.entries.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), PortError> {
        self.crash.effect()?;
        self.entries.remove(key);
        Ok(())
    }
}

/// Settings as text pairs.
#[derive(Default)]
pub struct MemoryConfig(pub Vec<(String, String)>);

impl MemoryConfig {
    /// From a JSON object of settings, encoded as a runtime would hand them over.
    pub fn from_json(settings: &serde_json::Value) -> MemoryConfig {
        MemoryConfig(crate::settings::to_pairs(settings))
    }
}

impl Config for MemoryConfig {
    fn get_all(&mut self) -> Result<Vec<(String, String)>, PortError> {
        Ok(self.0.clone())
    }
}

/// Keeps every line.
#[derive(Default)]
pub struct RecordingLog(pub Vec<(Level, String)>);

impl RecordingLog {
    pub fn contains(&self, text: &str) -> bool {
        self.0.iter().any(|(_, m)| m.contains(text))
    }
}

impl Log for RecordingLog {
    fn log(&mut self, level: Level, message: &str) {
        self.0.push((level, message.to_owned()));
    }
}

/// A clock that moves only when slept on (or set).
pub struct FakeClock {
    pub now: DateTime<Utc>,
    pub slept: Vec<Duration>,
}

impl FakeClock {
    pub fn at(rfc3339: &str) -> FakeClock {
        FakeClock {
            now: rfc3339.parse().expect("an RFC 3339 time"),
            slept: Vec::new(),
        }
    }
}

impl Clock for FakeClock {
    fn now(&mut self) -> DateTime<Utc> {
        self.now
    }

    fn sleep(&mut self, duration: Duration) {
        self.slept.push(duration);
        self.now += chrono::Duration::from_std(duration).expect("a sane duration");
    }
}

/// A folder of files in memory. An upload appears under its name only when finished.
pub struct MemoryFiles {
    pub files: Rc<RefCell<BTreeMap<String, Vec<u8>>>>,
    pub remote: Remote,
    /// What [`Files::files_url`] answers: `Some` plays a runtime that serves the files.
    pub files_url: Option<String>,
    pub crash: Crash,
    /// When set, every operation fails with this error (an unreachable server, say).
    pub fail_with: Option<FileError>,
    /// The next this-many uploads lose the connection at their first write.
    pub failing_uploads: u32,
    /// When set, every download loses the connection after its first chunk.
    pub dropping_reads: bool,
}

impl Default for MemoryFiles {
    fn default() -> Self {
        MemoryFiles {
            files: Rc::default(),
            remote: Remote {
                server: "sftp.test".into(),
                port: 22,
                username: "cordial".into(),
                folder: "/upload".into(),
            },
            files_url: None,
            crash: Crash::default(),
            fail_with: None,
            failing_uploads: 0,
            dropping_reads: false,
        }
    }
}

impl MemoryFiles {
    pub fn put(&self, name: &str, bytes: impl Into<Vec<u8>>) {
        self.files
            .borrow_mut()
            .insert(name.to_owned(), bytes.into());
    }

    pub fn names(&self) -> Vec<String> {
        self.files.borrow().keys().cloned().collect()
    }

    pub fn read(&self, name: &str) -> Option<Vec<u8>> {
        self.files.borrow().get(name).cloned()
    }

    fn check(&self) -> Result<(), FileError> {
        if let Some(e) = &self.fail_with {
            return Err(e.clone());
        }
        self.crash.alive().map_err(|e| FileError::Connection(e.0))
    }
}

fn crashed(e: PortError) -> FileError {
    FileError::Connection(e.0)
}

struct MemoryUpload {
    name: String,
    bytes: Vec<u8>,
    files: Rc<RefCell<BTreeMap<String, Vec<u8>>>>,
    crash: Crash,
    /// Loses the connection at its first write.
    failing: bool,
}

impl Upload for MemoryUpload {
    fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        if self.failing {
            return Err(FileError::Connection("broken pipe".into()));
        }
        self.crash.effect().map_err(crashed)?;
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), FileError> {
        self.crash.effect().map_err(crashed)?;
        self.files.borrow_mut().insert(self.name, self.bytes);
        Ok(())
    }
}

struct MemoryDownload {
    bytes: Vec<u8>,
    at: usize,
    crash: Crash,
    /// Loses the connection once it has served a chunk.
    dropping: bool,
    served: bool,
}

impl Download for MemoryDownload {
    fn read(&mut self, max: usize) -> Result<Vec<u8>, FileError> {
        if self.dropping && self.served {
            return Err(FileError::Connection("reset by peer".into()));
        }
        self.served = true;
        self.crash.alive().map_err(crashed)?;
        let end = (self.at + max).min(self.bytes.len());
        let chunk = self.bytes[self.at..end].to_vec();
        self.at = end;
        Ok(chunk)
    }
}

impl Files for MemoryFiles {
    fn describe(&mut self) -> Result<Remote, FileError> {
        self.check()?;
        Ok(self.remote.clone())
    }

    fn files_url(&mut self) -> Result<Option<String>, FileError> {
        self.check()?;
        Ok(self.files_url.clone())
    }

    fn create(&mut self, path: &str) -> Result<Box<dyn Upload + '_>, FileError> {
        self.check()?;
        let failing = self.failing_uploads > 0;
        self.failing_uploads = self.failing_uploads.saturating_sub(1);
        Ok(Box::new(MemoryUpload {
            name: path.to_owned(),
            bytes: Vec::new(),
            files: self.files.clone(),
            crash: self.crash.clone(),
            failing,
        }))
    }

    fn open(&mut self, path: &str) -> Result<Box<dyn Download + '_>, FileError> {
        self.check()?;
        let bytes = self
            .read(path)
            .ok_or_else(|| FileError::NotFound(path.to_owned()))?;
        Ok(Box::new(MemoryDownload {
            bytes,
            at: 0,
            crash: self.crash.clone(),
            dropping: self.dropping_reads,
            served: false,
        }))
    }

    fn list_dir(&mut self, _dir: &str) -> Result<Vec<FileEntry>, FileError> {
        self.check()?;
        Ok(self
            .files
            .borrow()
            .iter()
            .map(|(name, bytes)| FileEntry {
                name: name.clone(),
                size: bytes.len() as u64,
                is_dir: false,
            })
            .collect())
    }

    fn remove(&mut self, path: &str) -> Result<(), FileError> {
        self.check()?;
        self.crash.effect().map_err(crashed)?;
        self.files
            .borrow_mut()
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| FileError::NotFound(path.to_owned()))
    }
}

/// Streams in memory, keyed records deduplicated as the host's store does. Appended
/// records are held aside until a flush stores them: a crash before then loses them, as
/// a runtime may before their commit.
#[derive(Default)]
pub struct MemoryStreams {
    /// Per stream, the records in the order they were accepted.
    pub records: BTreeMap<String, Vec<StreamRecord>>,
    pub quarantined: BTreeMap<String, Vec<Quarantined>>,
    /// Appended, not yet flushed.
    pub unflushed: Vec<(String, Vec<StreamRecord>)>,
    pub crash: Crash,
}

impl MemoryStreams {
    pub fn bodies(&self, stream: &str) -> Vec<&str> {
        self.records
            .get(stream)
            .map(|r| r.iter().map(|r| r.body.as_str()).collect())
            .unwrap_or_default()
    }
}

impl Streams for MemoryStreams {
    fn append(&mut self, stream: &str, records: Vec<StreamRecord>) -> Result<(), PortError> {
        self.crash.alive()?;
        self.unflushed.push((stream.to_owned(), records));
        Ok(())
    }

    fn flush(&mut self) -> Result<EmitSummary, PortError> {
        let appended = std::mem::take(&mut self.unflushed);
        self.crash.effect()?;
        let mut summary = EmitSummary::default();
        for (stream, records) in appended {
            let held = self.records.entry(stream).or_default();
            for r in records {
                let known = r.key.is_some() && held.iter().any(|h| h.key == r.key);
                if known {
                    summary.duplicates += 1;
                } else {
                    held.push(r);
                    summary.accepted += 1;
                }
            }
        }
        Ok(summary)
    }

    fn quarantine(&mut self, stream: &str, entries: &[Quarantined]) -> Result<(), PortError> {
        self.crash.effect()?;
        self.quarantined
            .entry(stream.to_owned())
            .or_default()
            .extend_from_slice(entries);
        Ok(())
    }
}

/// Members waiting for the export, in memory.
#[derive(Default)]
pub struct MemoryMembers {
    pub waiting: Vec<Member>,
    pub crash: Crash,
}

impl Members for MemoryMembers {
    fn high_water(&mut self) -> Result<u64, PortError> {
        self.crash.alive()?;
        Ok(self.waiting.iter().map(|m| m.seq).max().unwrap_or(0))
    }

    fn page(&mut self, after: u64, up_to: u64, limit: u32) -> Result<Vec<Member>, PortError> {
        self.crash.alive()?;
        Ok(self
            .waiting
            .iter()
            .filter(|m| m.seq > after && m.seq <= up_to)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    fn acknowledge(&mut self, up_to: u64) -> Result<u64, PortError> {
        self.crash.effect()?;
        let before = self.waiting.len();
        self.waiting.retain(|m| m.seq > up_to);
        Ok((before - self.waiting.len()) as u64)
    }
}

/// Cordial in a closure: `answer` sees every request (after the crash check) and returns
/// the response; every request is logged. A request that is the crash's effect reaches
/// `answer` (Cordial acted on it) but the caller gets a connection error.
pub struct FakeCordial<F> {
    pub answer: F,
    pub requests: Vec<HttpRequest>,
    pub crash: Crash,
}

impl<F: FnMut(&HttpRequest) -> HttpResponse> FakeCordial<F> {
    pub fn new(answer: F) -> Self {
        FakeCordial {
            answer,
            requests: Vec::new(),
            crash: Crash::default(),
        }
    }
}

impl<F: FnMut(&HttpRequest) -> HttpResponse> HttpTransport for FakeCordial<F> {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.crash
            .alive()
            .map_err(|e| TransportError::Connection(e.0))?;
        self.requests.push(request.clone());
        let response = (self.answer)(request);
        self.crash
            .effect()
            .map_err(|e| TransportError::Connection(format!("{e}: the answer was lost")))?;
        Ok(response)
    }
}

/// A JSON response with `status`.
pub fn json_response(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}
