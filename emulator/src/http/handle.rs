//! The in-process view of a running emulator, for tests and the demo host.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::http::app::App;
use crate::http::faults::Fault;
use crate::http::rate_limit::RateLimit;
use crate::http::recording::RecordedRequest;
use crate::model::job::Job;

/// Inspection and fault injection for a running emulator. Clone it freely.
#[derive(Debug, Clone)]
pub struct EmulatorHandle {
    pub(crate) app: App,
}

impl EmulatorHandle {
    /// A contact by cID, email or `key:value`, in the shape `GET /v2/contacts/{pk}` returns.
    pub fn contact(&self, key: &str) -> Option<Value> {
        let store = self.app.store();
        let seq = store.find(key)?;
        store.contact(seq).map(|c| store.render(c))
    }

    /// How many contacts the account holds.
    pub fn contact_count(&self) -> usize {
        self.app.store().contact_count()
    }

    /// The account lists, as `GET /v2/accountlists` returns them.
    pub fn lists(&self) -> Vec<Value> {
        self.app
            .store()
            .lists
            .values()
            .map(|l| l.to_json())
            .collect()
    }

    /// Every request received so far (the most recent 100,000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.requests()
    }

    /// Queues a fault: the next `count` requests, to any endpoint and before
    /// authentication, get its answer. Faults queued together are served in order.
    pub fn inject(&self, fault: Fault) {
        self.app.push_fault(fault);
    }

    /// Limits every endpoint (method and route, e.g. `PUT /v2/contacts/{id}`, one bucket
    /// for all contacts) to `limit`: a token bucket per endpoint, `burst` deep, refilled
    /// continuously at `requests_per_second` and full when set. A request finding its
    /// bucket empty gets Cordial's 429 (as [`Fault::RateLimited`], after any queued fault
    /// and before authentication) with `Retry-After` the seconds until the next token,
    /// rounded up, and `X-Rate-Limit-Limit` the burst; the request log shows it with
    /// `fault_status: Some(429)`. `None` lifts the limit and drops the buckets, so a later
    /// limit starts full again.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.app.set_rate_limit(limit);
    }

    /// Delays every later response by `d` (zero turns the delay off).
    pub fn set_latency(&self, d: Duration) {
        self.app.set_latency(d);
    }

    /// While `hold` is true, import and export jobs that have not started yet (new
    /// ones and waiting ones) stay `Pending`; `false` lets them run. A job already
    /// `Processing` is not paused.
    pub fn hold_jobs(&self, hold: bool) {
        self.app.set_hold_jobs(hold);
    }

    /// Every import job, oldest first: the `GET /v2/jobs/{id}` document plus
    /// `rejectedRows` (`[{"row", "line", "reason"}]`: the data row, 1-based, the
    /// file line it starts on, and why it was rejected) and, for a failed job,
    /// `failureDetail` (the SFTP client's own error behind `message`).
    pub fn import_jobs(&self) -> Vec<Value> {
        self.app
            .jobs(|j| j.export.is_none().then(|| j.to_json_with_details()))
            .into_iter()
            .flatten()
            .collect()
    }

    /// Every contact activity export job, oldest first: the `GET /v2/jobs/{id}`
    /// document (files written in `metadata.fileNames`) plus, for a failed job,
    /// `failureDetail`.
    pub fn export_jobs(&self) -> Vec<Value> {
        self.app
            .jobs(|j| j.export.is_some().then(|| j.to_json_with_details()))
            .into_iter()
            .flatten()
            .collect()
    }

    /// Makes the next export job created fail with `message` (its `message` in
    /// `GET /v2/jobs/{id}`) once it starts, without touching the destination.
    /// Several calls queue several failures, for the next exports in order.
    pub fn fail_next_export(&self, message: impl Into<String>) {
        self.app.push_export_failure(message.into());
    }

    /// Adds contact activity events, given as JSON objects in the export's record
    /// form: `action` (or `a`) and `time` (or `ats`, any ISO-8601 form) are
    /// required; `_id` (24 hex) is made when absent; every other field (`cID`,
    /// `email`, `mcID`, `bmID`, `mdtID`, `first`, `message_name`, `message_sent`,
    /// `properties`, ...) is exported as given. `time` is kept to the second.
    /// Nothing is added when an event is invalid.
    pub fn add_events(&self, events: Vec<Value>) -> Result<(), String> {
        self.app.events().add(events)
    }

    /// Adds `n` synthetic events with times spread over `[start, end)`,
    /// deterministic from `seed`: every action kind (the message events
    /// `message-sent`, `open`, `click`, `optout`, `bounce`, `complaint`,
    /// `message-stopped`, then `pageview`, `crdl_subscribeStatusChange` and the custom
    /// `browse`, `cart`, `custom-purchase`) occurs at least once when `n >= 12`.
    /// Contacts are `user<k>@example.com`, about one per eight events; message
    /// events carry `mcID`, `mdtID`, `message_name`, `message_sent` (and `bmID` for
    /// batch messages, `first` for opens and clicks). A million take well under a
    /// second and about 50 MB.
    ///
    /// # Panics
    /// If `[start, end)` holds no whole second.
    pub fn generate_events(&self, n: usize, seed: u64, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.app.events().generate(n, seed, start, end);
    }

    /// How many events the account holds.
    pub fn event_count(&self) -> usize {
        self.app.events().len()
    }

    /// Every event, in time order, as the JSON export writes it (a record per event).
    pub fn events(&self) -> Vec<Value> {
        let snapshot = self.app.events_snapshot();
        snapshot
            .events
            .iter()
            .map(|e| snapshot.to_json(e))
            .collect()
    }

    /// One job (import or export) as [`import_jobs`](Self::import_jobs) and
    /// [`export_jobs`](Self::export_jobs) show it.
    pub fn job(&self, id: &str) -> Option<Value> {
        self.app.job(id, Job::to_json_with_details)
    }

    /// Waits until job `id` is `Done` or `Failed` and returns it as
    /// [`job`](Self::job) does; `None` for an unknown id. Waits for ever while
    /// jobs are held, so wrap it in a timeout where that can happen.
    pub async fn wait_for_job(&self, id: &str) -> Option<Value> {
        let mut changes = self.app.watch_jobs();
        loop {
            let finished = self.app.job(id, |j| j.status.is_finished())?;
            if finished {
                return self.job(id);
            }
            if changes.changed().await.is_err() {
                return self.job(id);
            }
        }
    }
}
