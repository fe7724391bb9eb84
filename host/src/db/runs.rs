//! Run history: one row per run of a job (a scheduled run, `cordial-host run`, a backfill,
//! a real-time or capture delivery window), opened `running` when it starts and closed with
//! its state, counts, last error and a sample of rejection reasons.
//!
//! The counts and the sample are JSON columns: each kind of job has its own counts (an
//! export adds and removes, Import Activity stores and moves a cursor), nothing queries
//! inside them, and a kind that grows a count needs no migration. What is filtered and
//! sorted on (job, state, start) has columns of its own.

use super::{Db, from_row};
use rusqlite::{OptionalExtension, params};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    job        TEXT NOT NULL,
    trigger    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'running',
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    counts     TEXT NOT NULL DEFAULT '{}',
    rejections TEXT NOT NULL DEFAULT '[]',
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job, id);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
";

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: i64,
    pub run_id: String,
    pub job: String,
    pub trigger: String,
    pub state: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// A JSON object of the kind's counts.
    pub counts: String,
    /// A JSON array of `{status, reason, count}`.
    pub rejections: String,
    pub last_error: Option<String>,
}

/// How a run ended, for [`Db::close_run`].
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    pub state: &'a str,
    pub ended_at: &'a str,
    pub counts: &'a str,
    pub rejections: &'a str,
    pub last_error: Option<&'a str>,
}

const COLUMNS: &str =
    "id, run_id, job, trigger, state, started_at, ended_at, counts, rejections, last_error";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(from_row!(
        r,
        RunRow {
            id,
            run_id,
            job,
            trigger,
            state,
            started_at,
            ended_at,
            counts,
            rejections,
            last_error
        }
    ))
}

impl Db {
    /// Records that a run started; returns its row id.
    pub fn open_run(
        &self,
        run_id: &str,
        job: &str,
        trigger: &str,
        started_at: &str,
    ) -> anyhow::Result<i64> {
        self.with(|c| {
            c.execute(
                "INSERT INTO runs (run_id, job, trigger, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![run_id, job, trigger, started_at],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    pub fn close_run(&self, id: i64, end: &RunEnd<'_>) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET state = ?2, ended_at = ?3, counts = ?4, rejections = ?5,
                 last_error = ?6 WHERE id = ?1",
                params![
                    id,
                    end.state,
                    end.ended_at,
                    end.counts,
                    end.rejections,
                    end.last_error
                ],
            )
            .map(drop)
        })
    }

    /// The latest `limit` runs (of `job`, or of every job), newest first.
    pub fn runs(&self, job: Option<&str>, limit: u32) -> anyhow::Result<Vec<RunRow>> {
        self.with(|c| {
            let mut q = c.prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE ?1 IS NULL OR job = ?1 ORDER BY id DESC LIMIT ?2"
            ))?;
            q.query_map(params![job, limit], run_row)?.collect()
        })
    }

    /// The latest run of `job`, if it has one.
    pub fn last_run(&self, job: &str) -> anyhow::Result<Option<RunRow>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT 1"),
                params![job],
                run_row,
            )
            .optional()
        })
    }

    /// Closes as `failed` the records of `job` still `running`: the process that opened
    /// them ended before it could close them (a crash, a kill). Returns how many.
    pub fn close_abandoned_runs(
        &self,
        job: &str,
        ended_at: &str,
        error: &str,
    ) -> anyhow::Result<usize> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET state = 'failed', ended_at = ?2, last_error = ?3
                 WHERE job = ?1 AND state = 'running'",
                params![job, ended_at, error],
            )
        })
    }

    /// Deletes the finished runs that started before `before` (RFC 3339, UTC); returns how
    /// many. A run still going is never deleted.
    pub fn prune_runs(&self, before: &str) -> anyhow::Result<usize> {
        self.with(|c| {
            c.execute(
                "DELETE FROM runs WHERE started_at < ?1 AND state != 'running'",
                params![before],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end<'a>(state: &'a str, counts: &'a str) -> RunEnd<'a> {
        RunEnd {
            state,
            ended_at: "2026-12-01T10:00:05Z",
            counts,
            rejections: "[]",
            last_error: None,
        }
    }

    #[test]
    fn runs_are_listed_newest_first_per_job_and_pruned_by_start() {
        let db = Db::in_memory().unwrap();
        let a1 = db
            .open_run("r1", "a", "run", "2026-10-01T10:00:00Z")
            .unwrap();
        db.close_run(a1, &end("succeeded", r#"{"read":3}"#))
            .unwrap();
        let b1 = db
            .open_run("r2", "b", "schedule", "2026-12-01T10:00:00Z")
            .unwrap();
        db.open_run("r3", "a", "run", "2026-10-01T11:00:00Z")
            .unwrap();
        let ids: Vec<i64> = db.runs(None, 10).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids, [a1 + 2, b1, a1]);
        let a = db.runs(Some("a"), 10).unwrap();
        assert_eq!(
            a.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
            ["r3", "r1"]
        );
        assert_eq!(
            (a[1].state.as_str(), a[1].counts.as_str()),
            ("succeeded", r#"{"read":3}"#)
        );
        assert_eq!(db.runs(Some("a"), 1).unwrap().len(), 1);
        assert_eq!(db.last_run("b").unwrap().unwrap().state, "running");

        assert_eq!(
            db.prune_runs("2026-11-01T00:00:00Z").unwrap(),
            1,
            "the old finished run goes; the old one still running stays"
        );
        assert_eq!(db.runs(Some("a"), 10).unwrap()[0].run_id, "r3");
        assert_eq!(
            db.close_abandoned_runs("a", "2026-12-02T00:00:00Z", "gone")
                .unwrap(),
            1
        );
        let r3 = db.last_run("a").unwrap().unwrap();
        assert_eq!(
            (r3.state.as_str(), r3.last_error.as_deref()),
            ("failed", Some("gone"))
        );
    }
}
