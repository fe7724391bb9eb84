//! Writing the batch's CSV files: pages of pending members streamed into uploads of at most
//! 30,000 rows, each published under its final name only when complete, and saved in the
//! batch before the next file begins.

use crate::bulk::batch::{Batch, BatchFile};
use crate::bulk::{BulkColumns, MAX_ROWS_PER_FILE};
use crate::job::JobError;
use crate::ports::{Env, FileError, Files, Level, Log, Member, Members, PortError};
use crate::scheduled::Checkpoint;

/// Members read per page.
const PAGE: u32 = 5_000;
/// Bytes buffered before they go to the file server.
const CHUNK: usize = 256 * 1024;

/// Why a file could not be written.
enum WriteError {
    Files(FileError),
    Members(PortError),
}

pub(super) fn write_all(
    env: &mut Env<'_>,
    files: &mut dyn Files,
    members: &mut dyn Members,
    columns: &BulkColumns,
    batch: &mut Batch,
) -> Result<(), JobError> {
    loop {
        let name = batch.file_name(&env.ctx.job_name, batch.files.len() + 1);
        // A dropped connection costs this file, not the run: the file is written again
        // once, from its first member.
        let written = match write_file(files, members, env.log, columns, batch, &name) {
            Err(WriteError::Files(FileError::Connection(m))) => {
                env.warn(&format!("{name}: {m}; writing the file again"));
                write_file(files, members, env.log, columns, batch, &name)
            }
            other => other,
        }
        .map_err(|e| match e {
            WriteError::Files(e) => JobError::from_files(&format!("writing {name}"), e),
            WriteError::Members(e) => JobError::from_port("reading the pending members", e),
        })?;
        let Some((file, rejected)) = written else {
            break;
        };
        batch.rejected += rejected;
        env.info(&format!("wrote {} ({} rows)", file.name, file.rows));
        batch.files.push(file);
        batch.save(env.state)?;
    }
    batch.written = true;
    batch.save(env.state)
}

/// Writes one file from the batch's resume point; `None` when no member is left. Returns
/// the file and how many of its members were skipped as unusable.
fn write_file(
    files: &mut dyn Files,
    members: &mut dyn Members,
    log: &mut dyn Log,
    columns: &BulkColumns,
    batch: &Batch,
    name: &str,
) -> Result<Option<(BatchFile, u64)>, WriteError> {
    let mut after = batch.resume_after();
    let mut page = next_page(members, after, batch.up_to, PAGE)?;
    if page.is_empty() {
        return Ok(None);
    }
    let mut upload = files.create(name).map_err(WriteError::Files)?;
    let mut buffer = Vec::with_capacity(CHUNK + 4096);
    columns.write_header(&mut buffer);
    let (mut written, mut rejected) = (0usize, 0u64);
    'file: while !page.is_empty() {
        for member in &page {
            if written == MAX_ROWS_PER_FILE {
                break 'file;
            }
            after = member.seq;
            match columns.write_member(&mut buffer, member.entered, &member.user) {
                Ok(()) => written += 1,
                Err(why) => {
                    rejected += 1;
                    log.log(
                        Level::Warn,
                        &format!("member #{} skipped: {}", member.seq, why.0),
                    );
                }
            }
            if buffer.len() >= CHUNK {
                upload.write(&buffer).map_err(WriteError::Files)?;
                buffer.clear();
            }
        }
        let room = (MAX_ROWS_PER_FILE - written).min(PAGE as usize) as u32;
        if room == 0 {
            break;
        }
        page = next_page(members, after, batch.up_to, room)?;
    }
    if !buffer.is_empty() {
        upload.write(&buffer).map_err(WriteError::Files)?;
    }
    upload.finish().map_err(WriteError::Files)?;
    Ok(Some((
        BatchFile {
            name: name.to_owned(),
            rows: written as u64,
            last_seq: after,
            registering: false,
            job_id: None,
            outcome: None,
        },
        rejected,
    )))
}

fn next_page(
    members: &mut dyn Members,
    after: u64,
    up_to: u64,
    limit: u32,
) -> Result<Vec<Member>, WriteError> {
    members
        .page(after, up_to, limit)
        .map_err(WriteError::Members)
}
