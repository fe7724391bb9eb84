//! Counters and the host-overhead distribution of one job's delivery, served as JSON on
//! `GET /metrics` by `cordial-host serve`.

use crate::runtime::CallStats;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many recent calls the overhead figures describe.
const WINDOW: usize = 10_000;

#[derive(Default)]
pub struct DeliveryMetrics {
    calls: AtomicU64,
    delivered: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    /// Per call: time outside Cordial's responses (store setup, instantiation, the
    /// component's own work, passing data in and out), in microseconds.
    overhead_us: Mutex<VecDeque<u32>>,
}

impl DeliveryMetrics {
    pub fn record_call(&self, stats: CallStats) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut window = self.overhead_us.lock().expect("metrics mutex poisoned");
        if window.len() == WINDOW {
            window.pop_front();
        }
        window.push_back(stats.overhead().as_micros().min(u32::MAX as u128) as u32);
    }

    pub fn record_outcomes(&self, delivered: u64, retried: u64, dead_lettered: u64) {
        self.delivered.fetch_add(delivered, Ordering::Relaxed);
        self.retried.fetch_add(retried, Ordering::Relaxed);
        self.dead_lettered
            .fetch_add(dead_lettered, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Value {
        let mut samples: Vec<u32> = self
            .overhead_us
            .lock()
            .expect("metrics mutex poisoned")
            .iter()
            .copied()
            .collect();
        samples.sort_unstable();
        let at = |q: f64| {
            samples
                .get(((samples.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        json!({
            "calls": self.calls.load(Ordering::Relaxed),
            "delivered": self.delivered.load(Ordering::Relaxed),
            "retried": self.retried.load(Ordering::Relaxed),
            "dead_lettered": self.dead_lettered.load(Ordering::Relaxed),
            "host_overhead_us_per_call": {
                "median": at(0.5),
                "p90": at(0.9),
                "calls_sampled": samples.len(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn overhead_is_call_time_minus_waiting_for_cordial() {
        let m = DeliveryMetrics::default();
        for (total, http) in [(100, 60), (300, 100), (50, 40)] {
            m.record_call(CallStats {
                total: Duration::from_micros(total),
                http: Duration::from_micros(http),
            });
        }
        m.record_outcomes(5, 1, 2);
        let s = m.snapshot();
        assert_eq!(s["calls"], 3);
        assert_eq!(s["host_overhead_us_per_call"]["median"], 40);
        assert_eq!(s["host_overhead_us_per_call"]["p90"], 200);
        assert_eq!(
            (s["delivered"].as_u64(), s["dead_lettered"].as_u64()),
            (Some(5), Some(2))
        );
    }
}
