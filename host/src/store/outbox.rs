//! The outbox: accepted audience events, their delivery state, and the dead letters.

use super::Store;
use rusqlite::params;

/// An event to put in the outbox.
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
    /// `webhook`, `backfill` or `dlq-retry`.
    pub source: &'static str,
}

/// A pending event as read back for delivery.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub id: i64,
    pub contact: String,
    pub audience: String,
    pub kind: String,
    pub user: String,
    pub occurred_at: Option<String>,
    pub attempts: u32,
}

/// What became of an event after a delivery attempt.
#[derive(Debug, Clone)]
pub enum Settled {
    Delivered {
        id: i64,
    },
    /// Still pending; `attempts` is the new count, `error` the latest failure.
    Retrying {
        id: i64,
        attempts: u32,
        error: String,
    },
    Dead {
        id: i64,
        attempts: u32,
        status: Option<u16>,
        error: String,
    },
}

/// A dead-lettered event, for `dlq list`.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: i64,
    pub contact: String,
    pub kind: String,
    pub attempts: u32,
    pub status: Option<u16>,
    pub error: String,
    pub finished_at: String,
}

/// Counts of a job's outbox by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
}

impl Store {
    /// Adds events in one transaction: all of them are durable when this returns, or none.
    pub fn enqueue(&self, job: &str, events: &[NewEvent]) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO outbox (job, contact, audience, kind, user, occurred_at, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for e in events {
                insert.execute(params![
                    job,
                    e.contact,
                    e.audience,
                    e.kind,
                    e.user,
                    e.occurred_at,
                    e.source
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Pending events of `job` with an id above `after`, oldest first.
    pub fn pending_after(
        &self,
        job: &str,
        after: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<OutboxEvent>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT id, contact, audience, kind, user, occurred_at, attempts FROM outbox
                 WHERE job = ?1 AND status = 'pending' AND id > ?2 ORDER BY id LIMIT ?3",
            )?;
            q.query_map(params![job, after, limit], |r| {
                Ok(OutboxEvent {
                    id: r.get(0)?,
                    contact: r.get(1)?,
                    audience: r.get(2)?,
                    kind: r.get(3)?,
                    user: r.get(4)?,
                    occurred_at: r.get(5)?,
                    attempts: r.get(6)?,
                })
            })?
            .collect()
        })
    }

    /// Records what happened to a batch, in one transaction.
    pub fn settle(&self, results: &[Settled]) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        {
            let mut delivered = tx.prepare_cached(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1,
                 finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )?;
            let mut retrying = tx
                .prepare_cached("UPDATE outbox SET attempts = ?2, last_error = ?3 WHERE id = ?1")?;
            let mut dead = tx.prepare_cached(
                "UPDATE outbox SET status = 'dead', attempts = ?2, last_status = ?3, last_error = ?4,
                 finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )?;
            for r in results {
                match r {
                    Settled::Delivered { id } => delivered.execute(params![id])?,
                    Settled::Retrying {
                        id,
                        attempts,
                        error,
                    } => retrying.execute(params![id, attempts, error])?,
                    Settled::Dead {
                        id,
                        attempts,
                        status,
                        error,
                    } => dead.execute(params![id, attempts, status, error])?,
                };
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn outbox_counts(&self, job: &str) -> anyhow::Result<OutboxCounts> {
        let mut counts = OutboxCounts::default();
        for (status, n) in self.counts_by_status("outbox", job)? {
            match status.as_str() {
                "pending" => counts.pending = n,
                "delivered" => counts.delivered = n,
                "dead" => counts.dead = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    pub fn dead_letters(&self, job: &str) -> anyhow::Result<Vec<DeadLetter>> {
        self.with(|c| {
            let mut q = c.prepare(
                "SELECT id, contact, kind, attempts, last_status, COALESCE(last_error, ''), COALESCE(finished_at, '')
                 FROM outbox WHERE job = ?1 AND status = 'dead' ORDER BY id",
            )?;
            q.query_map(params![job], |r| {
                Ok(DeadLetter {
                    id: r.get(0)?,
                    contact: r.get(1)?,
                    kind: r.get(2)?,
                    attempts: r.get(3)?,
                    status: r.get(4)?,
                    error: r.get(5)?,
                    finished_at: r.get(6)?,
                })
            })?
            .collect()
        })
    }

    /// Puts dead letters back in line as new events (after everything already queued, so a
    /// replay never overtakes newer events of the same contact); the originals are marked
    /// `replayed`. `only` limits the replay to those ids. Returns how many were replayed.
    pub fn replay_dead_letters(&self, job: &str, only: Option<&[i64]>) -> anyhow::Result<usize> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        let ids: Vec<i64> = {
            let mut q =
                tx.prepare("SELECT id FROM outbox WHERE job = ?1 AND status = 'dead' ORDER BY id")?;
            q.query_map(params![job], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?
                .into_iter()
                .filter(|id| only.is_none_or(|o| o.contains(id)))
                .collect()
        };
        for id in &ids {
            tx.execute(
                "INSERT INTO outbox (job, contact, audience, kind, user, occurred_at, source)
                 SELECT job, contact, audience, kind, user, occurred_at, 'dlq-retry' FROM outbox WHERE id = ?1",
                params![id],
            )?;
            tx.execute(
                "UPDATE outbox SET status = 'replayed' WHERE id = ?1",
                params![id],
            )?;
        }
        tx.commit()?;
        Ok(ids.len())
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
            user: format!(r#"{{"email":"{contact}"}}"#),
            occurred_at: None,
            source: "webhook",
        }
    }

    #[test]
    fn events_flow_from_pending_to_delivered_or_dead_and_back_by_replay() {
        let s = Store::in_memory().unwrap();
        s.enqueue(
            "j",
            &[event("a", "enter"), event("b", "enter"), event("a", "exit")],
        )
        .unwrap();
        s.enqueue("other", &[event("z", "enter")]).unwrap();
        let pending = s.pending_after("j", 0, 10).unwrap();
        assert_eq!(
            pending.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["enter", "enter", "exit"]
        );
        assert_eq!(s.pending_after("j", pending[1].id, 10).unwrap().len(), 1);
        s.settle(&[
            Settled::Delivered { id: pending[0].id },
            Settled::Dead {
                id: pending[1].id,
                attempts: 1,
                status: Some(422),
                error: "bad".into(),
            },
            Settled::Retrying {
                id: pending[2].id,
                attempts: 1,
                error: "429".into(),
            },
        ])
        .unwrap();
        assert_eq!(
            s.outbox_counts("j").unwrap(),
            OutboxCounts {
                pending: 1,
                delivered: 1,
                dead: 1
            }
        );
        let dead = s.dead_letters("j").unwrap();
        assert_eq!(
            (
                dead[0].contact.as_str(),
                dead[0].status,
                dead[0].error.as_str()
            ),
            ("b", Some(422), "bad")
        );
        assert_eq!(s.replay_dead_letters("j", None).unwrap(), 1);
        assert!(s.dead_letters("j").unwrap().is_empty());
        let pending = s.pending_after("j", 0, 10).unwrap();
        assert_eq!(
            pending
                .iter()
                .map(|e| e.contact.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(
            pending[1].id > pending[0].id,
            "a replay goes to the back of the line"
        );
    }
}
