//! Following a Cordial job (the bulk export's imports, the activity export) one poll per
//! call. A job never sleeps through Cordial's processing time inside a call: a poll that
//! finds Cordial still working saves how long following has gone on and asks to be called
//! again after the next backoff step, so no call deadline has to cover Cordial's queue.

use crate::retry::{NextStep, RetryPolicy};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The waits between polls: 100 ms, doubling, at most 10 s.
const POLL_PAUSES: RetryPolicy = RetryPolicy {
    base: Duration::from_millis(100),
    cap: Duration::from_secs(10),
    max_attempts: u32::MAX,
};

/// How long following has gone on, kept in the job's state between calls. Every field
/// defaults, so state saved before following was resumable still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Following {
    /// Polls so far that found Cordial still working.
    #[serde(default)]
    pub polls: u32,
    /// When the first of them was made, RFC 3339 UTC.
    #[serde(default)]
    pub since: Option<String>,
}

impl Following {
    /// Counts a poll made at `now` that found Cordial still working, and returns the wait
    /// before the next one. `None` when that wait would end more than `deadline` after
    /// following began: the run gives up for now, and following starts afresh on the next
    /// run (else every later run would be past the deadline at once).
    pub fn still_working(&mut self, now: DateTime<Utc>, deadline: Duration) -> Option<Duration> {
        let since = self
            .since
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or(now, |t| t.with_timezone(&Utc));
        self.polls += 1;
        let pause = match POLL_PAUSES.next_step(self.polls, None, 1.0) {
            NextStep::RetryAfter(pause) => pause,
            NextStep::GiveUp => POLL_PAUSES.cap,
        };
        if now + pause > since + deadline {
            *self = Following::default();
            return None;
        }
        self.since = Some(since.to_rfc3339_opts(SecondsFormat::Millis, true));
        Some(pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn waits_grow_from_100_ms_to_10_s() {
        let mut f = Following::default();
        let deadline = Duration::from_secs(3600);
        let waits: Vec<u128> = (0..9)
            .map(|_| f.still_working(at(0), deadline).unwrap().as_millis())
            .collect();
        assert_eq!(
            waits,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]
        );
        assert_eq!(f.polls, 9);
    }

    #[test]
    fn the_deadline_counts_from_the_first_poll_and_then_starts_afresh() {
        let mut f = Following::default();
        let deadline = Duration::from_secs(60);
        assert!(f.still_working(at(0), deadline).is_some());
        assert!(f.still_working(at(59), deadline).is_some());
        assert_eq!(f.still_working(at(61), deadline), None);
        assert_eq!(f, Following::default(), "the next run follows afresh");
        assert_eq!(
            f.still_working(at(61), deadline),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn state_saved_without_it_reads_as_not_yet_following() {
        let f: Following = serde_json::from_str("{}").unwrap();
        assert_eq!(f, Following::default());
    }
}
