//! The durable queue of the jobs driven by what the platform sends (audience events,
//! experience submissions): an item is a row here before its sender gets a 202, and stays
//! `pending` until the job settled it (`done`) or it was dead-lettered (`dead`). A dead
//! letter that is replayed is marked `replayed` and queued again as a new item.
//!
//! The queue does not read its items: `item` is the JSON the job's kind of item is made
//! from (see `crate::queue`), `key` the contact whose items must keep their order.

use super::{CaptureDecision, Db, from_row};
use rusqlite::{Transaction, params};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,
    name        TEXT,
    key         TEXT NOT NULL,
    item        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error  TEXT,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_status ON queue (job, status, id);
";

/// An item's name, the id its sender was given (`<job>-<n>`, the submission ids of capture).
/// The `name` column is only set when that is not `<job>-<id>`: a replay keeps the name of
/// the dead letter it replays, so the audit trail follows one submission across replays.
const NAME: &str = "COALESCE(name, job || '-' || id) AS name";

/// An audience event for one job, as the platform sent it: queued as an item for a
/// real-time job (`crate::queue::audience`), kept as a pending member for a bulk job.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The ordering key: events of one contact are delivered in the order they arrived.
    pub contact: String,
    pub audience: String,
    /// `enter`, `exit` or `change`.
    pub kind: String,
    /// The user's fields, one JSON object.
    pub user: String,
    pub occurred_at: Option<String>,
    /// `webhook` or `backfill`.
    pub source: &'static str,
}

/// An item to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// The ordering key: a contact's items are worked off in the order they arrived.
    pub key: String,
    /// What the job is handed, as JSON.
    pub item: String,
    /// Where it came from: `webhook`, `backfill`, `capture` (a replay is `dlq-retry`).
    pub source: &'static str,
}

/// A pending item as read back for its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedItem {
    pub id: i64,
    /// `<job>-<n>`: the id its sender was given.
    pub name: String,
    pub key: String,
    pub item: String,
    pub attempts: u32,
}

/// What became of an item after a call. `decision` is what the job decided about it, for a
/// kind of job with an audit trail (capture): it gets its audit row in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Delivered (or, for a submission, deliberately skipped by the policy).
    Done {
        id: i64,
        attempts: u32,
        decision: Option<CaptureDecision>,
    },
    /// Still pending; `attempts` is the new count, `error` the latest failure.
    Retrying {
        id: i64,
        attempts: u32,
        error: String,
    },
    /// Never to be sent as it is.
    Dead {
        id: i64,
        attempts: u32,
        status: Option<u16>,
        error: String,
        decision: Option<CaptureDecision>,
    },
}

/// A dead-lettered item, for `dlq list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub name: String,
    pub key: String,
    pub item: String,
    pub attempts: u32,
    pub status: Option<u16>,
    pub error: String,
    pub finished_at: String,
}

/// Counts of a job's queue by state (replayed dead letters are counted as their replays).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: u64,
    pub done: u64,
    pub dead: u64,
}

/// What still needs an operator's or the queue's attention: items pending and dead letters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub pending: u64,
    pub dead: u64,
}

