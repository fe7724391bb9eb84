//! The delivery window of a queued job (real-time export, capture): the run record of what
//! its workers settled over a span of time. The first settled batch (or ignored event)
//! opens a window; it closes once the job's queue has drained (nothing pending: every item
//! received so far is delivered or dead-lettered), or once it has been open for
//! [`WINDOW_SPAN`] while the queue keeps busy, and the next batch opens the next one.
//!
//! Workers only add to the window in memory, before they write the batch's outcomes to the
//! store, so "nothing pending" in the store means every settled item is counted. A keeper
//! task writes the record: `running` once a window opens, closed when it is due. Stopping
//! the workers closes the open window.

use super::{Counts, Rejections, RunState, Trigger};
use crate::db::{Db, RunEnd, Settled};
use crate::queue::{BatchOps, ItemKind, ItemOp};
use crate::runtime::CallContext;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The longest a window stays open while the queue keeps busy.
pub const WINDOW_SPAN: Duration = Duration::from_secs(60);
/// How often the keeper looks at the open window.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// An open window.
struct Open {
    call: CallContext,
    opened: Instant,
    /// Its record, once written.
    row: Option<i64>,
    counts: Counts,
    rejections: Rejections,
    last_error: Option<String>,
    done: u64,
    dead: u64,
    retried: u64,
    /// A call hit the job's time limit.
    timed_out: bool,
}

impl Open {
    fn state(&self) -> RunState {
        if self.timed_out {
            RunState::TimedOut
        } else if self.done == 0 && (self.dead > 0 || self.retried > 0) {
            RunState::Failed
        } else if self.dead > 0 {
            RunState::PartiallySucceeded
        } else {
            RunState::Succeeded
        }
    }
}

/// One job's delivery windows.
pub struct DeliveryWindow {
    job: String,
    kind: ItemKind,
    trigger: Trigger,
    open: Mutex<Option<Open>>,
}

impl DeliveryWindow {
    pub fn new(job: &str, kind: ItemKind, trigger: Trigger) -> DeliveryWindow {
        DeliveryWindow {
            job: job.to_owned(),
            kind,
            trigger,
            open: Mutex::new(None),
        }
    }

    pub fn kind(&self) -> ItemKind {
        self.kind
    }

    /// Adds to the open window (opening one if none is), under its lock.
    fn add(&self, f: impl FnOnce(&mut Open)) {
        let mut open = self.open.lock().expect("window mutex poisoned");
        let open = open.get_or_insert_with(|| Open {
            call: CallContext::now(),
            opened: Instant::now(),
            row: None,
            counts: match self.kind {
                ItemKind::AudienceEvents => Counts::audience_events(),
                ItemKind::Submissions => Counts::submissions(),
            },
            rejections: Rejections::default(),
            last_error: None,
            done: 0,
            dead: 0,
            retried: 0,
            timed_out: false,
        });
        f(open);
    }

    /// Counts what became of a batch; `ops` are its items' operations as it went to the job.
    pub fn record(&self, ops: &BatchOps, settled: &[Settled]) {
        if settled.is_empty() {
            return;
        }
        self.add(|w| {
            for s in settled {
                match s {
                    Settled::Done { id, .. } => {
                        w.done += 1;
                        Counts::bump(match ops.get(*id) {
                            Some(ItemOp::Enter) => &mut w.counts.added,
                            Some(ItemOp::Exit) => &mut w.counts.removed,
                            Some(ItemOp::Change) => &mut w.counts.updated,
                            Some(ItemOp::Submission) | None => &mut w.counts.delivered,
                        });
                    }
                    Settled::Retrying { error, .. } => {
                        w.retried += 1;
                        Counts::bump(&mut w.counts.retried);
                        w.last_error = Some(error.clone());
                    }
                    Settled::Dead {
                        attempts,
                        status,
                        error,
                        ..
                    } => {
                        w.dead += 1;
                        // Without Cordial's status, an item dead on its first attempt was
                        // never sendable (no email, an unusable user); a later one gave up.
                        Counts::bump(match (status, attempts) {
                            (Some(_), _) => &mut w.counts.rejected,
                            (None, 1) => &mut w.counts.omitted,
                            (None, _) => &mut w.counts.failed,
                        });
                        w.rejections.add(*status, error);
                        w.last_error = Some(error.clone());
                    }
                }
            }
        });
    }

    /// Notes that a call hit the job's time limit: the window is `timed out`, whatever else
    /// it delivered.
    pub fn timed_out(&self) {
        self.add(|w| w.timed_out = true);
    }

    /// Counts webhook events that were for other audiences than the job's.
    pub fn ignored(&self, events: u64) {
        self.add(|w| {
            w.counts.ignored_other_audiences =
                Some(w.counts.ignored_other_audiences.unwrap_or(0) + events);
        });
    }

    /// Writes the open window's record when it opens and closes it when it is due, until
    /// `stop` is set. First closes the records a stopped process left running (the caller
    /// holds the delivery lock, so no other process has a window of this job open).
    pub async fn keep(
        self: std::sync::Arc<Self>,
        db: Db,
        retention_days: u32,
        mut stop: watch::Receiver<bool>,
    ) {
        let job = self.job.clone();
        let _ = db
            .blocking(move |db| {
                super::close_abandoned(db, &job);
                Ok(())
            })
            .await;
        loop {
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
            self.look(&db, retention_days).await;
        }
    }

    /// The state the open window would close with.
    #[cfg(test)]
    fn state(&self) -> Option<RunState> {
        let open = self.open.lock().expect("window mutex poisoned");
        open.as_ref().map(Open::state)
    }

