//! Members waiting for a bulk export: one row per contact and job, the latest state the
//! platform sent. A newer event for the same contact replaces the row and gets a new,
//! higher sequence number, so a run that exports "everything up to seq N" and then
//! acknowledges up to N can never drop a change that arrived while it was running.

use super::{Db, NewEvent};
use rusqlite::{Connection, params};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bulk_members (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,
    contact     TEXT NOT NULL,
    entered     INTEGER NOT NULL,
    user        TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (job, contact)
);
CREATE INDEX IF NOT EXISTS bulk_members_by_job ON bulk_members (job, seq);
";

/// Creates the table; a store from before the rename (`bulk_pending`) keeps its rows.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let old: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bulk_pending')",
        [],
        |r| r.get(0),
    )?;
    if old {
        conn.execute_batch(
            "DROP INDEX IF EXISTS bulk_pending_by_job;
             ALTER TABLE bulk_pending RENAME TO bulk_members;",
        )?;
    }
    conn.execute_batch(SCHEMA)
}

/// One member waiting for the export, as a run reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub seq: u64,
    pub entered: bool,
    pub user: String,
}

impl Db {
    /// Records the events' members as waiting for the export, in one transaction (last state per contact
    /// wins). `exit` means leaving the audience; `enter` and `change` mean being in it.
    pub fn add_members(&self, job: &str, events: &[NewEvent]) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT OR REPLACE INTO bulk_members (job, contact, entered, user)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in events {
                upsert.execute(params![job, e.contact, e.kind != "exit", e.user])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The highest sequence number waiting for `job`'s export (0 when none is).
    pub fn members_high_water(&self, job: &str) -> anyhow::Result<u64> {
        self.number(
            "SELECT COALESCE(MAX(seq), 0) FROM bulk_members WHERE job = ?1",
            job,
        )
    }

    /// Waiting members with `after < seq <= up_to`, in sequence order.
    pub fn members_page(
        &self,
        job: &str,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> anyhow::Result<Vec<Member>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT seq, entered, user FROM bulk_members
                 WHERE job = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
            )?;
            q.query_map(params![job, after as i64, up_to as i64, limit], |r| {
                Ok(Member {
                    seq: r.get::<_, i64>(0)? as u64,
                    entered: r.get(1)?,
                    user: r.get(2)?,
                })
            })?
            .collect()
        })
    }

    /// Forgets the members exported up to `up_to`; returns how many.
    pub fn acknowledge_members(&self, job: &str, up_to: u64) -> anyhow::Result<u64> {
        self.with(|c| {
            c.execute(
                "DELETE FROM bulk_members WHERE job = ?1 AND seq <= ?2",
                params![job, up_to as i64],
            )
        })
        .map(|n| n as u64)
    }

    /// How many members of `job` wait for export.
    pub fn members_waiting(&self, job: &str) -> anyhow::Result<u64> {
        self.number("SELECT COUNT(*) FROM bulk_members WHERE job = ?1", job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(contact: &str, kind: &str) -> NewEvent {
        NewEvent {
            contact: contact.into(),
            audience: "vip".into(),
            kind: kind.into(),
            user: format!("{{\"email\":\"{contact}\",\"kind\":\"{kind}\"}}"),
            occurred_at: None,
            source: "webhook",
        }
    }

    #[test]
    fn the_last_state_per_contact_wins_and_late_changes_survive_an_acknowledgement() {
        let s = Db::in_memory().unwrap();
        s.add_members("j", &[event("a", "enter"), event("b", "enter")])
            .unwrap();
        s.add_members("j", &[event("a", "exit")]).unwrap();
        s.add_members("other", &[event("a", "enter")]).unwrap();
        assert_eq!(s.members_waiting("j").unwrap(), 2);

        let high = s.members_high_water("j").unwrap();
        let page = s.members_page("j", 0, high, 10).unwrap();
        let got: Vec<(bool, &str)> = page.iter().map(|m| (m.entered, m.user.as_str())).collect();
        assert!(got[0].0); // b
        assert!(!got[1].0 && got[1].1.contains("exit")); // a, replaced by its exit

        // b changes again while the run exports: it stays pending after the acknowledgement.
        s.add_members("j", &[event("b", "change")]).unwrap();
        assert_eq!(s.acknowledge_members("j", high).unwrap(), 1);
        let left = s.members_page("j", 0, u64::MAX >> 1, 10).unwrap();
        assert_eq!(left.len(), 1);
        assert!(left[0].entered && left[0].user.contains("change"));
        assert_eq!(s.members_waiting("other").unwrap(), 1);
    }

    #[test]
    fn a_store_from_before_the_rename_keeps_its_waiting_members() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE bulk_pending (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL,
                    contact TEXT NOT NULL, entered INTEGER NOT NULL, user TEXT NOT NULL,
                    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                    UNIQUE (job, contact));
                 CREATE INDEX bulk_pending_by_job ON bulk_pending (job, seq);
                 INSERT INTO bulk_pending (job, contact, entered, user)
                 VALUES ('j', 'a', 1, '{\"email\":\"a\"}');",
            )
            .unwrap();
        }
        let s = Db::open(&path).unwrap();
        assert_eq!(s.members_waiting("j").unwrap(), 1);
        let page = s.members_page("j", 0, 10, 10).unwrap();
        assert_eq!(page[0].user, r#"{"email":"a"}"#);
        s.add_members("j", &[event("b", "enter")]).unwrap();
        assert_eq!(
            s.members_high_water("j").unwrap(),
            2,
            "the sequence goes on"
        );
    }
}
