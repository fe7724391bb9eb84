//! A worker: batches the items of its keys, calls the job, settles the outcomes.

use super::kind::ItemKind;
use super::metrics::QueueMetrics;
use super::settle::{Wait, fail_head, settle};
use crate::config::JobConfig;
use crate::db::{QueuedItem, Settled};
use crate::history::DeliveryWindow;
use crate::runtime::{CallError, Runtime};
use cordial_jobs::retry::RetryPolicy;
use std::sync::Arc;
use std::time::Duration;
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
            let ops = super::BatchOps::of(kind, &batch);
            let (settled, wait) =
                attempt(&runtime, &job, kind, &policy, &mut batch, &metrics, &window).await;
            metrics.record_outcomes(&settled);
            crate::telemetry::metrics().settled(&job.name, |id| ops.label(id), &settled);
            // Counted before it is written: a drained queue means the window has it all.
            window.record(&ops, &settled);
            if !record(&runtime, &job.name, settled, &mut stop).await {
                return;
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

/// The first wait before recording outcomes again after the store refused them, and the
/// longest.
const RECORD_RETRY: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(10));

/// Records `settled` in the store, trying again until it takes them (a full disk, a
/// read-only file, a lock held too long) or `stop` is set. Until then the worker holds its
/// keys: going on would let a contact's later items overtake outcomes the store does not
/// have, and the dispatcher, which hands each item over once per process, would not hand
/// these out again. Returns false when stopped first: the items stay pending in the store
/// and the next start delivers them again (deliveries are idempotent).
async fn record(
    runtime: &Runtime,
    job: &str,
    settled: Vec<Settled>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut wait = RECORD_RETRY.0;
    loop {
        let outcomes = settled.clone();
        match runtime.db().blocking(move |s| s.settle(&outcomes)).await {
            Ok(()) => return true,
            Err(e) => tracing::error!(
                job = %job,
                "recording outcomes failed; trying again in {wait:?}: {e:#}"
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return false,
        }
        wait = (wait * 2).min(RECORD_RETRY.1);
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
