//! Members waiting for a bulk export: one row per contact and job, the latest state the
//! platform sent. A newer event for the same contact replaces the row and gets a new,
//! higher sequence number, so a run that exports "everything up to seq N" and then
//! acknowledges up to N can never drop a change that arrived while it was running.

use super::{NewEvent, Store};
use rusqlite::params;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bulk_pending (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,
    contact     TEXT NOT NULL,
    entered     INTEGER NOT NULL,
    user        TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (job, contact)
);
CREATE INDEX IF NOT EXISTS bulk_pending_by_job ON bulk_pending (job, seq);
";

/// One pending member as a run reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMember {
    pub seq: u64,
    pub entered: bool,
    pub user: String,
}

impl Store {
    /// Records the events' members as pending, in one transaction (last state per contact
    /// wins). `exit` means leaving the audience; `enter` and `change` mean being in it.
    pub fn add_pending(&self, job: &str, events: &[NewEvent]) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT OR REPLACE INTO bulk_pending (job, contact, entered, user)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in events {
                upsert.execute(params![job, e.contact, e.kind != "exit", e.user])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The highest pending sequence number of `job` (0 when none is pending).
    pub fn pending_high_water(&self, job: &str) -> anyhow::Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM bulk_pending WHERE job = ?1",
                params![job],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
    }

    /// Pending members with `after < seq <= up_to`, in sequence order.
    pub fn pending_page(
        &self,
        job: &str,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> anyhow::Result<Vec<PendingMember>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT seq, entered, user FROM bulk_pending
                 WHERE job = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
            )?;
            q.query_map(params![job, after as i64, up_to as i64, limit], |r| {
                Ok(PendingMember {
                    seq: r.get::<_, i64>(0)? as u64,
                    entered: r.get(1)?,
                    user: r.get(2)?,
                })
            })?
            .collect()
        })
    }

    /// Forgets the members exported up to `up_to`; returns how many.
    pub fn acknowledge_pending(&self, job: &str, up_to: u64) -> anyhow::Result<u64> {
        self.with(|c| {
            c.execute(
                "DELETE FROM bulk_pending WHERE job = ?1 AND seq <= ?2",
                params![job, up_to as i64],
            )
        })
        .map(|n| n as u64)
    }

    /// How many members of `job` wait for export.
    pub fn pending_count(&self, job: &str) -> anyhow::Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM bulk_pending WHERE job = ?1",
                params![job],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
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
        let s = Store::in_memory().unwrap();
        s.add_pending("j", &[event("a", "enter"), event("b", "enter")])
            .unwrap();
        s.add_pending("j", &[event("a", "exit")]).unwrap();
        s.add_pending("other", &[event("a", "enter")]).unwrap();
        assert_eq!(s.pending_count("j").unwrap(), 2);

        let high = s.pending_high_water("j").unwrap();
        let page = s.pending_page("j", 0, high, 10).unwrap();
        let got: Vec<(bool, &str)> = page.iter().map(|m| (m.entered, m.user.as_str())).collect();
        assert!(got[0].0); // b
        assert!(!got[1].0 && got[1].1.contains("exit")); // a, replaced by its exit

        // b changes again while the run exports: it stays pending after the acknowledgement.
        s.add_pending("j", &[event("b", "change")]).unwrap();
        assert_eq!(s.acknowledge_pending("j", high).unwrap(), 1);
        let left = s.pending_page("j", 0, u64::MAX >> 1, 10).unwrap();
        assert_eq!(left.len(), 1);
        assert!(left[0].entered && left[0].user.contains("change"));
        assert_eq!(s.pending_count("other").unwrap(), 1);
    }
}
