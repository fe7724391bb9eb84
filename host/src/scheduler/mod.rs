//! The scheduler inside `serve`: one task per scheduled job, sleeping until its next slot,
//! recording the slot as fired before the run starts (so a crash mid-run never fires that
//! slot again), and skipping a slot while another run of the job holds its run lock.

mod slots;

pub use slots::{Due, Schedule};

use crate::config::JobConfig;
use crate::db::{Db, FileLock};
use crate::history::Trigger;
use crate::runtime::{CallContext, RunOutcome, Runtime};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::watch;

/// Where the last fired slot is kept: the job's state, under a key jobs never use.
const LAST_FIRED: &str = "@host:last-fired";

/// The job's schedule from its `frequency` setting (the kind's declared default when absent).
pub fn schedule_of(job: &JobConfig) -> Result<Schedule, String> {
    let frequency = job
        .kind
        .frequency(&job.settings)
        .map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            format!("job `{}` settings: {}", job.name, lines.join("; "))
        })?
        .ok_or_else(|| format!("job `{}` does not run on a schedule", job.name))?;
    Schedule::parse(&frequency).map_err(|e| format!("job `{}` frequency: {e}", job.name))
}

pub fn last_fired(store: &Db, job: &str) -> Option<DateTime<Utc>> {
    let bytes = store.state_get(job, LAST_FIRED).ok()??;
    String::from_utf8(bytes).ok()?.parse().ok()
}

fn record_fired(store: &Db, job: &str, slot: DateTime<Utc>) -> anyhow::Result<()> {
    store.state_set(job, LAST_FIRED, slot.to_rfc3339().as_bytes())
}

/// Runs `job` on its schedule until `stop` turns true.
pub async fn drive(
    runtime: Arc<Runtime>,
    job: JobConfig,
    schedule: Schedule,
    mut stop: watch::Receiver<bool>,
) {
    let store = runtime.db().clone();
    let store_path = runtime.config().store.clone();
    loop {
        let name = job.name.clone();
        let fired = store
            .blocking(move |db| Ok(last_fired(db, &name)))
            .await
            .unwrap_or_default();
        let slot = match schedule.due(fired, Utc::now()) {
            Due::Now { slot } => slot,
            Due::At { slot } => {
                tracing::info!(job = %job.name, next = %slot.to_rfc3339(), "next scheduled run");
                let wait = (slot - Utc::now()).to_std().unwrap_or_default();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
                if *stop.borrow() {
                    return;
                }
                // The slot waited for is due now (asking `due` again would, for a job that
                // never fired, only name the slot after it).
                slot
            }
        };
        let name = job.name.clone();
        if let Err(e) = store
            .blocking(move |db| record_fired(db, &name, slot))
            .await
        {
            tracing::error!(job = %job.name, "cannot record the scheduled slot; not running it: {e:#}");
            return;
        }
        let lock = match FileLock::run(&store_path, &job.name) {
            Ok(lock) => lock,
            Err(e) => {
                tracing::warn!(job = %job.name, slot = %slot.to_rfc3339(), "skipping the slot: {e:#}");
                continue;
            }
        };
        tracing::info!(job = %job.name, slot = %slot.to_rfc3339(), "scheduled run starting");
        let call = CallContext::now();
        match crate::history::recorded_run(&runtime, &job, &call, Trigger::Schedule).await {
            Ok(RunOutcome::Completed(r)) => {
                tracing::info!(job = %job.name, "scheduled run done: {}", r.summary)
            }
            Ok(RunOutcome::Failed(e)) => {
                tracing::warn!(job = %job.name, "scheduled run failed: {e:?}")
            }
            Err(e) => tracing::error!(job = %job.name, "scheduled run could not run: {e}"),
        }
        let config = runtime.config().clone();
        let _ = store
            .blocking(move |db| {
                crate::sinks::after_run(&config, db);
                Ok(())
            })
            .await;
        drop(lock);
    }
}
