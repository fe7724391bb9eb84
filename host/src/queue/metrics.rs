//! Counters and per-call timings of one job's queue, served as JSON on `GET /metrics.json` by
//! `cordial-host serve`.

use crate::db::Settled;
use crate::runtime::CallStats;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How many recent calls the timing figures describe.
const WINDOW: usize = 10_000;

#[derive(Default)]
pub struct QueueMetrics {
    calls: AtomicU64,
    delivered: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    /// Per measured call, in microseconds: the host's fixed cost (store setup and
    /// instantiation), and the work inside the call other than waiting for Cordial, per item.
    samples: Mutex<VecDeque<(u32, u32)>>,
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

/// The value at quantile `q` of sorted `values`.
fn quantile(values: &[u32], q: f64) -> Option<u32> {
    values
        .get(((values.len() as f64 - 1.0) * q).round() as usize)
        .copied()
}

impl QueueMetrics {
    /// A component call for `items` items, with its timings when the call reports them.
    pub fn record_call(&self, stats: Option<CallStats>, items: usize) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let Some(stats) = stats else {
            return;
        };
        let per_item = micros(stats.in_call_work()) / items.max(1) as u32;
        let mut window = self.samples.lock().expect("metrics mutex poisoned");
        if window.len() == WINDOW {
            window.pop_front();
        }
        window.push_back((micros(stats.setup), per_item));
    }

    pub fn record_outcomes(&self, settled: &[Settled]) {
        for s in settled {
            let counter = match s {
                Settled::Done { .. } => &self.delivered,
                Settled::Retrying { .. } => &self.retried,
                Settled::Dead { .. } => &self.dead_lettered,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> Value {
        let (mut setup, mut work): (Vec<u32>, Vec<u32>) = self
            .samples
            .lock()
            .expect("metrics mutex poisoned")
            .iter()
            .copied()
            .unzip();
        setup.sort_unstable();
        work.sort_unstable();
        json!({
            "calls": self.calls.load(Ordering::Relaxed),
            "delivered": self.delivered.load(Ordering::Relaxed),
            "retried": self.retried.load(Ordering::Relaxed),
            "dead_lettered": self.dead_lettered.load(Ordering::Relaxed),
            "host_overhead_us_per_call": {
                "median": quantile(&setup, 0.5),
                "p90": quantile(&setup, 0.9),
                "calls_sampled": setup.len(),
            },
            "in_call_work_us_per_event": {
                "median": quantile(&work, 0.5),
                "p90": quantile(&work, 0.9),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_and_per_item_work_are_reported_apart() {
        let m = QueueMetrics::default();
        let us = Duration::from_micros;
        for (setup, total, http, items) in [(50, 300, 150, 10), (60, 500, 100, 2), (70, 100, 20, 1)]
        {
            let stats = CallStats {
                setup: us(setup),
                total: us(total),
                http: us(http),
                ..CallStats::default()
            };
            m.record_call(Some(stats), items);
        }
        m.record_call(None, 4);
        let done = Settled::Done {
            id: 1,
            attempts: 1,
            decision: None,
        };
        let dead = Settled::Dead {
            id: 2,
            attempts: 1,
            status: None,
            error: "x".into(),
            decision: None,
        };
        m.record_outcomes(&[done, dead.clone(), dead]);
        let s = m.snapshot();
        assert_eq!(s["calls"], 4);
        assert_eq!(
            s["host_overhead_us_per_call"]["calls_sampled"], 3,
            "a call without timings is counted, not sampled"
        );
        assert_eq!(s["host_overhead_us_per_call"]["median"], 60);
        assert_eq!(s["host_overhead_us_per_call"]["p90"], 70);
        // (300-150-50)/10 = 10, (500-100-60)/2 = 170, (100-20-70)/1 = 10
        assert_eq!(s["in_call_work_us_per_event"]["median"], 10);
        assert_eq!(
            (s["delivered"].as_u64(), s["dead_lettered"].as_u64()),
            (Some(1), Some(2))
        );
    }
}
