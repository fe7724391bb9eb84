//! How long a call spent waiting for Cordial, so the host can tell its own overhead from
//! the network's.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wall-clock time with at least one request of the call waiting: overlapping requests
/// count once, so the figure can be taken from the call's duration.
#[derive(Default)]
pub struct NetworkWait(Mutex<WaitState>);

#[derive(Default)]
struct WaitState {
    in_flight: u32,
    since: Option<Instant>,
    total: Duration,
}

impl NetworkWait {
    pub fn begin(&self) {
        self.begin_at(Instant::now());
    }

    pub fn end(&self) {
        self.end_at(Instant::now());
    }

    fn begin_at(&self, now: Instant) {
        let mut s = self.0.lock().expect("wait mutex poisoned");
        if s.in_flight == 0 {
            s.since = Some(now);
        }
        s.in_flight += 1;
    }

    fn end_at(&self, now: Instant) {
        let mut s = self.0.lock().expect("wait mutex poisoned");
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0
            && let Some(since) = s.since.take()
        {
            s.total += now.saturating_duration_since(since);
        }
    }

    /// The time waited so far.
    pub fn total(&self) -> Duration {
        self.0.lock().expect("wait mutex poisoned").total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_waits_count_once_and_gaps_not_at_all() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let w = NetworkWait::default();
        w.begin_at(at(0));
        w.begin_at(at(10)); // overlaps the first
        w.end_at(at(30));
        w.end_at(at(50));
        w.begin_at(at(80)); // after a 30 ms gap
        w.end_at(at(100));
        assert_eq!(w.total(), Duration::from_millis(70));
    }
}
