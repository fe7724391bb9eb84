//! What the stand-in holds — the streams, the records it dropped, a log of requests, the
//! faults to inject — and the handle a test or the demo reads and steers it with.

use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Which collect endpoint a request came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Endpoint {
    Json,
    Bulk,
}

/// One collect request as the stand-in saw it. Never the key.
#[derive(Debug, Clone, Serialize)]
pub struct RequestLog {
    pub endpoint: Endpoint,
    pub stream: String,
    pub status: u16,
    /// Records in the body (0 when it could not be read).
    pub records: usize,
    pub timestamp_field: Option<String>,
    pub authorized: bool,
}

/// A fault the next collect requests meet, in the order injected.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `429` with `Retry-After: retry_after_secs`, `count` times.
    RateLimited { retry_after_secs: u64, count: u32 },
    /// `status` (a 5xx), nothing stored, `count` times.
    ServerError { status: u16, count: u32 },
}

#[derive(Default)]
struct Held {
    streams: HashMap<String, Vec<Value>>,
    rejected: HashMap<String, Vec<(Value, String)>>,
    requests: Vec<RequestLog>,
    faults: VecDeque<Fault>,
    latency: Duration,
}

/// The stand-in's state, shared by its routes and every handle.
#[derive(Clone)]
pub struct StandinHandle {
    held: Arc<Mutex<Held>>,
    stored: Arc<Notify>,
    hold: Arc<watch::Sender<bool>>,
}

impl StandinHandle {
    pub(crate) fn new() -> StandinHandle {
        StandinHandle {
            held: Arc::default(),
            stored: Arc::default(),
            hold: Arc::new(watch::channel(false).0),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().expect("stand-in state poisoned")
    }

    /// The records `stream` holds, in the order received.
    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.held().streams.get(stream).cloned().unwrap_or_default()
    }

    /// The records of `stream` taken but dropped, with why.
    pub fn rejected(&self, stream: &str) -> Vec<(Value, String)> {
        self.held()
            .rejected
            .get(stream)
            .cloned()
            .unwrap_or_default()
    }

    /// Every collect request so far.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.held().requests.clone()
    }

    /// The next collect requests meet `fault` (after any injected before).
    pub fn fail_next(&self, fault: Fault) {
        let (Fault::RateLimited { count, .. } | Fault::ServerError { count, .. }) = fault;
        if count > 0 {
            self.held().faults.push_back(fault);
        }
    }

    /// Every collect answer is delayed by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.held().latency = latency;
    }

    /// While on, requests are stored and their answers held back: the platform kept a batch
    /// whose acknowledgement the sender never sees (if it dies meanwhile).
    pub fn hold_acks(&self, hold: bool) {
        self.hold.send_replace(hold);
    }

    /// Waits until `stream` holds at least `count` records, woken by each store; fails after
    /// `limit` saying how many arrived.
    pub async fn wait_for_records(
        &self,
        stream: &str,
        count: usize,
        limit: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let stored = self.stored.notified();
            let records = self.records(stream);
            if records.len() >= count {
                return Ok(records);
            }
            if tokio::time::timeout_at(deadline, stored).await.is_err() {
                anyhow::bail!(
                    "`{stream}` holds {} of the {count} records awaited after {limit:?}",
                    self.records(stream).len()
                );
            }
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        self.held().latency
    }

    /// The fault the current request meets, if any.
    pub(crate) fn take_fault(&self) -> Option<Fault> {
        let mut held = self.held();
        let fault = held.faults.front_mut()?;
        let (count, taken) = match fault {
            Fault::RateLimited { count, .. } | Fault::ServerError { count, .. } => {
                *count -= 1;
                (*count, fault.clone())
            }
        };
        if count == 0 {
            held.faults.pop_front();
        }
        Some(taken)
    }

    pub(crate) fn log(&self, entry: RequestLog) {
        self.held().requests.push(entry);
    }

    /// Stores a request's records at once (all or nothing) and wakes the waiters.
    pub(crate) fn store(&self, stream: &str, kept: Vec<Value>, dropped: Vec<(Value, String)>) {
        {
            let mut held = self.held();
            held.streams
                .entry(stream.to_owned())
                .or_default()
                .extend(kept);
            held.rejected
                .entry(stream.to_owned())
                .or_default()
                .extend(dropped);
        }
        self.stored.notify_waiters();
    }

    /// Returns once answers are not held back.
    pub(crate) async fn until_released(&self) {
        let mut hold = self.hold.subscribe();
        let _ = hold.wait_for(|held| !held).await;
    }

    /// `{stream: count}`.
    pub(crate) fn counts(&self) -> HashMap<String, usize> {
        self.held()
            .streams
            .iter()
            .map(|(name, records)| (name.clone(), records.len()))
            .collect()
    }
}
