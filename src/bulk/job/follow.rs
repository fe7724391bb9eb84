//! One poll round over the batch's unfinished imports: each Done or Failed is recorded, and
//! while any is still running the call returns [`Progress::Waiting`] (or, past the
//! deadline, a transient error that leaves the batch to the next run).

use crate::bulk::batch::{Batch, FileOutcome};
use crate::cordial::jobs::{JobState, get_job, job_state};
use crate::job::{JobError, Progress};
use crate::ports::Env;
use crate::scheduled::Checkpoint;
use crate::scheduled::{base_url, call_json};
use crate::settings::ExportSettings;
use std::ops::ControlFlow;
use std::time::Duration;

pub(super) fn poll_round(
    env: &mut Env<'_>,
    settings: &ExportSettings,
    batch: &mut Batch,
) -> Result<ControlFlow<Progress>, JobError> {
    let base = base_url(env.ctx);
    // The first import still running: (file, job id, Cordial's status).
    let mut running: Option<(String, String, String)> = None;
    let mut finished_any = false;
    for file in batch.files.iter_mut().filter(|f| f.outcome.is_none()) {
        let Some(id) = file.job_id.clone() else {
            continue;
        };
        match job_state(&call_json(env, &get_job(base, &id))?) {
            JobState::Done(counts) => file.outcome = Some(FileOutcome::Done(counts)),
            JobState::Failed(message) => file.outcome = Some(FileOutcome::Failed { message }),
            JobState::Running(status) => {
                running.get_or_insert((file.name.clone(), id, status));
                continue;
            }
        }
        finished_any = true;
    }
    let Some((name, id, status)) = running else {
        if finished_any {
            batch.save(env.state)?;
        }
        return Ok(ControlFlow::Continue(()));
    };
    let deadline = Duration::from_secs(settings.import_deadline_minutes * 60);
    let next = batch.following.still_working(env.clock.now(), deadline);
    batch.save(env.state)?;
    match next {
        Some(after) => Ok(ControlFlow::Break(Progress::Waiting {
            after,
            reason: format!("Cordial is still importing {name} (job {id}, {status})"),
        })),
        None => Err(JobError::Transient(format!(
            "Cordial is still importing {name} (job {id}, {status}) after {} minute(s); \
             the next run follows it up",
            settings.import_deadline_minutes
        ))),
    }
}
