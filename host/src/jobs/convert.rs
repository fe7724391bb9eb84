//! The WIT types every job world shares (`cordial:jobs/types`, `outcomes`, `items`), to and
//! from the job types of `cordial_jobs`. The text a job returns (a summary, a reason, an
//! error) is kept to [`MAX_TEXT`] bytes: the host logs it and stores it with dead letters,
//! and a job returning a string as large as its memory must not put that in either.

use crate::runtime::bindings::{items, outcomes, types};
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::job::{JobError, Outcome, Progress, RunContext, RunReport};
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::ConfigProblem;
use std::time::Duration;

/// The most of one text returned by a job that the host keeps; Cordial's own messages,
/// which reasons quote, are far shorter.
pub const MAX_TEXT: usize = 8 << 10;

/// `text`, cut to [`MAX_TEXT`] bytes (on a character boundary) with a note of what was cut.
pub fn bounded(mut text: String) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let cut = text.len();
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(&format!("… ({} more bytes cut by the host)", cut - end));
    text
}

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
        field: bounded(p.field),
        message: bounded(p.message),
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
            summary: bounded(r.summary),
        })),
        Ok(types::RunProgress::Waiting(w)) => Ok(Progress::Waiting {
            after: Duration::from_millis(w.after_ms),
            reason: bounded(w.reason),
        }),
        Err(types::JobError::InvalidConfig(m)) => Err(JobError::InvalidConfig(bounded(m))),
        Err(types::JobError::Transient(m)) => Err(JobError::Transient(bounded(m))),
        Err(types::JobError::Permanent(m)) => Err(JobError::Permanent(bounded(m))),
    }
}

pub fn outcome(o: outcomes::Outcome) -> Outcome {
    match o {
        outcomes::Outcome::Delivered => Outcome::Delivered,
        outcomes::Outcome::Retry(r) => Outcome::Retry {
            after: r.after_ms.map(Duration::from_millis),
            reason: bounded(r.reason),
            attempted: r.attempted,
        },
        outcomes::Outcome::DeadLetter(r) => Outcome::DeadLetter {
            status: r.status,
            reason: bounded(r.reason),
        },
    }
}

/// Moved, not copied: a batch's text reaches the component without a copy of its own.
pub fn audience_event(e: AudienceEvent) -> items::AudienceEvent {
    items::AudienceEvent {
        event_id: e.event_id,
        audience: e.audience,
        kind: match e.kind {
            Membership::Enter => items::Membership::Enter,
            Membership::Exit => items::Membership::Exit,
            Membership::Change => items::Membership::Change,
        },
        user: e.user,
        occurred_at: e.occurred_at,
    }
}

pub fn submission(s: Submission) -> items::Submission {
    items::Submission {
        submission_id: s.id,
        body: s.body,
    }
}

pub fn capture_result(r: items::CaptureResult) -> CaptureResult {
    CaptureResult {
        outcome: outcome(r.outcome),
        rule: bounded(r.rule),
        action: bounded(r.action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_over_the_limit_is_cut_on_a_character_boundary_with_a_note() {
        assert_eq!(bounded("short".into()), "short");
        let exact = "x".repeat(MAX_TEXT);
        assert_eq!(bounded(exact.clone()), exact);
        // A two-byte character straddles the limit: it goes whole.
        let long = format!("{}é{}", "x".repeat(MAX_TEXT - 1), "y".repeat(10_000));
        let cut = bounded(long);
        assert!(cut.starts_with(&"x".repeat(MAX_TEXT - 1)));
        assert!(
            cut.ends_with("… (10002 more bytes cut by the host)"),
            "{}",
            &cut[MAX_TEXT - 8..]
        );
    }
}
