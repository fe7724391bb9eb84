//! The audit trail of experience capture: one row per settled submission (delivered or
//! dead-lettered) with what the job decided, written by `Db::settle` in the transaction
//! that settles the submission in the queue.

use super::{Db, from_row};
use rusqlite::params;

pub const SCHEMA: &str = "
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

/// What the job decided: the rule and the action, for the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureDecision {
    pub rule: String,
    pub action: String,
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

impl Db {
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
                Ok(from_row!(
                    r,
                    AuditRow {
                        submission_id,
                        job,
                        contact,
                        rule,
                        action,
                        outcome,
                        status,
                        message,
                        attempts,
                        decided_at,
                    }
                ))
            })?
            .collect()
        })
    }
}
