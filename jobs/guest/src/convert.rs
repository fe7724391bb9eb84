//! The job types of `cordial_jobs` to and from their WIT forms.

use crate::items;
use crate::outcomes::{Outcome as WitOutcome, Rejection, RetryLater};
use crate::types;
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::job::{JobError, Outcome, Progress, RunContext};
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::ConfigProblem;

pub fn run_context(ctx: &types::RunContext) -> RunContext {
    RunContext {
        job_name: ctx.job_name.clone(),
        run_id: ctx.run_id.clone(),
        started_at: ctx.started_at.clone(),
        cordial_base_url: ctx.cordial_base_url.clone(),
    }
}

pub fn problem(p: ConfigProblem) -> types::ConfigProblem {
    types::ConfigProblem {
        field: p.field,
        message: p.message,
        transient: p.transient,
    }
}

pub fn run_result(
    result: Result<Progress, JobError>,
) -> Result<types::RunProgress, types::JobError> {
    match result {
        Ok(Progress::Finished(r)) => Ok(types::RunProgress::Finished(types::RunReport {
            records_read: r.records_read,
            records_written: r.records_written,
            records_rejected: r.records_rejected,
            summary: r.summary,
        })),
        Ok(Progress::Waiting { after, reason }) => {
            Ok(types::RunProgress::Waiting(types::Waiting {
                after_ms: after.as_millis() as u64,
                reason,
            }))
        }
        Err(JobError::InvalidConfig(m)) => Err(types::JobError::InvalidConfig(m)),
        Err(JobError::Transient(m)) => Err(types::JobError::Transient(m)),
        Err(JobError::Permanent(m)) => Err(types::JobError::Permanent(m)),
    }
}

pub fn outcome(o: Outcome) -> WitOutcome {
    match o {
        Outcome::Delivered => WitOutcome::Delivered,
        Outcome::Retry {
            after,
            reason,
            attempted,
        } => WitOutcome::Retry(RetryLater {
            after_ms: after.map(|d| d.as_millis() as u64),
            reason,
            attempted,
        }),
        Outcome::DeadLetter { status, reason } => {
            WitOutcome::DeadLetter(Rejection { status, reason })
        }
    }
}

pub fn audience_event(e: &items::AudienceEvent) -> AudienceEvent {
    AudienceEvent {
        event_id: e.event_id,
        audience: e.audience.clone(),
        kind: match e.kind {
            items::Membership::Enter => Membership::Enter,
            items::Membership::Exit => Membership::Exit,
            items::Membership::Change => Membership::Change,
        },
        user: e.user.clone(),
        occurred_at: e.occurred_at.clone(),
    }
}

pub fn submission(s: &items::Submission) -> Submission {
    Submission {
        id: s.submission_id.clone(),
        body: s.body.clone(),
    }
}

pub fn capture_result(r: CaptureResult) -> items::CaptureResult {
    items::CaptureResult {
        outcome: outcome(r.outcome),
        rule: r.rule,
        action: r.action,
    }
}