    async fn look(&self, db: &Db, retention_days: u32) {
        let (unrecorded, age) = {
            let open = self.open.lock().expect("window mutex poisoned");
            let Some(open) = open.as_ref() else {
                return;
            };
            (
                open.row.is_none().then(|| open.call.clone()),
                open.opened.elapsed(),
            )
        };
        if let Some(call) = unrecorded {
            let (job, trigger) = (self.job.clone(), self.trigger);
            let opened = db
                .blocking(move |db| {
                    db.open_run(&call.run_id, &job, trigger.as_str(), &call.started_at)
                })
                .await;
            match opened {
                Ok(id) => {
                    if let Some(open) = self.open.lock().expect("window mutex poisoned").as_mut() {
                        open.row = Some(id);
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %self.job, "could not record a delivery window: {e:#}")
                }
            }
        }
        let job = self.job.clone();
        let drained = db
            .blocking(move |db| db.has_pending(&job))
            .await
            .is_ok_and(|pending| !pending);
        if drained || age >= WINDOW_SPAN {
            self.close(db, retention_days).await;
        }
    }

    /// Closes the open window's record, if a window is open, and prunes old records.
    pub async fn close(&self, db: &Db, retention_days: u32) {
        let Some(open) = self.open.lock().expect("window mutex poisoned").take() else {
            return;
        };
        let (job, trigger) = (self.job.clone(), self.trigger);
        let closed = db
            .blocking(move |db| {
                let id = match open.row {
                    Some(id) => id,
                    None => db.open_run(
                        &open.call.run_id,
                        &job,
                        trigger.as_str(),
                        &open.call.started_at,
                    )?,
                };
                db.close_run(
                    id,
                    &RunEnd {
                        state: open.state().as_str(),
                        ended_at: &super::now(),
                        counts: &open.counts.to_json(),
                        rejections: &open.rejections.to_json(),
                        last_error: open.last_error.as_deref(),
                    },
                )?;
                super::prune(db, retention_days);
                Ok(())
            })
            .await;
        if let Err(e) = closed {
            tracing::warn!(job = %self.job, "could not record the end of a delivery window: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::audience::queued as event;

    fn done(id: i64) -> Settled {
        Settled::Done {
            id,
            attempts: 1,
            decision: None,
        }
    }

    fn dead(id: i64, attempts: u32, status: Option<u16>, error: &str) -> Settled {
        Settled::Dead {
            id,
            attempts,
            status,
            error: error.into(),
            decision: None,
        }
    }

    #[tokio::test]
    async fn a_window_counts_by_event_kind_and_outcome_and_closes_into_one_record() {
        let db = Db::in_memory().unwrap();
        let window = DeliveryWindow::new("vip", ItemKind::AudienceEvents, Trigger::Deliveries);
        let batch = [
            event(3, "exit"),
            event(1, "enter"),
            event(2, "change"),
            event(4, "enter"),
            event(5, "enter"),
            event(6, "enter"),
        ];
        let ops = BatchOps::of(ItemKind::AudienceEvents, &batch);
        window.record(
            &ops,
            &[
                done(1),
                done(2),
                done(3),
                dead(4, 1, Some(422), "fname: too long"),
                dead(5, 1, None, "no email"),
                Settled::Retrying {
                    id: 6,
                    attempts: 1,
                    error: "503".into(),
                },
            ],
        );
        window.record(&ops, &[dead(6, 3, None, "gave up after 3 attempts: 503")]);
        window.ignored(2);
        window.close(&db, 30).await;

        let runs = db.runs(Some("vip"), 10).unwrap();
        assert_eq!(runs.len(), 1, "{runs:?}");
        let run = &runs[0];
        assert_eq!(
            (run.trigger.as_str(), run.state.as_str()),
            ("deliveries", "partially succeeded")
        );
        let counts: Counts = serde_json::from_str(&run.counts).unwrap();
        assert_eq!(
            (counts.added, counts.removed, counts.updated),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(
            (
                counts.rejected,
                counts.omitted,
                counts.failed,
                counts.retried
            ),
            (Some(1), Some(1), Some(1), Some(1))
        );
        assert_eq!(counts.ignored_other_audiences, Some(2));
        let rejections: Rejections = serde_json::from_str(&run.rejections).unwrap();
        assert_eq!(rejections.0[0].status, Some(422));
        assert_eq!(rejections.0.len(), 3);
        assert_eq!(
            run.last_error.as_deref(),
            Some("gave up after 3 attempts: 503")
        );

        window.close(&db, 30).await;
        assert_eq!(
            db.runs(Some("vip"), 10).unwrap().len(),
            1,
            "no window is open after closing"
        );
    }

    #[test]
    fn a_window_that_delivered_nothing_but_had_failures_failed_and_one_past_the_time_limit_timed_out()
     {
        let window = DeliveryWindow::new("quiz", ItemKind::Submissions, Trigger::Backfill);
        let ops = BatchOps::of(ItemKind::Submissions, &[]);
        window.record(
            &ops,
            &[Settled::Retrying {
                id: 1,
                attempts: 1,
                error: "401".into(),
            }],
        );
        assert_eq!(window.state(), Some(RunState::Failed));
        window.record(
            &ops,
            &[Settled::Done {
                id: 1,
                attempts: 2,
                decision: None,
            }],
        );
        window.timed_out();
        assert_eq!(
            window.state(),
            Some(RunState::TimedOut),
            "a call that hit the time limit marks the window whatever it delivered"
        );
    }
}
