//! The scheduler inside `serve`: one task per scheduled job, sleeping until its next slot,
//! recording the slot as fired before the run starts (so a crash mid-run never fires that
//! slot again), and skipping a slot while another run of the job holds its run lock or its
//! own run is still in progress.

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

/// Records `slot` as `job`'s last fired slot: the loop does it before each run, and a store
/// can be given a history this way (a restart then neither repeats nor forgets a slot).
pub fn record_fired(store: &Db, job: &str, slot: DateTime<Utc>) -> anyhow::Result<()> {
    store.state_set(job, LAST_FIRED, slot.to_rfc3339().as_bytes())
}

/// The slot `job` fires next as seen from `now`, from its last fired slot in `store`: what
/// the loop acts on, and what anything outside the loop (a `status` command) shows, so the
/// two cannot disagree.
pub fn next_slot(store: &Db, job: &str, schedule: &Schedule, now: DateTime<Utc>) -> Due {
    schedule.due(last_fired(store, job), now)
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
        // Checked before every decision, not only while waiting: a slot can be due at once
        // (a catch-up), and must not start a run once the host is stopping.
        if *stop.borrow() {
            return;
        }
        let (name, sched) = (job.name.clone(), schedule.clone());
        let due = store
            .blocking(move |db| Ok(next_slot(db, &name, &sched, Utc::now())))
            .await
            .unwrap_or_else(|_| schedule.due(None, Utc::now()));
        let slot = match due {
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
        skip_slots_passed_during(&store, &job.name, &schedule, slot).await;
    }
}

/// Slots that passed while the run of `slot` was in progress are skipped, the latest
/// recorded as fired, with a warning: run back to back once it ended, a job that outlasts
/// its period would never rest (missed while the host was down, they still give a catch-up).
async fn skip_slots_passed_during(store: &Db, job: &str, schedule: &Schedule, slot: DateTime<Utc>) {
    let Due::Now { slot: latest } = schedule.due(Some(slot), Utc::now()) else {
        return;
    };
    let name = job.to_owned();
    match store
        .blocking(move |db| record_fired(db, &name, latest))
        .await
    {
        Ok(()) => tracing::warn!(
            job, slot = %latest.to_rfc3339(),
            "skipping the slots up to this one: the run of the slot {} was still in progress",
            slot.to_rfc3339()
        ),
        Err(e) => tracing::error!(
            job,
            "cannot record the slots that passed during the run as skipped; one runs now: {e:#}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// The next slot as `status` would show it, read from a real store file: the first slot
    /// for a job that never fired, the following one after a fired slot, a catch-up slot
    /// after missed ones, and each job from its own last fired slot.
    #[test]
    fn next_slot_comes_from_the_last_fired_slot_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let hourly = Schedule::parse("hourly").unwrap();
        let store = Db::open(&path).unwrap();
        let at = |slot| Due::At { slot: t(slot) };
        assert_eq!(
            next_slot(&store, "a", &hourly, t("2026-11-22T10:20:00Z")),
            at("2026-11-22T11:00:00Z")
        );
        record_fired(&store, "a", t("2026-11-22T10:00:00Z")).unwrap();
        drop(store);

        let store = Db::open(&path).unwrap();
        assert_eq!(last_fired(&store, "a"), Some(t("2026-11-22T10:00:00Z")));
        assert_eq!(
            next_slot(&store, "a", &hourly, t("2026-11-22T10:20:00Z")),
            at("2026-11-22T11:00:00Z")
        );
        assert_eq!(
            next_slot(&store, "a", &hourly, t("2026-11-22T13:10:00Z")),
            Due::Now {
                slot: t("2026-11-22T13:00:00Z")
            }
        );
        // Another job never fired: it waits for its first slot whatever `a` did.
        assert_eq!(
            next_slot(&store, "b", &hourly, t("2026-11-22T13:10:00Z")),
            at("2026-11-22T14:00:00Z")
        );
    }
}
