//! One run: resume or start a batch, write its files, register and follow their imports,
//! and acknowledge the members once every file is in Cordial.

use crate::{files, imports};
use cordial_guest::types::{JobError, RunContext, RunReport};
use cordial_guest::{platform, sftp, state};
use cordial_jobs::bulk::BulkColumns;
use cordial_jobs::bulk::batch::{Batch, FileOutcome, STATE_KEY};
use cordial_jobs::cordial::audience_list_name;
use cordial_jobs::settings::ExportSettings;

pub fn run(ctx: &RunContext, config: &str) -> Result<RunReport, JobError> {
    let settings: ExportSettings =
        cordial_guest::parse_settings(config).map_err(JobError::InvalidConfig)?;
    let list = settings
        .list
        .clone()
        .unwrap_or_else(|| audience_list_name(&settings.audience));
    let remote = sftp::describe().map_err(|e| cordial_guest::sftp_job_error("connecting", e))?;

    let mut batch = match state::get(STATE_KEY) {
        Some(bytes) => {
            let batch = Batch::from_bytes(&bytes).map_err(JobError::Permanent)?;
            cordial_guest::info(&format!(
                "resuming batch {} ({} file(s) so far)",
                batch.id,
                batch.files.len()
            ));
            batch
        }
        None => {
            let up_to = platform::pending_high_water().map_err(JobError::Transient)?;
            if up_to == 0 {
                return Ok(report(
                    0,
                    0,
                    0,
                    "no pending members; nothing to export".into(),
                ));
            }
            let batch = Batch::new(batch_id(ctx), up_to);
            state::set(STATE_KEY, &batch.to_bytes());
            batch
        }
    };

    let mut client = cordial_guest::scheduled_client(ctx);
    if !batch.written {
        cordial_guest::ensure_list(&mut client, &list).map_err(|e| cordial_guest::job_error(&e))?;
        let types = cordial_guest::attribute_types(&mut client, ctx, &settings)
            .map_err(|e| cordial_guest::job_error(&e))?;
        let columns = BulkColumns::new(&settings, &list);
        files::write_all(&ctx.job_name, &settings, &types, &columns, &mut batch)?;
    }

    imports::register_all(&mut client, &remote, &settings, &mut batch)?;
    imports::follow_all(&mut client, &settings, &mut batch)?;
    finish(&settings, batch)
}

/// Every file has an outcome: acknowledge the members (if all imports succeeded), tidy up,
/// and say what Cordial did with each file.
fn finish(settings: &ExportSettings, batch: Batch) -> Result<RunReport, JobError> {
    let mut lines = Vec::new();
    let (mut written, mut failed) = (0u64, Vec::new());
    for file in &batch.files {
        match &file.outcome {
            Some(FileOutcome::Done(c)) => {
                written += c.inserted + c.updated;
                lines.push(format!(
                    "{}: {} rows, inserted {}, updated {}, rejected {}, errors {}",
                    file.name, file.rows, c.inserted, c.updated, c.rejected, c.errors
                ));
            }
            Some(FileOutcome::Failed { message }) => {
                failed.push(format!("{}: {message}", file.name));
            }
            None => unreachable!("finish is only called when every file has an outcome"),
        }
    }
    let rows: u64 = batch.files.iter().map(|f| f.rows).sum();
    state::delete(STATE_KEY);
    if !failed.is_empty() {
        // The members stay pending: the next run writes them again in a new batch.
        return Err(JobError::Permanent(format!(
            "Cordial could not import {} of {} file(s); the members stay pending for the next run: {}",
            failed.len(),
            batch.files.len(),
            failed.join("; ")
        )));
    }
    platform::pending_acknowledge(batch.up_to).map_err(JobError::Transient)?;
    if !settings.keep_files {
        for file in &batch.files {
            if let Err(e) = sftp::remove(&file.name) {
                cordial_guest::warn(&format!("could not remove {}: {e:?}", file.name));
            }
        }
    }
    for line in &lines {
        cordial_guest::info(line);
    }
    let summary = format!(
        "exported {rows} member(s) in {} file(s) (batch {}); {} skipped as unusable",
        batch.files.len(),
        batch.id,
        batch.rejected
    );
    Ok(report(
        rows + batch.rejected,
        written,
        batch.rejected,
        summary,
    ))
}

fn report(read: u64, written: u64, rejected: u64, summary: String) -> RunReport {
    cordial_guest::info(&summary);
    RunReport {
        records_read: read,
        records_written: written,
        records_rejected: rejected,
        summary,
    }
}

/// `20261122T030000Z-1a2b`: the run's start time, readable in file names, plus a piece of
/// the run id so two batches never share a name.
fn batch_id(ctx: &RunContext) -> String {
    let stamp: String = ctx
        .started_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let tail: String = ctx
        .run_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .rev()
        .take(6)
        .collect();
    format!("{stamp}Z-{tail}")
}
