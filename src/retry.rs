//! When to try a failed delivery again: Cordial's own `Retry-After` when it gave one,
//! otherwise exponential backoff with jitter, and a limit after which the event is
//! dead-lettered.

use std::time::Duration;

/// The delivery retry policy of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First backoff step.
    pub base: Duration,
    /// Largest backoff step.
    pub cap: Duration,
    /// Attempts after which a still-failing event is dead-lettered.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(300),
            max_attempts: 10,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// The step after attempt number `attempts` (1 = the first attempt failed).
    /// `server_delay` is Cordial's `Retry-After`; it is honoured as given (it is the minimum
    /// Cordial asks for). `jitter` in `[0, 1)` spreads retries of many workers apart: the
    /// backoff lands between half and all of the exponential step ("equal jitter").
    pub fn next_step(
        &self,
        attempts: u32,
        server_delay: Option<Duration>,
        jitter: f64,
    ) -> NextStep {
        if attempts >= self.max_attempts {
            return NextStep::GiveUp;
        }
        if let Some(delay) = server_delay {
            return NextStep::RetryAfter(delay);
        }
        let exponent = attempts.saturating_sub(1).min(20);
        let step = self.base.saturating_mul(1 << exponent).min(self.cap);
        let jitter = jitter.clamp(0.0, 1.0);
        NextStep::RetryAfter(step.mul_f64(0.5 + 0.5 * jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_jitter_band_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.next_step(1, None, 0.0),
            NextStep::RetryAfter(Duration::from_millis(250))
        );
        assert_eq!(
            p.next_step(1, None, 1.0),
            NextStep::RetryAfter(Duration::from_millis(500))
        );
        assert_eq!(
            p.next_step(3, None, 1.0),
            NextStep::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            p.next_step(9, None, 1.0),
            NextStep::RetryAfter(Duration::from_secs(128))
        );
        let capped = RetryPolicy {
            max_attempts: 100,
            ..p
        };
        assert_eq!(
            capped.next_step(40, None, 1.0),
            NextStep::RetryAfter(Duration::from_secs(300))
        );
    }

    #[test]
    fn cordials_delay_wins_and_the_limit_ends_retries() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.next_step(2, Some(Duration::from_secs(7)), 0.3),
            NextStep::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            p.next_step(10, Some(Duration::from_secs(7)), 0.3),
            NextStep::GiveUp
        );
    }
}
