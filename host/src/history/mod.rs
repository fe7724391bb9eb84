//! Run history: every run of every job gets a record in the store's `runs` table — a
//! scheduled run, `cordial-host run`, a backfill, and each delivery window of a real-time or
//! capture job — with its trigger, start and end, state, the counts a connector user
//! expects, the last error and a sample of the reasons items were refused.
//!
//! Scheduled jobs record a run around [`Runtime::run`](crate::runtime::Runtime::run)
//! ([`recorded_run`]); queued jobs record what their workers settled into the open
//! [`DeliveryWindow`]. Records older than `[host] run_history_days` are pruned whenever a
//! record is closed.

mod counts;
mod scheduled;
mod window;

pub use counts::{Counts, Rejections};
pub use scheduled::recorded_run;
pub use window::DeliveryWindow;

use crate::db::Db;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A slot of the job's schedule, in `serve`.
    Schedule,
    /// `cordial-host run`.
    Run,
    /// `cordial-host backfill`.
    Backfill,
    /// The webhooks or submissions `serve` received, worked off by the job's queue.
    Deliveries,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Run => "run",
            Trigger::Backfill => "backfill",
            Trigger::Deliveries => "deliveries",
        }
    }
}

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Succeeded,
    /// Some items went through and some were refused or dead-lettered.
    PartiallySucceeded,
    Failed,
    /// A call hit the job's `timeout_secs`.
    TimedOut,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::PartiallySucceeded => "partially succeeded",
            RunState::Failed => "failed",
            RunState::TimedOut => "timed out",
        }
    }
}

/// Now, as the records write times: RFC 3339 UTC to the second, which sorts as text.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What a record left `running` by a process that ended says.
const ABANDONED: &str =
    "the host stopped before this run was recorded as ended; its counts are lost";

/// Closes the records of `job` left `running` by a process that ended without closing them.
/// Call it only while holding the lock that keeps every other run of the job out (the run
/// lock for scheduled jobs, the delivery lock for queued ones).
pub fn close_abandoned(db: &Db, job: &str) {
    if let Err(e) = db.close_abandoned_runs(job, &now(), ABANDONED) {
        tracing::warn!(job, "could not close the run records left running: {e:#}");
    }
}

/// Deletes the records that started more than `days` days ago.
pub fn prune(db: &Db, days: u32) {
    let before = (chrono::Utc::now() - chrono::Duration::days(days.into()))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match db.prune_runs(&before) {
        Ok(0) => {}
        Ok(n) => tracing::debug!("pruned {n} run record(s) older than {days} day(s)"),
        Err(e) => tracing::warn!("could not prune the run history: {e:#}"),
    }
}
