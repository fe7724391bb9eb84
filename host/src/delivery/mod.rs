//! Working off an event-driven job's outbox.
//!
//! One dispatcher reads pending events in arrival order and hands each to the worker that
//! owns its contact (a hash of the contact key), so one contact's events are always
//! delivered in order while up to `concurrency` component calls run side by side. A worker
//! keeps a failed batch until it is settled: it waits for Cordial's `Retry-After` or an
//! exponential backoff, and dead-letters an event after `max_attempts`. (A 429 also holds
//! every other call of the job: the HTTP capability's traffic gate sees to that.) Every outcome is written to the store before
//! the worker moves on, so a crash loses nothing: pending events are delivered again on the
//! next start (Cordial upserts are idempotent).

mod dispatcher;
mod metrics;
mod worker;

pub use metrics::DeliveryMetrics;

use crate::config::JobConfig;
use crate::runtime::Runtime;
use crate::store::{OutboxCounts, Store};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// How often [`drained`] looks at the outbox.
const DRAIN_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Waits until `job` has no pending event, showing `progress` the counts at every look.
/// The outbox is the truth about what is left, whichever process delivers it.
pub async fn drained(
    store: &Store,
    job: &str,
    mut progress: impl FnMut(&OutboxCounts),
) -> anyhow::Result<OutboxCounts> {
    loop {
        let counts = store.outbox_counts(job)?;
        progress(&counts);
        if counts.pending == 0 {
            return Ok(counts);
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}

/// A running delivery for one job.
pub struct Delivery {
    tasks: JoinSet<()>,
}

impl Delivery {
    /// Starts the dispatcher and the workers for `job`. Notify `wake` after committing new
    /// events to have them picked up at once (otherwise within half a second).
    pub fn start(
        runtime: Arc<Runtime>,
        job: JobConfig,
        wake: Arc<Notify>,
        metrics: Arc<DeliveryMetrics>,
    ) -> Delivery {
        let mut tasks = JoinSet::new();
        let mut senders = Vec::new();
        for _ in 0..job.delivery.concurrency {
            let (tx, rx) = tokio::sync::mpsc::channel(job.delivery.batch_size as usize * 2);
            senders.push(tx);
            tasks.spawn(worker::run(
                runtime.clone(),
                job.clone(),
                rx,
                metrics.clone(),
            ));
        }
        tasks.spawn(dispatcher::run(
            runtime.store().clone(),
            job.name.clone(),
            senders,
            wake,
        ));
        Delivery { tasks }
    }

    /// Stops delivering; pending events stay in the store for the next start.
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}
