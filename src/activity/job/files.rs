//! Streaming the export's files into the stream: read in chunks, records mapped one at a
//! time, appended in batches (the platform stores one batch while the next is parsed),
//! malformed records quarantined with their file and line. A file is marked imported only
//! after a flush says all its records are durable; a file that cannot be read fails the run.

use crate::activity::export::WindowExport;
use crate::activity::reader::{BROKEN, records};
use crate::activity::record::{RecordMapper, STREAM};
use crate::job::JobError;
use crate::ports::{Download, Env, FileError, Files, Quarantined, StreamRecord, Streams};
use crate::scheduled::Checkpoint;
use crate::settings::ImportActivitySettings;

/// Records per append.
const BATCH: usize = 2_000;
/// Bytes asked of the file server per read.
const CHUNK: usize = 1 << 20;

/// Imports every file of the export not yet imported, in name order.
pub(super) fn import_all(
    env: &mut Env<'_>,
    files: &mut dyn Files,
    streams: &mut dyn Streams,
    settings: &ImportActivitySettings,
    window: &mut WindowExport,
) -> Result<(), JobError> {
    let mut names: Vec<String> = files
        .list_dir("")
        .map_err(|e| JobError::from_files("listing the export files", e))?
        .into_iter()
        .filter(|e| !e.is_dir && window.owns(&e.name) && !window.imported.contains(&e.name))
        .map(|e| e.name)
        .collect();
    names.sort();
    let mapper = RecordMapper::new(&settings.extra_mapping);
    for name in names {
        let counts = import_file(files, streams, &mapper, &name)?;
        window.records += counts.stored;
        window.quarantined += counts.quarantined;
        env.info(&format!(
            "{name}: {} record(s) stored, {} quarantined",
            counts.stored, counts.quarantined
        ));
        window.imported.push(name);
        window.save(env.state)?;
    }
    Ok(())
}

/// What became of one file's records.
struct FileCounts {
    /// Added to the stream, or found there already (a resumed file).
    stored: u64,
    quarantined: u64,
}

/// Why a file's records stopped.
enum Stopped {
    /// The file itself cannot be read (or the server stopped serving it).
    Unreadable(String),
    Job(JobError),
}

fn import_file(
    files: &mut dyn Files,
    streams: &mut dyn Streams,
    mapper: &RecordMapper<'_>,
    name: &str,
) -> Result<FileCounts, JobError> {
    let download = files
        .open(name)
        .map_err(|e| JobError::from_files(&format!("opening {name}"), e))?;
    let mut lost = None;
    let reader = DownloadReader {
        download,
        lost: &mut lost,
    };
    match store_records(streams, mapper, name, reader) {
        Ok(counts) => Ok(counts),
        Err(Stopped::Job(e)) => Err(e),
        Err(Stopped::Unreadable(why)) => Err(match lost {
            // The server failed, not the file (a dropped connection is read again later).
            Some(e) => JobError::from_files(&format!("reading {name}"), e),
            None => JobError::Permanent(format!(
                "{name} cannot be read ({why}); nothing after its last stored batch is lost and the cursor stays put"
            )),
        }),
    }
}

/// Maps and stores the records of one file; the quarantine gets its malformed ones.
fn store_records(
    streams: &mut dyn Streams,
    mapper: &RecordMapper<'_>,
    name: &str,
    source: DownloadReader<'_, '_>,
) -> Result<FileCounts, Stopped> {
    let items = records(name, source).map_err(Stopped::Unreadable)?;
    let mut counts = FileCounts {
        stored: 0,
        quarantined: 0,
    };
    let mut batch: Vec<StreamRecord> = Vec::with_capacity(BATCH);
    let mut quarantine: Vec<Quarantined> = Vec::new();
    for (line, item) in items {
        let mapped = match item {
            Err(e) if e.starts_with(BROKEN) => return Err(Stopped::Unreadable(e)),
            Err(e) => Err((e, String::new())),
            Ok(text) => mapper.map(&text).map_err(|e| (e, text)),
        };
        match mapped {
            Ok(r) => batch.push(StreamRecord {
                key: Some(r.key),
                body: r.json,
            }),
            Err((reason, text)) => quarantine.push(Quarantined {
                file: name.to_owned(),
                line,
                reason,
                text,
            }),
        }
        if batch.len() == BATCH {
            append(streams, &mut batch)?;
        }
    }
    append(streams, &mut batch)?;
    let summary = streams
        .flush()
        .map_err(|e| Stopped::Job(JobError::from_port("storing records", e)))?;
    counts.stored = u64::from(summary.accepted) + u64::from(summary.duplicates);
    if !quarantine.is_empty() {
        streams
            .quarantine(STREAM, &quarantine)
            .map_err(|e| Stopped::Job(JobError::from_port("quarantining records", e)))?;
    }
    counts.quarantined = quarantine.len() as u64;
    Ok(counts)
}

/// Hands the batch over to be stored (durable at the file's flush), leaving it empty.
fn append(streams: &mut dyn Streams, batch: &mut Vec<StreamRecord>) -> Result<(), Stopped> {
    if batch.is_empty() {
        return Ok(());
    }
    let records = std::mem::replace(batch, Vec::with_capacity(BATCH));
    streams
        .append(STREAM, records)
        .map_err(|e| Stopped::Job(JobError::from_port("storing records", e)))
}

/// A download as a `Read`, keeping the file server's error (which `Read` can only pass on as
/// text) so the run can tell a lost connection from a broken file.
struct DownloadReader<'d, 'e> {
    download: Box<dyn Download + 'd>,
    lost: &'e mut Option<FileError>,
}

impl std::io::Read for DownloadReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.download.read(buf.len().min(CHUNK)) {
            Ok(chunk) => {
                buf[..chunk.len()].copy_from_slice(&chunk);
                Ok(chunk.len())
            }
            Err(e) => {
                let message = e.to_string();
                *self.lost = Some(e);
                Err(std::io::Error::other(message))
            }
        }
    }
}
