//! The ports of `cordial_jobs::ports`, bound to this component's imports. Every binding is
//! a thin call of its import: the logic stays in the root crate.

use crate::bindings::cordial::jobs::{members, sftp, streams};
use crate::bindings::wasi::{config, keyvalue};
use cordial_jobs::ports::{
    self, Clock, Config, Download, EmitSummary, FileEntry, FileError, Files, KeyValue, Level, Log,
    Member, Members, PortError, Quarantined, Remote, StreamRecord, Streams, Upload,
};
use std::io::Write;
use std::time::Duration;

/// The job's state: `wasi:keyvalue`'s `default` bucket, opened on first use.
#[derive(Default)]
pub struct WasiKeyValue(Option<keyvalue::store::Bucket>);

impl WasiKeyValue {
    fn bucket(&mut self) -> Result<&keyvalue::store::Bucket, PortError> {
        if self.0.is_none() {
            self.0 = Some(keyvalue::store::open("default").map_err(kv_error)?);
        }
        Ok(self.0.as_ref().expect("just opened"))
    }
}

fn kv_error(e: keyvalue::store::Error) -> PortError {
    PortError(format!("job state: {e:?}"))
}

impl KeyValue for WasiKeyValue {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.bucket()?.get(key).map_err(kv_error)
    }

    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), PortError> {
        self.bucket()?.set(key, value).map_err(kv_error)
    }

    fn delete(&mut self, key: &str) -> Result<(), PortError> {
        self.bucket()?.delete(key).map_err(kv_error)
    }
}

/// The job's settings: `wasi:config/store`.
pub struct WasiConfig;

impl Config for WasiConfig {
    fn get_all(&mut self) -> Result<Vec<(String, String)>, PortError> {
        config::store::get_all().map_err(|e| PortError(format!("job settings: {e:?}")))
    }
}

/// Structured lines on stderr, which every runtime carries (see `wit/CHANGELOG.md`).
pub struct StderrLog;

impl Log for StderrLog {
    fn log(&mut self, level: Level, message: &str) {
        let line = serde_json::json!({"level": level.as_str(), "message": message});
        // One write per line, so lines from one call never interleave.
        let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
    }
}

/// `wasi:clocks`.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&mut self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// The job's SFTP folder: `cordial:jobs/sftp`.
pub struct SftpFiles;

fn file_error(e: sftp::SftpError) -> FileError {
    use sftp::SftpError as E;
    match e {
        E::NotConfigured(m) => FileError::NotConfigured(m),
        E::NotFound(m) => FileError::NotFound(m),
        E::PermissionDenied(m) => FileError::PermissionDenied(m),
        E::OutsideRoot(m) => FileError::OutsideRoot(m),
        E::Connection(m) => FileError::Connection(m),
        E::Other(m) => FileError::Other(m),
    }
}

impl Upload for sftp::Upload {
    fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        sftp::Upload::write(self, chunk).map_err(file_error)
    }

    fn finish(self: Box<Self>) -> Result<(), FileError> {
        sftp::Upload::finish(&self).map_err(file_error)
    }
}

impl Download for sftp::Download {
    fn read(&mut self, max: usize) -> Result<Vec<u8>, FileError> {
        sftp::Download::read(self, max.min(u32::MAX as usize) as u32).map_err(file_error)
    }
}

impl Files for SftpFiles {
    fn describe(&mut self) -> Result<Remote, FileError> {
        let r = sftp::describe().map_err(file_error)?;
        Ok(Remote {
            server: r.server,
            port: r.port,
            username: r.username,
            folder: r.folder,
        })
    }

    fn files_url(&mut self) -> Result<Option<String>, FileError> {
        sftp::files_url().map_err(file_error)
    }

    fn create(&mut self, path: &str) -> Result<Box<dyn Upload + '_>, FileError> {
        Ok(Box::new(sftp::create(path).map_err(file_error)?))
    }

    fn open(&mut self, path: &str) -> Result<Box<dyn Download + '_>, FileError> {
        Ok(Box::new(sftp::open(path).map_err(file_error)?))
    }

    fn list_dir(&mut self, dir: &str) -> Result<Vec<FileEntry>, FileError> {
        Ok(sftp::list_dir(dir)
            .map_err(file_error)?
            .into_iter()
            .map(|e| FileEntry {
                name: e.name,
                size: e.size,
                is_dir: e.is_dir,
            })
            .collect())
    }

    fn remove(&mut self, path: &str) -> Result<(), FileError> {
        sftp::remove(path).map_err(file_error)
    }
}

/// The platform's streams: `cordial:jobs/streams`.
pub struct PlatformStreams;

impl Streams for PlatformStreams {
    fn append(&mut self, stream: &str, records: Vec<StreamRecord>) -> Result<(), PortError> {
        // The records move into the binding's type: no copy of their text.
        let records: Vec<streams::StreamRecord> = records
            .into_iter()
            .map(|r| streams::StreamRecord {
                key: r.key,
                body: r.body,
            })
            .collect();
        streams::append(stream, &records).map_err(PortError)
    }

    fn flush(&mut self) -> Result<EmitSummary, PortError> {
        let s = streams::flush().map_err(PortError)?;
        Ok(EmitSummary {
            accepted: s.accepted,
            duplicates: s.duplicates,
            rejected: s.rejected,
        })
    }

    fn quarantine(&mut self, stream: &str, entries: &[Quarantined]) -> Result<(), PortError> {
        let entries: Vec<streams::Quarantined> = entries
            .iter()
            .map(|q| streams::Quarantined {
                file: q.file.clone(),
                line: q.line,
                reason: q.reason.clone(),
                text: q.text.clone(),
            })
            .collect();
        streams::quarantine(stream, &entries).map_err(PortError)
    }
}

/// The members waiting for the bulk export: `cordial:jobs/members`.
pub struct PlatformMembers;

impl Members for PlatformMembers {
    fn high_water(&mut self) -> Result<u64, PortError> {
        members::high_water().map_err(PortError)
    }

    fn page(&mut self, after: u64, up_to: u64, limit: u32) -> Result<Vec<Member>, PortError> {
        Ok(members::page(after, up_to, limit)
            .map_err(PortError)?
            .into_iter()
            .map(|m| ports::Member {
                seq: m.seq,
                entered: m.entered,
                user: m.user,
            })
            .collect())
    }

    fn acknowledge(&mut self, up_to: u64) -> Result<u64, PortError> {
        members::acknowledge(up_to).map_err(PortError)
    }
}
