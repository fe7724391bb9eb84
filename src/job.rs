//! What a job call takes and gives back, independent of any runtime: the call's context, a
//! scheduled run's report or its request to be resumed, and the outcome of each item an
//! event-driven job was handed. The WIT types of `cordial:jobs/types` and
//! `cordial:jobs/outcomes` mirror these one to one.

use std::time::Duration;

/// The call a job is making.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// The job's name in the host config, for messages and file names.
    pub job_name: String,
    /// A fresh id per run or delivery batch.
    pub run_id: String,
    /// When the host started the run, RFC 3339 UTC: the end of an activity window, the
    /// stamp in a bulk batch's file names.
    pub started_at: String,
    /// The Cordial REST base URL without `/v2`; the runtime adds the credentials.
    pub cordial_base_url: String,
}

/// What a finished run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub records_read: u64,
    pub records_written: u64,
    pub records_rejected: u64,
    /// One line a person reads first.
    pub summary: String,
}

/// How far a scheduled run got in one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Finished(RunReport),
    /// Cordial is still working (an export or import job is `Processing`): the run saved its
    /// place and asks to be called again after `after`. A job never sleeps through such a
    /// wait inside a call, so no call deadline has to cover Cordial's processing time.
    Waiting {
        after: Duration,
        reason: String,
    },
}

/// Why a run failed; the case tells the host whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The settings are wrong; retrying will not help until they are fixed.
    InvalidConfig(String),
    /// Temporary: network trouble, 429 or 5xx from Cordial, a store hiccup.
    Transient(String),
    /// Retrying will not help: Cordial refused the request, or the data is unusable.
    Permanent(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::InvalidConfig(m) => write!(f, "invalid config: {m}"),
            JobError::Transient(m) => write!(f, "transient: {m}"),
            JobError::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

/// What became of one item (an audience event, a submission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again later. `attempted` is false for items held back behind a failure, which
    /// were never sent.
    Retry {
        after: Option<Duration>,
        reason: String,
        attempted: bool,
    },
    /// Can never be delivered as it is.
    DeadLetter {
        status: Option<u16>,
        reason: String,
    },
}

impl Outcome {
    pub fn dead_letter(reason: impl Into<String>) -> Outcome {
        Outcome::DeadLetter {
            status: None,
            reason: reason.into(),
        }
    }
}

impl JobError {
    /// A failed Cordial call as a run error: 401 means the authorization is wrong, what may
    /// pass later is transient, other refusals permanent.
    pub fn from_cordial(error: &crate::cordial::CordialError) -> JobError {
        use crate::cordial::CordialError;
        match error {
            CordialError::Unauthorized(_) => JobError::InvalidConfig(error.to_string()),
            e if e.is_retryable() => JobError::Transient(e.to_string()),
            e => JobError::Permanent(e.to_string()),
        }
    }
}

impl Outcome {
    /// A failed Cordial call as an item outcome: retry what may succeed later (after
    /// Cordial's `Retry-After` when it gave one), dead-letter the rest with Cordial's status
    /// and message.
    pub fn from_cordial(error: &crate::cordial::CordialError) -> Outcome {
        if error.is_retryable() {
            Outcome::Retry {
                after: error.retry_after(),
                reason: error.to_string(),
                attempted: true,
            }
        } else {
            Outcome::DeadLetter {
                status: error.status(),
                reason: error.to_string(),
            }
        }
    }
}
