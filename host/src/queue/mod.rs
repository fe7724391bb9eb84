//! The durable queue of the jobs driven by what the platform sends: audience events for a
//! real-time export, experience submissions for a capture job. The ingress commits items
//! to the store before it answers; this works them off.
//!
//! One dispatcher per job reads pending items in arrival order and hands each to the worker
//! that owns its key (a hash of the contact), so one contact's items are always handled in
//! order — a later one never overtakes an earlier one — while up to `concurrency` component
//! calls run side by side. A worker hands up to `batch_size` items to the job per call and
//! keeps a batch until it is settled: it waits for Cordial's `Retry-After` or an
//! exponential backoff, and dead-letters an item after `max_attempts`. (A 429 also holds
//! every other call of the job: the HTTP capability's traffic gate sees to that.) Every
//! outcome is written to the store before the worker moves on, so a crash loses nothing:
//! pending items go to the job again on the next start (Cordial upserts are idempotent).
//!
//! The kind of item ([`ItemKind`]) is all that differs: how a batch becomes the
//! component's input, and whether settling an item writes its audit row.

pub mod audience;
mod dispatcher;
mod kind;
mod metrics;
mod ops;
mod settle;
pub mod submission;
mod worker;

pub use kind::ItemKind;
pub use metrics::QueueMetrics;
pub use ops::{BatchOps, ItemOp};

use crate::config::JobConfig;
use crate::db::{Db, QueueCounts};
use crate::history::DeliveryWindow;
use crate::runtime::Runtime;
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How often [`drained`] looks at the queue.
const DRAIN_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Waits until `job` has no pending item, showing `progress` the counts at every look.
/// The store is the truth about what is left, whichever process works it off.
pub async fn drained(
    store: &Db,
    job: &str,
    mut progress: impl FnMut(&QueueCounts),
) -> anyhow::Result<QueueCounts> {
    loop {
        let name = job.to_owned();
        let counts = store.blocking(move |s| s.queue_counts(&name)).await?;
        progress(&counts);
        if counts.pending == 0 {
            return Ok(counts);
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}

/// The dispatcher and workers working off one job's queue.
pub struct Workers {
    job: String,
    tasks: JoinSet<()>,
    window: Arc<DeliveryWindow>,
    db: Db,
    retention_days: u32,
}

impl Workers {
    /// Starts working off `job`'s queue of the window's kind of items, recording what they
    /// settle in `window`. Notify `wake` after committing new items to have them picked up at
    /// once (otherwise within half a second). Once `stop` is set, no worker starts another
    /// call.
    pub fn start(
        runtime: Arc<Runtime>,
        job: JobConfig,
        window: Arc<DeliveryWindow>,
        wake: Arc<Notify>,
        metrics: Arc<QueueMetrics>,
        stop: watch::Receiver<bool>,
    ) -> Workers {
        let kind = window.kind();
        let mut tasks = JoinSet::new();
        let mut senders = Vec::new();
        for _ in 0..job.delivery.concurrency {
            let (tx, rx) = tokio::sync::mpsc::channel(job.delivery.batch_size as usize * 2);
            senders.push(tx);
            tasks.spawn(worker::run(
                runtime.clone(),
                job.clone(),
                kind,
                rx,
                metrics.clone(),
                window.clone(),
                stop.clone(),
            ));
        }
        let retention_days = runtime.config().run_history_days;
        tasks.spawn(
            window
                .clone()
                .keep(runtime.db().clone(), retention_days, stop.clone()),
        );
        tasks.spawn(dispatcher::run(
            runtime.db().clone(),
            job.name.clone(),
            senders,
            wake,
            stop,
        ));
        Workers {
            job: job.name,
            tasks,
            window,
            db: runtime.db().clone(),
            retention_days,
        }
    }

    /// Once `stop` (given to [`Workers::start`]) is set, lets the calls in flight finish and
    /// be recorded until `deadline`; calls still running then are cut off. Whatever was not
    /// settled stays pending in the store for the next start. The open delivery window is
    /// closed with what was settled.
    pub async fn stop(mut self, deadline: tokio::time::Instant) {
        let finished = tokio::time::timeout_at(deadline, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                job = %self.job,
                "calls still running at the shutdown deadline were stopped; their items stay pending"
            );
            self.tasks.shutdown().await;
        }
        self.window.close(&self.db, self.retention_days).await;
    }
}
