//! State shared by the HTTP handlers and the [`crate::EmulatorHandle`].

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::config::EmulatorConfig;
use crate::http::faults::{Fault, FaultQueue};
use crate::http::rate_limit::{self, RateLimit, RateLimiter};
use crate::http::recording::RecordedRequest;
use crate::model::events::{EventStore, Snapshot};
use crate::model::job::Job;
use crate::model::store::Store;

/// How many requests the log keeps. Benchmarks send many; tests look at a few.
const MAX_RECORDED: usize = 100_000;

/// Cheap to clone; every handler gets one.
pub type App = Arc<Shared>;

#[derive(Debug)]
pub struct Shared {
    pub api_key: String,
    store: Mutex<Store>,
    faults: Mutex<FaultQueue>,
    /// Per-endpoint token buckets, while a rate limit is set.
    rate_limiter: Mutex<Option<RateLimiter>>,
    requests: Mutex<VecDeque<RecordedRequest>>,
    latency_nanos: AtomicU64,
    /// SFTP private keys by the name an import's `source.savedKey` gives.
    pub saved_sftp_keys: HashMap<String, PathBuf>,
    /// Jobs in creation order.
    jobs: Mutex<Vec<Job>>,
    /// Bumped on every job change, so waiters wake without polling.
    job_changes: watch::Sender<u64>,
    /// While true, jobs that have not started stay `Pending`.
    hold_jobs: watch::Sender<bool>,
    /// Contact activity, for `POST /v2/contactactivityexport`.
    events: Mutex<EventStore>,
    /// Messages that the next export jobs fail with, oldest first.
    export_failures: Mutex<VecDeque<String>>,
}

/// Locks a mutex even if a handler panicked while holding it: the state is
/// still the best information a test has, and one panic must not wedge the fake.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// The shared state; fails when `config.events` holds an invalid event.
    pub fn new(config: &EmulatorConfig) -> Result<App, String> {
        let mut events = EventStore::default();
        events
            .add(config.events.clone())
            .map_err(|e| format!("EmulatorConfig::events: {e}"))?;
        Ok(Arc::new(Self {
            api_key: config.api_key.clone(),
            store: Mutex::new(Store::from_seed(&config.seed)),
            faults: Mutex::new(FaultQueue::default()),
            rate_limiter: Mutex::new(config.rate_limit.map(RateLimiter::new)),
            requests: Mutex::new(VecDeque::new()),
            latency_nanos: AtomicU64::new(0),
            saved_sftp_keys: config.saved_sftp_keys.clone(),
            jobs: Mutex::new(Vec::new()),
            job_changes: watch::Sender::new(0),
            hold_jobs: watch::Sender::new(false),
            events: Mutex::new(events),
            export_failures: Mutex::new(VecDeque::new()),
        }))
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

    /// Sets (or with `None` lifts) the per-endpoint rate limit. Either way the buckets
    /// start again full: a new limit is measured from the moment it is set.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        *lock(&self.rate_limiter) = limit.map(RateLimiter::new);
    }

    /// Takes a token for a request to `method path` (see [`rate_limit::endpoint`] for
    /// the key); when its endpoint has none left, how long until the next and the limit in
    /// force. `None` also when no limit is set.
    pub fn take_rate_token(&self, method: &str, path: &str) -> Option<(Duration, RateLimit)> {
        let mut limiter = lock(&self.rate_limiter);
        let limiter = limiter.as_mut()?;
        let endpoint = rate_limit::endpoint(method, path);
        limiter
            .take(endpoint, std::time::Instant::now())
            .err()
            .map(|wait| (wait, limiter.limit()))
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

    // ---- jobs -------------------------------------------------------------

    pub fn add_job(&self, job: Job) {
        lock(&self.jobs).push(job);
        self.job_changes.send_modify(|v| *v += 1);
    }

    /// Changes the job `id` (if it exists) and wakes whoever waits on jobs.
    pub fn update_job(&self, id: &str, f: impl FnOnce(&mut Job)) {
        if let Some(job) = lock(&self.jobs).iter_mut().find(|j| j.id == id) {
            f(job);
        }
        self.job_changes.send_modify(|v| *v += 1);
    }

    /// `f` of the job `id`.
    pub fn job<T>(&self, id: &str, f: impl FnOnce(&Job) -> T) -> Option<T> {
        lock(&self.jobs).iter().find(|j| j.id == id).map(f)
    }

    /// `f` of every job, oldest first.
    pub fn jobs<T>(&self, f: impl FnMut(&Job) -> T) -> Vec<T> {
        lock(&self.jobs).iter().map(f).collect()
    }

    /// A receiver that sees every later job change.
    pub fn watch_jobs(&self) -> watch::Receiver<u64> {
        self.job_changes.subscribe()
    }

    pub fn set_hold_jobs(&self, hold: bool) {
        self.hold_jobs.send_replace(hold);
    }

    /// A receiver of the hold switch: `true` while jobs are held.
    pub fn watch_hold(&self) -> watch::Receiver<bool> {
        self.hold_jobs.subscribe()
    }

    // ---- events -----------------------------------------------------------

    pub fn events(&self) -> MutexGuard<'_, EventStore> {
        lock(&self.events)
    }

    /// The events as they are now, to read without a lock.
    pub fn events_snapshot(&self) -> Snapshot {
        self.events().snapshot()
    }

    /// Whether any event belongs to the contact with this cID or email.
    pub fn events_have_contact(&self, contact: &str) -> bool {
        self.events().has_contact(contact)
    }

    pub fn push_export_failure(&self, message: String) {
        lock(&self.export_failures).push_back(message);
    }

    /// The failure queued for the next export job, if any.
    pub fn take_export_failure(&self) -> Option<String> {
        lock(&self.export_failures).pop_front()
    }
}
