//! Writing the batch's CSV files: pages of pending members streamed into uploads of at most
//! 30,000 rows, each published under its final name only when complete.

use cordial_guest::types::JobError;
use cordial_guest::{platform, sftp, state};
use cordial_jobs::bulk::batch::{Batch, BatchFile, STATE_KEY};
use cordial_jobs::bulk::{BulkColumns, MAX_ROWS_PER_FILE};
use cordial_jobs::realtime::AttributeTypes;
use cordial_jobs::settings::ExportSettings;

/// Members read from the host per call.
const PAGE: u32 = 5_000;
/// Bytes buffered before they go to the SFTP server.
const CHUNK: usize = 256 * 1024;

pub fn write_all(
    job: &str,
    settings: &ExportSettings,
    types: &AttributeTypes,
    columns: &BulkColumns,
    batch: &mut Batch,
) -> Result<(), JobError> {
    loop {
        let n = batch.files.len() + 1;
        let name = batch.file_name(job, n);
        // A dropped connection costs this file, not the run: the host reconnects on the
        // next call, so the file is written again once from its first member.
        let written = match write_file(&name, settings, types, columns, batch) {
            Err(sftp::SftpError::Connection(m)) => {
                cordial_guest::warn(&format!("{name}: {m}; writing the file again"));
                write_file(&name, settings, types, columns, batch)
            }
            other => other,
        }
        .map_err(|e| cordial_guest::sftp_job_error(&format!("writing {name}"), e))?;
        match written {
            Some((file, rejected)) => {
                batch.rejected += rejected;
                cordial_guest::info(&format!("wrote {} ({} rows)", file.name, file.rows));
                batch.files.push(file);
                state::set(STATE_KEY, &batch.to_bytes());
            }
            None => break,
        }
    }
    batch.written = true;
    state::set(STATE_KEY, &batch.to_bytes());
    Ok(())
}

/// Writes one file from the batch's resume point; `None` when no member is left.
fn write_file(
    name: &str,
    settings: &ExportSettings,
    types: &AttributeTypes,
    columns: &BulkColumns,
    batch: &Batch,
) -> Result<Option<(BatchFile, u64)>, sftp::SftpError> {
    let mut after = batch.resume_after();
    let mut page = next_page(after, batch.up_to, PAGE)?;
    if page.is_empty() {
        return Ok(None);
    }
    let upload = sftp::create(name)?;
    let mut buffer = Vec::with_capacity(CHUNK + 4096);
    columns.write_header(&mut buffer);
    let (mut rows, mut rejected) = (0usize, 0u64);
    'file: while !page.is_empty() {
        for member in &page {
            if rows == MAX_ROWS_PER_FILE {
                break 'file;
            }
            after = member.seq;
            match columns.write_member(&mut buffer, settings, types, member.entered, &member.user) {
                Ok(()) => rows += 1,
                Err(why) => {
                    rejected += 1;
                    cordial_guest::warn(&format!("member #{} skipped: {}", member.seq, why.0));
                }
            }
            if buffer.len() >= CHUNK {
                upload.write(&buffer)?;
                buffer.clear();
            }
        }
        let room = (MAX_ROWS_PER_FILE - rows).min(PAGE as usize) as u32;
        if room == 0 {
            break;
        }
        page = next_page(after, batch.up_to, room)?;
    }
    if !buffer.is_empty() {
        upload.write(&buffer)?;
    }
    upload.finish()?;
    Ok(Some((
        BatchFile {
            name: name.to_owned(),
            rows: rows as u64,
            last_seq: after,
            registering: false,
            job_id: None,
            outcome: None,
        },
        rejected,
    )))
}

fn next_page(
    after: u64,
    up_to: u64,
    limit: u32,
) -> Result<Vec<platform::PendingMember>, sftp::SftpError> {
    platform::pending_page(after, up_to, limit).map_err(sftp::SftpError::Other)
}
