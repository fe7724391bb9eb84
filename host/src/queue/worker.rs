//! A worker: batches the items of its keys, calls the job, settles the outcomes.

use super::kind::ItemKind;
use super::metrics::QueueMetrics;
use super::settle::{Wait, fail_head, settle};
use crate::config::JobConfig;
use crate::db::{QueuedItem, Settled};
use crate::history::{DeliveryWindow, Tally};
use crate::runtime::{CallError, Runtime};
use cordial_jobs::retry::RetryPolicy;
use std::sync::Arc;
use tokio::sync::mpsc::Receiver;
use tokio::sync::watch;

pub async fn run(
    runtime: Arc<Runtime>,
    job: JobConfig,
    kind: ItemKind,
    mut inbox: Receiver<QueuedItem>,
    metrics: Arc<QueueMetrics>,
    window: Arc<DeliveryWindow>,
    mut stop: watch::Receiver<bool>,
) {
    let policy = RetryPolicy {
        max_attempts: job.delivery.max_attempts,
        ..RetryPolicy::default()
    };
    // Once `stop` is set no new call starts: a call in flight finishes and is recorded, and
    // the items not yet settled stay pending in the store.
    loop {
        let first = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            item = inbox.recv() => match item {
                Some(item) => item,
                None => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < job.delivery.batch_size as usize {
            match inbox.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        // A batch is kept until every item in it is settled: a contact's later items wait
        // in the inbox behind it.
        while !batch.is_empty() && !*stop.borrow() {
            let tallies = Tally::of_batch(kind, &batch);
            let (settled, wait) =
                attempt(&runtime, &job, kind, &policy, &mut batch, &metrics, &window).await;
            metrics.record_outcomes(&settled);
            // Counted before it is written: a drained queue means the window has it all.
            window.record(&tallies, &settled);
            if let Err(e) = runtime.db().blocking(move |s| s.settle(&settled)).await {
                tracing::error!(job = %job.name, "recording outcomes failed: {e:#}");
            }
            if let Some(delay) = wait {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        }
    }
}

/// One component call for the batch. Removes settled items from `batch` and returns what
/// to record and how long to wait before the rest.
async fn attempt(
    runtime: &Runtime,
    job: &JobConfig,
    kind: ItemKind,
    policy: &RetryPolicy,
    batch: &mut Vec<QueuedItem>,
    metrics: &QueueMetrics,
    window: &DeliveryWindow,
) -> (Vec<Settled>, Wait) {
    match kind.call(runtime, job, batch).await {
        Ok((results, stats)) if results.len() == batch.len() => {
            metrics.record_call(stats, batch.len());
            settle(job, policy, batch, results)
        }
        Ok((results, _)) => {
            let error = format!(
                "the component returned {} results for {} items",
                results.len(),
                batch.len()
            );
            fail_head(job, policy, batch, error, kind.undecided())
        }
        Err(error) => {
            if matches!(error, CallError::TimedOut { .. }) {
                window.timed_out();
            }
            fail_head(job, policy, batch, error.to_string(), kind.undecided())
        }
    }
}
