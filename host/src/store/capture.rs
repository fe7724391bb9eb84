//! Experience submissions: the capture inbox (a submission is a row here before the
//! experience gets its 202, and stays `pending` until it is `done` or `dead`) and the audit
//! trail (one row per settled submission, written in the transaction that settles it).

use super::Store;
use rusqlite::params;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS capture_inbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job           TEXT NOT NULL,
    submission_id TEXT UNIQUE,
    contact       TEXT NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    received_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at   TEXT
);
CREATE INDEX IF NOT EXISTS capture_inbox_by_status ON capture_inbox (job, status, id);
CREATE TABLE IF NOT EXISTS capture_audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL,
    job           TEXT NOT NULL,
    contact       TEXT NOT NULL,
    rule          TEXT NOT NULL,
    action        TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    status        INTEGER,
    message       TEXT,
    attempts      INTEGER NOT NULL,
    decided_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS capture_audit_by_job ON capture_audit (job, id);
";

/// A validated submission to put in the inbox.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// The email, else the SMS number: who the audit names.
    pub contact: String,
    /// The submission as received: one JSON object.
    pub body: String,
}

/// A pending submission as read back for delivery.
#[derive(Debug, Clone)]
pub struct PendingSubmission {
    pub id: i64,
    pub submission_id: String,
    pub contact: String,
    pub body: String,
    pub attempts: u32,
}

/// What the job decided: the rule and the action, for the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureDecision {
    pub rule: String,
    pub action: String,
}

/// What became of a submission after a call.
#[derive(Debug, Clone)]
pub enum CaptureSettled {
    /// Written to Cordial, or skipped by the policy.
    Done {
        id: i64,
        attempts: u32,
        decision: CaptureDecision,
    },
    /// Never to be sent as it is.
    Dead {
        id: i64,
        attempts: u32,
        decision: CaptureDecision,
        status: Option<u16>,
        error: String,
    },
    /// Still pending; `attempts` is the new count.
    Retrying {
        id: i64,
        attempts: u32,
        error: String,
    },
}

/// Counts of a job's inbox by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureCounts {
    pub pending: u64,
    pub done: u64,
    pub dead: u64,
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub submission_id: String,
    pub job: String,
    pub contact: String,
    pub rule: String,
    pub action: String,
    /// `delivered` or `dead-letter`.
    pub outcome: String,
    /// Cordial's HTTP status when it refused the contact.
    pub status: Option<u16>,
    pub message: Option<String>,
    pub attempts: u32,
    pub decided_at: String,
}

