//! Conversions from the pure logic's results to the WIT types the host receives.

use crate::outcomes::{Outcome, Rejection, RetryLater};
use crate::types::ConfigProblem;
use cordial_jobs::cordial::CordialError;

/// Settings problems in their WIT form.
pub fn to_wit_problems(problems: Vec<cordial_jobs::settings::ConfigProblem>) -> Vec<ConfigProblem> {
    problems
        .into_iter()
        .map(|p| ConfigProblem {
            field: p.field,
            message: p.message,
            transient: p.transient,
        })
        .collect()
}

/// A failed Cordial call as an item outcome: retry what may succeed later, dead-letter the
/// rest with Cordial's status and message.
pub fn cordial_error_outcome(error: &CordialError) -> Outcome {
    if error.is_retryable() {
        let after_ms = match error {
            CordialError::RateLimited {
                retry_after: Some(d),
                ..
            } => Some(d.as_millis() as u64),
            _ => None,
        };
        Outcome::Retry(RetryLater {
            after_ms,
            reason: error.to_string(),
            attempted: true,
        })
    } else {
        Outcome::DeadLetter(Rejection {
            status: error.status(),
            reason: error.to_string(),
        })
    }
}
