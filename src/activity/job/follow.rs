//! One poll of the window's export: Done lets the run go on to the files, Failed is a
//! permanent error with Cordial's message, and still working is [`Progress::Waiting`] (or,
//! past the deadline, a transient error that leaves the window to the next run).

use crate::activity::export::WindowExport;
use crate::cordial::jobs::{JobState, get_job, job_state};
use crate::job::{JobError, Progress};
use crate::ports::Env;
use crate::scheduled::Checkpoint;
use crate::scheduled::{base_url, call_json};
use crate::settings::ImportActivitySettings;
use std::ops::ControlFlow;
use std::time::Duration;

pub(super) fn poll(
    env: &mut Env<'_>,
    settings: &ImportActivitySettings,
    window: &mut WindowExport,
) -> Result<ControlFlow<Progress>, JobError> {
    let id = window
        .job_id
        .clone()
        .expect("the export is requested before it is followed");
    let status = match job_state(&call_json(env, &get_job(base_url(env.ctx), &id))?) {
        JobState::Done(_) => return Ok(ControlFlow::Continue(())),
        JobState::Failed(message) => {
            return Err(JobError::Permanent(format!(
                "Cordial's activity export {} (job {id}) failed: {message}; the cursor stays at {}",
                window.name, window.start
            )));
        }
        JobState::Running(status) => status,
    };
    let deadline = Duration::from_secs(settings.export_deadline_minutes * 60);
    let next = window.following.still_working(env.clock.now(), deadline);
    window.save(env.state)?;
    match next {
        Some(after) => Ok(ControlFlow::Break(Progress::Waiting {
            after,
            reason: format!(
                "Cordial is still exporting {} (job {id}, {status})",
                window.name
            ),
        })),
        None => Err(JobError::Transient(format!(
            "Cordial is still exporting {} (job {id}, {status}); the next run follows it up",
            window.name
        ))),
    }
}