impl Store {
    /// Adds submissions in one transaction and returns their ids (`<job>-<n>`): all of them
    /// are durable when this returns, or none.
    pub fn accept_submissions(
        &self,
        job: &str,
        submissions: &[NewSubmission],
    ) -> anyhow::Result<Vec<String>> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(submissions.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO capture_inbox (job, contact, body) VALUES (?1, ?2, ?3)",
            )?;
            let mut name =
                tx.prepare_cached("UPDATE capture_inbox SET submission_id = ?2 WHERE id = ?1")?;
            for s in submissions {
                insert.execute(params![job, s.contact, s.body])?;
                let id = tx.last_insert_rowid();
                let submission_id = format!("{job}-{id}");
                name.execute(params![id, submission_id])?;
                ids.push(submission_id);
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The oldest `limit` pending submissions of `job`.
    pub fn pending_submissions(
        &self,
        job: &str,
        limit: u32,
    ) -> anyhow::Result<Vec<PendingSubmission>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT id, submission_id, contact, body, attempts FROM capture_inbox
                 WHERE job = ?1 AND status = 'pending' ORDER BY id LIMIT ?2",
            )?;
            q.query_map(params![job, limit], |r| {
                Ok(PendingSubmission {
                    id: r.get(0)?,
                    submission_id: r.get(1)?,
                    contact: r.get(2)?,
                    body: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    /// Records what happened to a batch and, for every settled submission, its audit row,
    /// in one transaction.
    pub fn settle_submissions(&self, results: &[CaptureSettled]) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut finish = tx.prepare_cached(
                "UPDATE capture_inbox SET status = ?2, attempts = ?3, last_error = ?4,
                 finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )?;
            let mut retrying = tx.prepare_cached(
                "UPDATE capture_inbox SET attempts = ?2, last_error = ?3 WHERE id = ?1",
            )?;
            let mut audit = tx.prepare_cached(
                "INSERT INTO capture_audit
                 (submission_id, job, contact, rule, action, outcome, status, message, attempts)
                 SELECT submission_id, job, contact, ?2, ?3, ?4, ?5, ?6, ?7
                 FROM capture_inbox WHERE id = ?1",
            )?;
            for r in results {
                match r {
                    CaptureSettled::Done {
                        id,
                        attempts,
                        decision,
                    } => {
                        finish.execute(params![id, "done", attempts, None::<String>])?;
                        audit.execute(params![
                            id,
                            decision.rule,
                            decision.action,
                            "delivered",
                            None::<u16>,
                            None::<String>,
                            attempts
                        ])?;
                    }
                    CaptureSettled::Dead {
                        id,
                        attempts,
                        decision,
                        status,
                        error,
                    } => {
                        finish.execute(params![id, "dead", attempts, error])?;
                        audit.execute(params![
                            id,
                            decision.rule,
                            decision.action,
                            "dead-letter",
                            status,
                            error,
                            attempts
                        ])?;
                    }
                    CaptureSettled::Retrying {
                        id,
                        attempts,
                        error,
                    } => {
                        retrying.execute(params![id, attempts, error])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn capture_counts(&self, job: &str) -> anyhow::Result<CaptureCounts> {
        let mut counts = CaptureCounts::default();
        for (status, n) in self.counts_by_status("capture_inbox", job)? {
            match status.as_str() {
                "pending" => counts.pending = n,
                "done" => counts.done = n,
                "dead" => counts.dead = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// The job's audit rows, oldest first; with `limit`, only the most recent `limit`.
    pub fn capture_audit(&self, job: &str, limit: Option<u32>) -> anyhow::Result<Vec<AuditRow>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT submission_id, job, contact, rule, action, outcome, status, message,
                        attempts, decided_at
                 FROM (SELECT * FROM capture_audit WHERE job = ?1 ORDER BY id DESC LIMIT ?2)
                 ORDER BY id",
            )?;
            let limit = limit.map_or(-1, i64::from);
            q.query_map(params![job, limit], |r| {
                Ok(AuditRow {
                    submission_id: r.get(0)?,
                    job: r.get(1)?,
                    contact: r.get(2)?,
                    rule: r.get(3)?,
                    action: r.get(4)?,
                    outcome: r.get(5)?,
                    status: r.get(6)?,
                    message: r.get(7)?,
                    attempts: r.get(8)?,
                    decided_at: r.get(9)?,
                })
            })?
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(contact: &str) -> NewSubmission {
        NewSubmission {
            contact: contact.into(),
            body: format!(r#"{{"email":"{contact}"}}"#),
        }
    }

    fn decision(rule: &str, action: &str) -> CaptureDecision {
        CaptureDecision {
            rule: rule.into(),
            action: action.into(),
        }
    }

    #[test]
    fn submissions_are_settled_with_one_audit_row_each() {
        let s = Store::in_memory().unwrap();
        let ids = s
            .accept_submissions("quiz", &[new("a@x.io"), new("b@x.io"), new("c@x.io")])
            .unwrap();
        s.accept_submissions("other", &[new("z@x.io")]).unwrap();
        assert_eq!(ids, ["quiz-1", "quiz-2", "quiz-3"]);
        let pending = s.pending_submissions("quiz", 10).unwrap();
        assert_eq!(pending.len(), 3);
        assert_eq!(pending[1].submission_id, "quiz-2");
        s.settle_submissions(&[
            CaptureSettled::Done {
                id: pending[0].id,
                attempts: 1,
                decision: decision("R10 subscribe-explicit-opt-in", "subscribed"),
            },
            CaptureSettled::Dead {
                id: pending[1].id,
                attempts: 1,
                decision: decision("R9 auto-subscribe-off", "created"),
                status: Some(422),
                error: "key x is not part of the schema".into(),
            },
            CaptureSettled::Retrying {
                id: pending[2].id,
                attempts: 1,
                error: "429".into(),
            },
        ])
        .unwrap();
        assert_eq!(
            s.capture_counts("quiz").unwrap(),
            CaptureCounts {
                pending: 1,
                done: 1,
                dead: 1
            }
        );
        let audit = s.capture_audit("quiz", None).unwrap();
        assert_eq!(audit.len(), 2, "a retry is not a settled decision");
        assert_eq!(
            (audit[0].submission_id.as_str(), audit[0].contact.as_str()),
            ("quiz-1", "a@x.io")
        );
        assert_eq!(
            (
                audit[1].outcome.as_str(),
                audit[1].status,
                audit[1].action.as_str()
            ),
            ("dead-letter", Some(422), "created")
        );
        let last = s.capture_audit("quiz", Some(1)).unwrap();
        assert_eq!(last, audit[1..]);
        assert_eq!(s.pending_submissions("quiz", 10).unwrap()[0].attempts, 1);
    }
}
