//! Where each forwarded stream stands with the platform: the cursor (the last record the
//! platform acknowledged or that was set aside), the batch in flight, and the counts a user
//! checks. The cursor moves only in the transaction that records the acknowledgement, so a
//! crash between the platform storing a batch and this commit makes the batch go again —
//! the one way a record reaches the platform twice, and it is counted (`resent_*`).

use super::Db;
use rusqlite::{OptionalExtension, params};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS forwarding (
    stream         TEXT PRIMARY KEY,
    cursor         INTEGER NOT NULL DEFAULT 0,
    sending        INTEGER NOT NULL DEFAULT 0,
    forwarded      INTEGER NOT NULL DEFAULT 0,
    rejected       INTEGER NOT NULL DEFAULT 0,
    quarantined    INTEGER NOT NULL DEFAULT 0,
    resent_batches INTEGER NOT NULL DEFAULT 0,
    resent_records INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    updated_at     TEXT
);
";

/// The quarantine's `job` for records the platform refused.
pub const PLATFORM: &str = "@platform";

/// One stream's forwarding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// The last record id the platform acknowledged (or that was set aside).
    pub cursor: i64,
    /// The last record id of the batch sent and not yet acknowledged; above `cursor` only
    /// while a batch is out, or after the host stopped with one out.
    pub sending: i64,
    /// Records the platform took (`message_count`, summed).
    pub forwarded: u64,
    /// Records the platform took off without refusing the batch (`rejected_count`, summed).
    pub rejected: u64,
    /// Records the platform refused one by one, set aside in the quarantine.
    pub quarantined: u64,
    /// Batches, and their records, sent again when the platform may already have held them.
    pub resent_batches: u64,
    pub resent_records: u64,
    pub last_error: Option<String>,
}

impl Db {
    pub fn forwarding(&self, stream: &str) -> anyhow::Result<Forwarding> {
        self.with(|c| {
            c.query_row(
                "SELECT cursor, sending, forwarded, rejected, quarantined, resent_batches,
                        resent_records, last_error
                 FROM forwarding WHERE stream = ?1",
                params![stream],
                |r| {
                    Ok(Forwarding {
                        cursor: r.get(0)?,
                        sending: r.get(1)?,
                        forwarded: r.get::<_, i64>(2)? as u64,
                        rejected: r.get::<_, i64>(3)? as u64,
                        quarantined: r.get::<_, i64>(4)? as u64,
                        resent_batches: r.get::<_, i64>(5)? as u64,
                        resent_records: r.get::<_, i64>(6)? as u64,
                        last_error: r.get(7)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    /// How many records of `stream` come after row `after`.
    pub fn stream_backlog(&self, stream: &str, after: i64) -> anyhow::Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM stream_records WHERE stream = ?1 AND id > ?2",
                params![stream, after],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
    }

    /// How many records of `stream` lie in `(after, upto]`.
    pub fn stream_between(&self, stream: &str, after: i64, upto: i64) -> anyhow::Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM stream_records WHERE stream = ?1 AND id > ?2 AND id <= ?3",
                params![stream, after, upto],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
    }

    /// Notes, durably, that the records up to `last` are on their way.
    pub fn forward_sending(&self, stream: &str, last: i64) -> anyhow::Result<()> {
        self.forward_update(stream, "sending = MAX(sending, ?2)", params![stream, last])
    }

    /// The platform acknowledged the records up to `last`.
    pub fn forward_acknowledged(
        &self,
        stream: &str,
        last: i64,
        messages: u64,
        rejected: u64,
    ) -> anyhow::Result<()> {
        self.forward_update(
            stream,
            "cursor = ?2, forwarded = forwarded + ?3, rejected = rejected + ?4, last_error = NULL",
            params![stream, last, messages as i64, rejected as i64],
        )
    }

    /// `records` records are being sent again though the platform may hold them.
    pub fn forward_resending(&self, stream: &str, records: u64) -> anyhow::Result<()> {
        self.forward_update(
            stream,
            "resent_batches = resent_batches + 1, resent_records = resent_records + ?2",
            params![stream, records as i64],
        )
    }

    /// Why forwarding `stream` is stuck; `nothing_out` when the platform certainly holds
    /// nothing of the batch that was out (it refused it), so no re-send is counted later.
    pub fn forward_failed(
        &self,
        stream: &str,
        error: &str,
        nothing_out: bool,
    ) -> anyhow::Result<()> {
        let set = if nothing_out {
            "last_error = ?2, sending = cursor"
        } else {
            "last_error = ?2"
        };
        self.forward_update(stream, set, params![stream, error])
    }

    /// Sets a record the platform refused aside in the quarantine and moves past it, in one
    /// transaction.
    pub fn forward_set_aside(
        &self,
        stream: &str,
        id: i64,
        record: &str,
        reason: &str,
    ) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().expect("store mutex poisoned");
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO quarantine (job, stream, file, line, reason, text)
             VALUES (?1, ?2, 'platform', ?3, ?4, ?5)",
            params![PLATFORM, stream, id, reason, record],
        )?;
        upsert(
            &tx,
            stream,
            "cursor = ?2, quarantined = quarantined + 1",
            params![stream, id],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn forward_update(
        &self,
        stream: &str,
        set: &str,
        values: impl rusqlite::Params,
    ) -> anyhow::Result<()> {
        let conn = self.conn.lock().expect("store mutex poisoned");
        upsert(&conn, stream, set, values)?;
        Ok(())
    }
}

/// Creates the stream's row if needed, then applies `set` to it (`?1` in `values` is the
/// stream).
fn upsert(
    conn: &rusqlite::Connection,
    stream: &str,
    set: &str,
    values: impl rusqlite::Params,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO forwarding (stream) VALUES (?1)",
        params![stream],
    )?;
    conn.execute(
        &format!(
            "UPDATE forwarding SET {set}, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE stream = ?1"
        ),
        values,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_moves_only_on_acknowledgement_and_set_asides_are_quarantined() {
        let db = Db::in_memory().unwrap();
        assert_eq!(db.forwarding("s").unwrap(), Forwarding::default());
        db.forward_sending("s", 10).unwrap();
        let f = db.forwarding("s").unwrap();
        assert_eq!((f.cursor, f.sending), (0, 10));
        db.forward_acknowledged("s", 10, 9, 1).unwrap();
        db.forward_set_aside("s", 11, "{\"big\":1}", "too big")
            .unwrap();
        db.forward_resending("s", 5).unwrap();
        db.forward_sending("s", 20).unwrap();
        db.forward_failed("s", "refused", true).unwrap();
        let f = db.forwarding("s").unwrap();
        assert_eq!(
            f,
            Forwarding {
                cursor: 11,
                sending: 11,
                forwarded: 9,
                rejected: 1,
                quarantined: 1,
                resent_batches: 1,
                resent_records: 5,
                last_error: Some("refused".into()),
            }
        );
        let q = db.quarantined(PLATFORM).unwrap();
        assert_eq!((q[0].line, q[0].reason.as_str()), (11, "too big"));
        assert_eq!(db.forwarding("other").unwrap(), Forwarding::default());
    }
}
