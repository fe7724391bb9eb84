//! The WIT types every job world shares (`cordial:jobs/types`, `outcomes`, `items`), to and
//! from the job types of `cordial_jobs`.

use crate::runtime::bindings::{items, outcomes, types};
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::job::{JobError, Outcome, Progress, RunContext, RunReport};
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::ConfigProblem;
use std::time::Duration;

pub fn run_context(ctx: &RunContext) -> types::RunContext {
    types::RunContext {
        job_name: ctx.job_name.clone(),
        run_id: ctx.run_id.clone(),
        started_at: ctx.started_at.clone(),
        cordial_base_url: ctx.cordial_base_url.clone(),
    }
}

pub fn config_problem(p: types::ConfigProblem) -> ConfigProblem {
    ConfigProblem {
        field: p.field,
        message: p.message,
        transient: p.transient,
    }
}

pub fn run_result(
    result: Result<types::RunProgress, types::JobError>,
) -> Result<Progress, JobError> {
    match result {
        Ok(types::RunProgress::Finished(r)) => Ok(Progress::Finished(RunReport {
            records_read: r.records_read,
            records_written: r.records_written,
            records_rejected: r.records_rejected,
            summary: r.summary,
        })),
        Ok(types::RunProgress::Waiting(w)) => Ok(Progress::Waiting {
            after: Duration::from_millis(w.after_ms),
            reason: w.reason,
        }),
        Err(types::JobError::InvalidConfig(m)) => Err(JobError::InvalidConfig(m)),
        Err(types::JobError::Transient(m)) => Err(JobError::Transient(m)),
        Err(types::JobError::Permanent(m)) => Err(JobError::Permanent(m)),
    }
}

pub fn outcome(o: outcomes::Outcome) -> Outcome {
    match o {
        outcomes::Outcome::Delivered => Outcome::Delivered,
        outcomes::Outcome::Retry(r) => Outcome::Retry {
            after: r.after_ms.map(Duration::from_millis),
            reason: r.reason,
            attempted: r.attempted,
        },
        outcomes::Outcome::DeadLetter(r) => Outcome::DeadLetter {
            status: r.status,
            reason: r.reason,
        },
    }
}

pub fn audience_event(e: &AudienceEvent) -> items::AudienceEvent {
    items::AudienceEvent {
        event_id: e.event_id,
        audience: e.audience.clone(),
        kind: match e.kind {
            Membership::Enter => items::Membership::Enter,
            Membership::Exit => items::Membership::Exit,
            Membership::Change => items::Membership::Change,
        },
        user: e.user.clone(),
        occurred_at: e.occurred_at.clone(),
    }
}

pub fn submission(s: &Submission) -> items::Submission {
    items::Submission {
        submission_id: s.id.clone(),
        body: s.body.clone(),
    }
}

pub fn capture_result(r: items::CaptureResult) -> CaptureResult {
    CaptureResult {
        outcome: outcome(r.outcome),
        rule: r.rule,
        action: r.action,
    }
}