impl Db {
    /// Adds items to `job`'s queue in one transaction and returns their names: all of them
    /// are durable when this returns, or none.
    pub fn enqueue(&self, job: &str, items: &[NewItem]) -> anyhow::Result<Vec<String>> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        let mut names = Vec::with_capacity(items.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO queue (job, key, item, source) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for i in items {
                insert.execute(params![job, i.key, i.item, i.source])?;
                names.push(format!("{job}-{}", tx.last_insert_rowid()));
            }
        }
        tx.commit()?;
        Ok(names)
    }

    /// Pending items of `job` with an id above `after`, oldest first.
    pub fn pending_after(
        &self,
        job: &str,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<QueuedItem>> {
        self.with(|c| {
            let mut q = c.prepare_cached(&format!(
                "SELECT id, {NAME}, key, item, attempts FROM queue
                 WHERE job = ?1 AND status = 'pending' AND id > ?2 ORDER BY id LIMIT ?3"
            ))?;
            q.query_map(params![job, after, limit], |r| {
                Ok(from_row!(
                    r,
                    QueuedItem {
                        id,
                        name,
                        key,
                        item,
                        attempts
                    }
                ))
            })?
            .collect()
        })
    }

    /// Records what happened to a batch, with the audit rows of the decisions, in one
    /// transaction.
    pub fn settle(&self, settled: &[Settled]) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut finish = tx.prepare_cached(
                "UPDATE queue SET status = ?2, attempts = ?3, last_status = ?4,
                 last_error = COALESCE(?5, last_error),
                 finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )?;
            let mut retrying =
                tx.prepare_cached("UPDATE queue SET attempts = ?2, last_error = ?3 WHERE id = ?1")?;
            for s in settled {
                match s {
                    Settled::Done {
                        id,
                        attempts,
                        decision,
                    } => {
                        finish.execute(params![id, "done", attempts, None::<u16>, None::<&str>])?;
                        if let Some(d) = decision {
                            audit(&tx, *id, d, "delivered", None, None, *attempts)?;
                        }
                    }
                    Settled::Retrying {
                        id,
                        attempts,
                        error,
                    } => {
                        retrying.execute(params![id, attempts, error])?;
                    }
                    Settled::Dead {
                        id,
                        attempts,
                        status,
                        error,
                        decision,
                    } => {
                        finish.execute(params![id, "dead", attempts, status, error])?;
                        if let Some(d) = decision {
                            audit(
                                &tx,
                                *id,
                                d,
                                "dead-letter",
                                *status,
                                Some(error.as_str()),
                                *attempts,
                            )?;
                        }
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether `job` has an item pending: one index lookup, however many items it settled.
    pub fn has_pending(&self, job: &str) -> anyhow::Result<bool> {
        self.number(
            "SELECT EXISTS (SELECT 1 FROM queue WHERE job = ?1 AND status = 'pending')",
            job,
        )
        .map(|n| n == 1)
    }

    /// The job's [`Backlog`], read from the status index's pending and dead ranges only:
    /// unlike [`Db::queue_counts`] it never counts the delivered items, which grow without
    /// bound, so a scrape or `status` costs the same on a queue of a million done items.
    pub fn backlog(&self, job: &str) -> anyhow::Result<Backlog> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT (SELECT COUNT(*) FROM queue WHERE job = ?1 AND status = 'pending'),
                        (SELECT COUNT(*) FROM queue WHERE job = ?1 AND status = 'dead')",
            )?;
            q.query_row(params![job], |r| {
                Ok(Backlog {
                    pending: r.get(0)?,
                    dead: r.get(1)?,
                })
            })
        })
    }

    pub fn queue_counts(&self, job: &str) -> anyhow::Result<QueueCounts> {
        let by_status: Vec<(String, u64)> = self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT status, COUNT(*) FROM queue WHERE job = ?1 GROUP BY status",
            )?;
            q.query_map(params![job], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })?;
        let mut counts = QueueCounts::default();
        for (status, n) in by_status {
            match status.as_str() {
                "pending" => counts.pending = n,
                "done" => counts.done = n,
                "dead" => counts.dead = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    pub fn dead_letters(&self, job: &str) -> anyhow::Result<Vec<DeadLetter>> {
        self.with(|c| {
            let mut q = c.prepare(&format!(
                "SELECT id, {NAME}, key, item, attempts, last_status AS status,
                        COALESCE(last_error, '') AS error, COALESCE(finished_at, '') AS finished_at
                 FROM queue WHERE job = ?1 AND status = 'dead' ORDER BY id"
            ))?;
            q.query_map(params![job], |r| {
                Ok(from_row!(
                    r,
                    DeadLetter {
                        id,
                        name,
                        key,
                        item,
                        attempts,
                        status,
                        error,
                        finished_at
                    }
                ))
            })?
            .collect()
        })
    }

    /// Puts dead letters back in line as new items (after everything already queued, so a
    /// replay never overtakes newer items of the same contact), under their names; the
    /// originals are marked `replayed`. `only` limits the replay to those ids. Returns how
    /// many were replayed.
    pub fn replay_dead_letters(&self, job: &str, only: Option<&[i64]>) -> anyhow::Result<usize> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        let ids: Vec<i64> = {
            let mut q =
                tx.prepare("SELECT id FROM queue WHERE job = ?1 AND status = 'dead' ORDER BY id")?;
            q.query_map(params![job], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?
                .into_iter()
                .filter(|id| only.is_none_or(|o| o.contains(id)))
                .collect()
        };
        for id in &ids {
            tx.execute(
                &format!(
                    "INSERT INTO queue (job, name, key, item, source)
                     SELECT job, {NAME}, key, item, 'dlq-retry' FROM queue WHERE id = ?1"
                ),
                params![id],
            )?;
            tx.execute(
                "UPDATE queue SET status = 'replayed' WHERE id = ?1",
                params![id],
            )?;
        }
        tx.commit()?;
        Ok(ids.len())
    }
}

/// The audit row of a settled item: its name is the submission id, its key the contact.
fn audit(
    tx: &Transaction,
    id: i64,
    decision: &CaptureDecision,
    outcome: &str,
    status: Option<u16>,
    message: Option<&str>,
    attempts: u32,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(&format!(
        "INSERT INTO capture_audit
         (submission_id, job, contact, rule, action, outcome, status, message, attempts)
         SELECT {NAME}, job, key, ?2, ?3, ?4, ?5, ?6, ?7 FROM queue WHERE id = ?1"
    ))?
    .execute(params![
        id,
        decision.rule,
        decision.action,
        outcome,
        status,
        message,
        attempts
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str) -> NewItem {
        NewItem {
            key: key.into(),
            item: format!(r#"{{"email":"{key}"}}"#),
            source: "capture",
        }
    }

    fn decision(rule: &str, action: &str) -> Option<CaptureDecision> {
        Some(CaptureDecision {
            rule: rule.into(),
            action: action.into(),
        })
    }

    #[test]
    fn items_flow_from_pending_to_done_or_dead_and_back_by_replay() {
        let s = Db::in_memory().unwrap();
        let names = s.enqueue("j", &[item("a"), item("b"), item("a")]).unwrap();
        s.enqueue("other", &[item("z")]).unwrap();
        assert_eq!(names, ["j-1", "j-2", "j-3"]);
        let pending = s.pending_after("j", 0, 10).unwrap();
        assert_eq!(
            pending.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
            ["a", "b", "a"]
        );
        assert_eq!(pending[1].item, r#"{"email":"b"}"#);
        assert_eq!(s.pending_after("j", pending[1].id, 10).unwrap().len(), 1);
        s.settle(&[
            Settled::Done {
                id: pending[0].id,
                attempts: 1,
                decision: None,
            },
            Settled::Dead {
                id: pending[1].id,
                attempts: 1,
                status: Some(422),
                error: "bad".into(),
                decision: None,
            },
            Settled::Retrying {
                id: pending[2].id,
                attempts: 1,
                error: "429".into(),
            },
        ])
        .unwrap();
        assert_eq!(
            s.queue_counts("j").unwrap(),
            QueueCounts {
                pending: 1,
                done: 1,
                dead: 1
            }
        );
        assert_eq!(
            s.backlog("j").unwrap(),
            Backlog {
                pending: 1,
                dead: 1
            },
            "the backlog leaves the delivered item out"
        );
        assert_eq!(s.pending_after("j", 0, 10).unwrap()[0].attempts, 1);
        let dead = s.dead_letters("j").unwrap();
        assert_eq!(
            (
                dead[0].name.as_str(),
                dead[0].key.as_str(),
                dead[0].status,
                dead[0].error.as_str()
            ),
            ("j-2", "b", Some(422), "bad")
        );
        assert_eq!(s.replay_dead_letters("j", Some(&[99])).unwrap(), 0);
        assert_eq!(s.replay_dead_letters("j", None).unwrap(), 1);
        assert!(s.dead_letters("j").unwrap().is_empty());
        let pending = s.pending_after("j", 0, 10).unwrap();
        assert_eq!(
            pending.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(
            pending[1].id > pending[0].id,
            "a replay goes to the back of the line"
        );
        assert_eq!(
            (pending[1].name.as_str(), pending[1].attempts),
            ("j-2", 0),
            "under its name, with its attempts counted afresh"
        );
    }

    #[test]
    fn settled_items_with_a_decision_get_one_audit_row_each() {
        let s = Db::in_memory().unwrap();
        let ids = s
            .enqueue("quiz", &[item("a@x.io"), item("b@x.io"), item("c@x.io")])
            .unwrap();
        assert_eq!(ids, ["quiz-1", "quiz-2", "quiz-3"]);
        let pending = s.pending_after("quiz", 0, 10).unwrap();
        s.settle(&[
            Settled::Done {
                id: pending[0].id,
                attempts: 1,
                decision: decision("R10 subscribe-explicit-opt-in", "subscribed"),
            },
            Settled::Dead {
                id: pending[1].id,
                attempts: 1,
                status: Some(422),
                error: "key x is not part of the schema".into(),
                decision: decision("R9 auto-subscribe-off", "created"),
            },
            Settled::Retrying {
                id: pending[2].id,
                attempts: 1,
                error: "429".into(),
            },
        ])
        .unwrap();
        let audit = s.capture_audit("quiz", None).unwrap();
        assert_eq!(audit.len(), 2, "a retry is not a settled decision");
        assert_eq!(
            (
                audit[0].submission_id.as_str(),
                audit[0].contact.as_str(),
                audit[0].outcome.as_str()
            ),
            ("quiz-1", "a@x.io", "delivered")
        );
        assert_eq!(
            (
                audit[1].outcome.as_str(),
                audit[1].status,
                audit[1].action.as_str(),
                audit[1].message.as_deref()
            ),
            (
                "dead-letter",
                Some(422),
                "created",
                Some("key x is not part of the schema")
            )
        );
        let last = s.capture_audit("quiz", Some(1)).unwrap();
        assert_eq!(last, audit[1..]);

        // Replayed, the submission keeps its id in the audit trail.
        s.replay_dead_letters("quiz", None).unwrap();
        let again = s.pending_after("quiz", pending[2].id, 10).unwrap();
        s.settle(&[Settled::Done {
            id: again[0].id,
            attempts: 1,
            decision: decision("R9 auto-subscribe-off", "created"),
        }])
        .unwrap();
        let last = s.capture_audit("quiz", Some(1)).unwrap().remove(0);
        assert_eq!(
            (last.submission_id.as_str(), last.outcome.as_str()),
            ("quiz-2", "delivered")
        );
    }
}
