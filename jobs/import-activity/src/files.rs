//! Streaming the export's files into the stream: read in chunks, records mapped one at a
//! time, emitted in batches (each batch durable before the next), malformed records
//! quarantined with their file and line. A file is marked imported only when all its
//! records are stored; a file that cannot be read fails the run.

use cordial_guest::platform::{self, Quarantined, StreamRecord};
use cordial_guest::types::JobError;
use cordial_guest::{sftp, state};
use cordial_jobs::activity::export::{EXPORT_KEY, WindowExport};
use cordial_jobs::activity::reader::{BROKEN, records};
use cordial_jobs::activity::record::{RecordMapper, STREAM};
use cordial_jobs::settings::ImportActivitySettings;

/// Records per emit call.
const BATCH: usize = 2_000;
/// Bytes asked of the host per read.
const CHUNK: u32 = 1 << 20;

/// Imports every file of the export not yet imported; returns all the export's file names.
pub fn import_all(
    settings: &ImportActivitySettings,
    window: &mut WindowExport,
) -> Result<Vec<String>, JobError> {
    let mut names: Vec<String> = sftp::list_dir("")
        .map_err(|e| cordial_guest::sftp_job_error("listing the export files", e))?
        .into_iter()
        .filter(|e| !e.is_dir && window.owns(&e.name))
        .map(|e| e.name)
        .collect();
    names.sort();
    for name in &names {
        if window.imported.contains(name) {
            continue;
        }
        let (stored, quarantined) = import_file(name, settings)?;
        window.records += stored;
        window.quarantined += quarantined;
        window.imported.push(name.clone());
        state::set(EXPORT_KEY, &window.to_bytes());
        cordial_guest::info(&format!(
            "{name}: {stored} record(s) stored, {quarantined} quarantined"
        ));
    }
    Ok(names)
}

/// The SFTP download as a `Read`.
struct Remote(sftp::Download, String);

impl std::io::Read for Remote {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = (buf.len() as u32).min(CHUNK);
        let chunk = self
            .0
            .read(want)
            .map_err(|e| std::io::Error::other(format!("{}: {e:?}", self.1)))?;
        buf[..chunk.len()].copy_from_slice(&chunk);
        Ok(chunk.len())
    }
}

fn import_file(name: &str, settings: &ImportActivitySettings) -> Result<(u64, u64), JobError> {
    let download = sftp::open(name)
        .map_err(|e| cordial_guest::sftp_job_error(&format!("opening {name}"), e))?;
    let broken = |why: String| {
        JobError::Permanent(format!(
            "{name} cannot be read ({why}); nothing after its last stored batch is lost and the cursor stays put"
        ))
    };
    let items = records(name, Remote(download, name.to_owned())).map_err(broken)?;
    let (mut stored, mut bad) = (0u64, 0u64);
    let mut batch: Vec<StreamRecord> = Vec::with_capacity(BATCH);
    let mut quarantine: Vec<Quarantined> = Vec::new();
    let mapper = RecordMapper::new(&settings.extra_mapping);
    for (line, item) in items {
        let mapped = match item {
            Err(e) if e.starts_with(BROKEN) => return Err(broken(e)),
            Err(e) => Err((e, String::new())),
            Ok(text) => mapper.map(&text).map_err(|e| (e, text)),
        };
        match mapped {
            Ok(r) => batch.push(StreamRecord {
                key: Some(r.key),
                body: r.json,
            }),
            Err((reason, text)) => {
                bad += 1;
                quarantine.push(Quarantined {
                    file: name.to_owned(),
                    line,
                    reason,
                    text,
                });
            }
        }
        if batch.len() == BATCH {
            stored += emit(&mut batch)?;
        }
    }
    stored += emit(&mut batch)?;
    if !quarantine.is_empty() {
        platform::quarantine(STREAM, &quarantine).map_err(JobError::Transient)?;
    }
    Ok((stored, bad))
}

/// Emits the batch; returns how many records it added or found already stored.
fn emit(batch: &mut Vec<StreamRecord>) -> Result<u64, JobError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let summary = platform::emit(STREAM, batch).map_err(JobError::Transient)?;
    batch.clear();
    Ok(u64::from(summary.accepted) + u64::from(summary.duplicates))
}
