//! A background job's life, the same for imports and exports: `Pending` while
//! [`crate::EmulatorHandle::hold_jobs`] holds jobs, then `Processing` while its own
//! steps run, then `Done`, or `Failed` with Cordial's message when a step fails or
//! the job panics.

use std::future::Future;

use crate::http::app::App;
use crate::model::job::JobStatus;
use crate::time;

/// Why a job failed: Cordial's message, and the underlying error's own words (the
/// SFTP client's, the parser's) for the handle.
pub struct Failure {
    pub message: String,
    pub detail: String,
}

impl Failure {
    pub fn new(message: impl Into<String>, detail: impl ToString) -> Failure {
        Failure {
            message: message.into(),
            detail: detail.to_string(),
        }
    }
}

/// Runs the job `id` in the background, with `steps` as its work between
/// `Processing` and `Done`. `kind` (`import`, `export`) names the job in the log
/// and in the message of a job that panicked, which fails rather than staying
/// `Processing` for ever.
pub fn spawn<S>(app: App, id: String, kind: &'static str, steps: S)
where
    S: Future<Output = Result<(), Failure>> + Send + 'static,
{
    let job = tokio::spawn(run(app.clone(), id.clone(), kind, steps));
    tokio::spawn(async move {
        if let Err(e) = job.await {
            let message = format!("The {kind} failed because of an internal error.");
            finish_failed(&app, &id, kind, Failure::new(message, e));
        }
    });
}

async fn run<S>(app: App, id: String, kind: &'static str, steps: S)
where
    S: Future<Output = Result<(), Failure>>,
{
    let mut held = app.watch_hold();
    while *held.borrow_and_update() {
        if held.changed().await.is_err() {
            break;
        }
    }
    app.update_job(&id, |j| {
        j.status = JobStatus::Processing;
        j.started = Some(time::now());
    });
    match steps.await {
        Ok(()) => app.update_job(&id, |j| {
            j.status = JobStatus::Done;
            j.ended = Some(time::now());
        }),
        Err(failure) => finish_failed(&app, &id, kind, failure),
    }
}

/// Marks the job `Failed` (unless it already finished).
fn finish_failed(app: &App, id: &str, kind: &str, failure: Failure) {
    tracing::info!(job = id, message = %failure.message, detail = %failure.detail, "{kind} job failed");
    app.update_job(id, |j| {
        if j.status.is_finished() {
            return;
        }
        j.status = JobStatus::Failed;
        j.ended = Some(time::now());
        j.message = Some(failure.message);
        j.failure_detail = Some(failure.detail);
    });
}
