//! What went wrong with a component call, in words an operator can act on.

use std::fmt;

/// A call that did not return normally.
#[derive(Debug)]
pub enum CallError {
    /// The job ran past its wall-clock limit.
    TimedOut { job: String, limit_secs: u64 },
    /// The job used up its fuel budget.
    OutOfFuel { job: String, fuel: u64 },
    /// The job wanted more memory than its limit.
    OutOfMemory { job: String, limit_mb: u64 },
    /// The job trapped (a panic, an unreachable) or the host failed underneath it.
    Failed { job: String, error: anyhow::Error },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::TimedOut { job, limit_secs } => write!(
                f,
                "job `{job}` was stopped after running longer than its limit of {limit_secs}s (raise [job.limits] timeout_secs if it needs longer)"
            ),
            CallError::OutOfFuel { job, fuel } => write!(
                f,
                "job `{job}` was stopped after using up its fuel budget of {fuel} (raise [job.limits] fuel, or set it to 0 to rely on the timeout)"
            ),
            CallError::OutOfMemory { job, limit_mb } => write!(
                f,
                "job `{job}` was stopped when it tried to use more than its memory limit of {limit_mb} MiB (raise [job.limits] memory_mb if it needs more)"
            ),
            CallError::Failed { job, error } => write!(f, "job `{job}` failed: {error:#}"),
        }
    }
}

impl std::error::Error for CallError {}
