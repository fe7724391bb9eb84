//! The record of a scheduled job's run: opened before the first call, closed with how the
//! run ended and what it did.

use super::{Counts, Rejections, RunState, Trigger};
use crate::config::JobConfig;
use crate::db::{Db, RunEnd};
use crate::runtime::{CallContext, CallError, RunOutcome, RunStats, Runtime};
use cordial_jobs::activity::export::CURSOR_KEY;
use cordial_jobs::settings::JobKind;

/// [`Runtime::run`], recorded. Call it holding the job's run lock. A record that cannot be
/// written is logged and does not stop the run: the run's work matters more than its record.
pub async fn recorded_run(
    runtime: &Runtime,
    job: &JobConfig,
    call: &CallContext,
    trigger: Trigger,
) -> Result<RunOutcome, CallError> {
    let db = runtime.db().clone();
    let opened = {
        let (job, call) = (job.clone(), call.clone());
        db.blocking(move |db| {
            super::close_abandoned(db, &job.name);
            let before = cursor(db, &job);
            let id = db.open_run(&call.run_id, &job.name, trigger.as_str(), &call.started_at)?;
            Ok((id, before))
        })
        .await
    };
    let result = runtime.run_measured(job, call).await;
    match opened {
        Ok((id, before)) => {
            let days = runtime.config().run_history_days;
            let (state, counts, error) = ending(job, &result, before);
            let closed = {
                let job = job.clone();
                db.blocking(move |db| {
                    let mut counts = counts;
                    counts.cursor_after = cursor(db, &job);
                    db.close_run(
                        id,
                        &RunEnd {
                            state: state.as_str(),
                            ended_at: &super::now(),
                            counts: &counts.to_json(),
                            rejections: &Rejections::default().to_json(),
                            last_error: error.as_deref(),
                        },
                    )?;
                    super::prune(db, days);
                    Ok(())
                })
                .await
            };
            if let Err(e) = closed {
                tracing::warn!(job = %job.name, "could not record the end of the run: {e:#}");
            }
        }
        Err(e) => tracing::warn!(job = %job.name, "could not record the run's start: {e:#}"),
    }
    result.map(|(outcome, _)| outcome)
}

/// Import Activity's cursor as the job saved it.
fn cursor(db: &Db, job: &JobConfig) -> Option<String> {
    if job.kind != JobKind::ImportActivity {
        return None;
    }
    let bytes = db.state_get(&job.name, CURSOR_KEY).ok()??;
    String::from_utf8(bytes).ok()
}

/// The run's state, counts and last error.
fn ending(
    job: &JobConfig,
    result: &Result<(RunOutcome, RunStats), CallError>,
    cursor_before: Option<String>,
) -> (RunState, Counts, Option<String>) {
    let mut counts = Counts {
        cursor_before,
        ..Counts::default()
    };
    let (outcome, stats) = match result {
        Ok((outcome, stats)) => (outcome, stats),
        Err(e @ CallError::TimedOut { .. }) => {
            return (RunState::TimedOut, counts, Some(e.to_string()));
        }
        Err(e) => return (RunState::Failed, counts, Some(e.to_string())),
    };
    let report = match outcome {
        RunOutcome::Completed(report) => Some(report),
        RunOutcome::Failed(_) => None,
    };
    match job.kind {
        JobKind::ImportActivity => {
            counts.read = report.map(|r| r.records_read);
            counts.stored = Some(stats.emitted.stored);
            counts.duplicates = Some(stats.emitted.duplicates);
            counts.quarantined = Some(stats.emitted.quarantined);
        }
        _ => {
            counts.read = report.map(|r| r.records_read);
            counts.exported = report.map(|r| r.records_written);
            counts.omitted = report.map(|r| r.records_rejected);
        }
    }
    match outcome {
        RunOutcome::Completed(r) if r.records_rejected > 0 => {
            (RunState::PartiallySucceeded, counts, None)
        }
        RunOutcome::Completed(_) => (RunState::Succeeded, counts, None),
        RunOutcome::Failed(e) => (RunState::Failed, counts, Some(e.to_string())),
    }
}
