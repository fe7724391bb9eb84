//! The Spin side of Import Activity's two project interfaces, composed in front of the
//! unchanged job component:
//!
//! - `cordial:jobs/sftp` as a real SFTP session to the customer's server, over SSH on
//!   `wasi:sockets` TCP (Spin permits `tcp://host:port` in `allowed_outbound_hosts`), with
//!   the login from the entry's variables ([`login`]). The password lives in this adapter
//!   and the proxy (which fills the job's placeholder in the export request), never in the
//!   job;
//! - `cordial:jobs/streams` as the job's streams in Spin's key-value store
//!   (`cordial_spin_glue::stream`), which the entry serves to the platform.

mod login;
mod session;

use cordial_jobs::ports::EmitSummary as Stored;
use cordial_jobs::ports::paths::join_inside;
use cordial_spin_glue::kv::now_ms;
use cordial_spin_glue::settings::Variables;
use cordial_spin_glue::stream::{Record, Stream};
use exports::cordial::jobs::sftp::{self, Entry, Remote, SftpError};
use exports::cordial::jobs::streams::{self, EmitSummary, Quarantined, StreamRecord};
use serde_json::json;
use session::to_wit;
use std::cell::{Cell, RefCell};

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package cordial:spin-adapters;
        world activity-store {
            export cordial:jobs/sftp@0.2.0;
            export cordial:jobs/streams@0.2.0;
        }
    ",
    world: "cordial:spin-adapters/activity-store",
    generate_all,
});

struct Store;

/// `path` inside the configured folder.
fn inside(folder: &str, path: &str) -> Result<String, SftpError> {
    join_inside(folder, path).map_err(SftpError::OutsideRoot)
}

impl sftp::Guest for Store {
    type Upload = Upload;
    type Download = Download;

    fn describe() -> Result<Remote, SftpError> {
        let login = login::read()?;
        Ok(Remote {
            server: login.ssh.host,
            port: login.ssh.port,
            username: login.ssh.username,
            folder: login.folder,
        })
    }

    fn files_url() -> Result<Option<String>, SftpError> {
        Ok(None)
    }

    fn create(path: String) -> Result<sftp::Upload, SftpError> {
        session::with(|s, folder| {
            let path = inside(folder, &path)?;
            let handle = s.create(&path).map_err(to_wit)?;
            Ok(sftp::Upload::new(Upload(RefCell::new(Some((handle, 0))))))
        })
    }

    fn open(path: String) -> Result<sftp::Download, SftpError> {
        session::with(|s, folder| {
            let path = inside(folder, &path)?;
            let handle = s.open(&path).map_err(to_wit)?;
            Ok(sftp::Download::new(Download(RefCell::new(Some((
                handle, 0,
            ))))))
        })
    }

    fn list_dir(dir: String) -> Result<Vec<Entry>, SftpError> {
        session::with(|s, folder| {
            let dir = inside(folder, &dir)?;
            Ok(s.list_dir(&dir)
                .map_err(to_wit)?
                .into_iter()
                .map(|e| Entry {
                    name: e.name,
                    size: e.size,
                    is_dir: e.is_dir,
                    modified: e.modified,
                })
                .collect())
        })
    }

    fn remove(path: String) -> Result<(), SftpError> {
        session::with(|s, folder| {
            let path = inside(folder, &path)?;
            s.remove(&path).map_err(to_wit)
        })
    }
}

/// An open remote file and how far it has been written; `None` once finished.
struct Upload(RefCell<Option<(cordial_ssh_sftp::Handle, u64)>>);

impl sftp::GuestUpload for Upload {
    fn write(&self, chunk: Vec<u8>) -> Result<(), SftpError> {
        let mut open = self.0.borrow_mut();
        let (handle, offset) = open
            .as_mut()
            .ok_or_else(|| SftpError::Other("the upload is already finished".into()))?;
        session::with(|s, _| s.write(handle, *offset, &chunk).map_err(to_wit))?;
        *offset += chunk.len() as u64;
        Ok(())
    }

    fn finish(&self) -> Result<(), SftpError> {
        match self.0.borrow_mut().take() {
            Some((handle, _)) => session::with(|s, _| s.close(handle).map_err(to_wit)),
            None => Ok(()),
        }
    }
}

/// An open remote file and how far it has been read; `None` after the end.
struct Download(RefCell<Option<(cordial_ssh_sftp::Handle, u64)>>);

impl sftp::GuestDownload for Download {
    fn read(&self, max_bytes: u32) -> Result<Vec<u8>, SftpError> {
        let mut open = self.0.borrow_mut();
        let Some((handle, offset)) = open.as_mut() else {
            return Ok(Vec::new());
        };
        let chunk = session::with(|s, _| s.read(handle, *offset, max_bytes).map_err(to_wit))?;
        *offset += chunk.len() as u64;
        if chunk.is_empty()
            && let Some((handle, _)) = open.take()
        {
            // Closing is tidying up: the bytes are all read, so a failure here changes nothing.
            let _ = session::with(|s, _| s.close(handle).map_err(to_wit));
        }
        Ok(chunk)
    }
}

/// Appends `records` to the stream `name`: durable when this returns.
fn store(name: &str, records: &[StreamRecord]) -> Result<Stored, String> {
    let records: Vec<Record<'_>> = records
        .iter()
        .map(|r| Record {
            key: r.key.as_deref(),
            body: &r.body,
        })
        .collect();
    stream(name)?.append(&records)
}

/// What the stream took, as the job is told.
fn summary(s: Stored) -> EmitSummary {
    EmitSummary {
        accepted: s.accepted,
        duplicates: s.duplicates,
        rejected: s.rejected,
    }
}

/// The job's stream `name`.
fn stream(name: &str) -> Result<Stream, String> {
    Stream::open(Variables::read()?.job()?, name)
}

thread_local! {
    /// What `append` stored since the last `flush`: Spin's key-value writes are done when
    /// they return, so an append here is already durable and a flush only reports.
    static UNREPORTED: Cell<Stored> = Cell::default();
}

impl streams::Guest for Store {
    fn emit(stream_name: String, records: Vec<StreamRecord>) -> Result<EmitSummary, String> {
        store(&stream_name, &records).map(summary)
    }

    fn append(stream_name: String, records: Vec<StreamRecord>) -> Result<(), String> {
        let stored = store(&stream_name, &records)?;
        UNREPORTED.with(|u| {
            u.set({
                let mut so_far = u.get();
                so_far += stored;
                so_far
            })
        });
        Ok(())
    }

    fn flush() -> Result<EmitSummary, String> {
        Ok(summary(UNREPORTED.with(Cell::take)))
    }

    fn quarantine(stream_name: String, entries: Vec<Quarantined>) -> Result<(), String> {
        let entries: Vec<_> = entries
            .into_iter()
            .map(|q| json!({ "file": q.file, "line": q.line, "reason": q.reason, "text": q.text }))
            .collect();
        stream(&stream_name)?.quarantine(&entries, now_ms())
    }
}

export!(Store);
