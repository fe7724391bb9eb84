//! State shared by the HTTP handlers and the [`crate::EmulatorHandle`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::config::EmulatorConfig;
use crate::faults::{Fault, FaultQueue};
use crate::handle::RecordedRequest;
use crate::store::Store;

/// How many requests the log keeps. Benchmarks send many; tests look at a few.
const MAX_RECORDED: usize = 100_000;

/// Cheap to clone; every handler gets one.
pub type App = Arc<Shared>;

#[derive(Debug)]
pub struct Shared {
    pub api_key: String,
    store: Mutex<Store>,
    faults: Mutex<FaultQueue>,
    requests: Mutex<VecDeque<RecordedRequest>>,
    latency_nanos: AtomicU64,
}

/// Locks a mutex even if a handler panicked while holding it: the state is
/// still the best information a test has, and one panic must not wedge the fake.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(config: &EmulatorConfig) -> App {
        Arc::new(Self {
            api_key: config.api_key.clone(),
            store: Mutex::new(Store::from_seed(&config.seed)),
            faults: Mutex::new(FaultQueue::default()),
            requests: Mutex::new(VecDeque::new()),
            latency_nanos: AtomicU64::new(0),
        })
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn push_fault(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    pub fn take_fault(&self) -> Option<Fault> {
        lock(&self.faults).take()
    }

    pub fn record(&self, request: RecordedRequest) {
        let mut log = lock(&self.requests);
        if log.len() == MAX_RECORDED {
            log.pop_front();
        }
        log.push_back(request);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).iter().cloned().collect()
    }

    pub fn set_latency(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.latency_nanos.store(nanos, Ordering::Relaxed);
    }

    pub fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }
}
