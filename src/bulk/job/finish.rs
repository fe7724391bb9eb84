//! The end of a batch whose every file has an outcome: the members are acknowledged (only if
//! every import succeeded), the files removed, the batch forgotten, and the report says
//! what Cordial did with each file.
//!
//! The batch is forgotten last, so a run that dies on the way is resumed here and does the
//! rest (acknowledging twice is harmless; forgetting first would export the members again).

use crate::bulk::batch::{Batch, FileOutcome};
use crate::job::{JobError, RunReport};
use crate::ports::{Env, Files, Members};
use crate::scheduled::Checkpoint;
use crate::scheduled::remove_files;
use crate::settings::ExportSettings;

pub(super) fn finish(
    env: &mut Env<'_>,
    files: &mut dyn Files,
    members: &mut dyn Members,
    settings: &ExportSettings,
    batch: &Batch,
) -> Result<RunReport, JobError> {
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
            None => unreachable!("a batch is finished only when every file has an outcome"),
        }
    }
    if !failed.is_empty() {
        // The members stay pending: the next run writes them again in a new batch.
        Batch::forget(env.state)?;
        return Err(JobError::Permanent(format!(
            "Cordial could not import {} of {} file(s); the members stay pending for the next run: {}",
            failed.len(),
            batch.files.len(),
            failed.join("; ")
        )));
    }
    members
        .acknowledge(batch.up_to)
        .map_err(|e| JobError::from_port("acknowledging the exported members", e))?;
    if !settings.keep_files {
        let names: Vec<String> = batch.files.iter().map(|f| f.name.clone()).collect();
        remove_files(files, env.log, &names);
    }
    for line in &lines {
        env.info(line);
    }
    Batch::forget(env.state)?;
    let rows: u64 = batch.files.iter().map(|f| f.rows).sum();
    let summary = format!(
        "exported {rows} member(s) in {} file(s) (batch {}); {} skipped as unusable",
        batch.files.len(),
        batch.id,
        batch.rejected
    );
    Ok(report(
        env,
        rows + batch.rejected,
        written,
        batch.rejected,
        summary,
    ))
}

/// The run's report, logged as well so the operator sees it in the host's log.
pub(super) fn report(
    env: &mut Env<'_>,
    read: u64,
    written: u64,
    rejected: u64,
    summary: String,
) -> RunReport {
    env.info(&summary);
    RunReport {
        records_read: read,
        records_written: written,
        records_rejected: rejected,
        summary,
    }
}
