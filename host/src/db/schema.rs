//! The store's tables, created on first open, and what an older store is brought forward
//! from.

use rusqlite::Connection;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS job_state (
    job   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (job, key)
);
CREATE TABLE IF NOT EXISTS stream_records (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    record TEXT NOT NULL,
    stored_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS stream_records_by_stream ON stream_records (stream, id);
";

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    super::members::migrate(conn)?;
    super::streams::migrate(conn)?;
    conn.execute_batch(super::capture::SCHEMA)?;
    conn.execute_batch(super::queue::SCHEMA)?;
    conn.execute_batch(super::forwarding::SCHEMA)?;
    conn.execute_batch(super::probe::SCHEMA)?;
    conn.execute_batch(super::runs::SCHEMA)?;
    move_into_queue(conn)
}

/// Stores written before the one queue kept audience events in `outbox` and submissions in
/// `capture_inbox`. Their rows — pending, settled and dead — move into `queue` in their
/// order, in one transaction with dropping the old tables. A submission keeps its id (the
/// audit trail names it); an event becomes the item `crate::queue::audience` reads.
fn move_into_queue(conn: &Connection) -> rusqlite::Result<()> {
    let has = |table: &str| {
        conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
            .exists([table])
    };
    let (outbox, inbox) = (has("outbox")?, has("capture_inbox")?);
    if !outbox && !inbox {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    if inbox {
        tx.execute_batch(
            "INSERT INTO queue (job, name, key, item, source, status, attempts, last_error,
                                received_at, finished_at)
             SELECT job, submission_id, contact, body, 'capture', status, attempts, last_error,
                    received_at, finished_at
             FROM capture_inbox ORDER BY id;
             DROP TABLE capture_inbox;",
        )?;
    }
    if outbox {
        tx.execute_batch(
            "INSERT INTO queue (job, key, item, source, status, attempts, last_status,
                                last_error, received_at, finished_at)
             SELECT job, contact,
                    json_object('audience', audience, 'kind', kind, 'user', json(user),
                                'occurred_at', occurred_at),
                    source, CASE status WHEN 'delivered' THEN 'done' ELSE status END,
                    attempts, last_status, last_error, received_at, finished_at
             FROM outbox ORDER BY id;
             DROP TABLE outbox;",
        )?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use crate::db::{Db, QueueCounts};
    use crate::queue::audience;
    use cordial_jobs::realtime::Membership;
    use rusqlite::Connection;

    /// The tables of a store written before the one queue, as they were (the audit table,
    /// which has not changed, is created from today's schema first).
    const OLD_QUEUES: &str = "
    CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job         TEXT NOT NULL,
        contact     TEXT NOT NULL,
        audience    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        user        TEXT NOT NULL,
        occurred_at TEXT,
        source      TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'pending',
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER,
        last_error  TEXT,
        received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        finished_at TEXT
    );
    CREATE INDEX outbox_by_status ON outbox (job, status, id);
    CREATE TABLE capture_inbox (
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

    INSERT INTO outbox (job, contact, audience, kind, user, occurred_at, source, status,
                        attempts, last_status, last_error)
    VALUES ('vip', 'a@x.io', 'vip', 'enter', '{\"email\":\"a@x.io\"}', NULL, 'webhook',
            'delivered', 1, NULL, NULL),
           ('vip', 'b@x.io', 'vip', 'enter', '{\"email\":\"b@x.io\",\"age\":\"x\"}', NULL,
            'backfill', 'dead', 1, 422, 'age is not a number'),
           ('vip', 'a@x.io', 'vip', 'exit', '{\"email\":\"a@x.io\"}',
            '2026-11-22T10:00:00Z', 'webhook', 'pending', 2, NULL, '503'),
           ('vip', 'c@x.io', 'vip', 'change', '{\"email\":\"c@x.io\",\"first_name\":\"C\"}',
            NULL, 'webhook', 'pending', 0, NULL, NULL);
    INSERT INTO capture_inbox (job, submission_id, contact, body, status, attempts)
    VALUES ('quiz', 'quiz-1', 'a@x.io', '{\"email\":\"a@x.io\"}', 'done', 1),
           ('quiz', 'quiz-2', 'b@x.io', '{\"email\":\"b@x.io\",\"opt_in\":true}', 'pending', 0),
           ('quiz', 'quiz-3', '+15550001111', '{\"sms\":\"+15550001111\"}', 'pending', 1);
    INSERT INTO capture_audit (submission_id, job, contact, rule, action, outcome, attempts)
    VALUES ('quiz-1', 'quiz', 'a@x.io', 'R10 subscribe-explicit-opt-in', 'subscribed',
            'delivered', 1);
    ";

    #[test]
    fn an_old_stores_events_and_submissions_move_into_the_queue_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(crate::db::capture::SCHEMA).unwrap();
        old.execute_batch(OLD_QUEUES).unwrap();
        drop(old);

        let store = Db::open(&path).unwrap();
        assert_eq!(
            store.queue_counts("vip").unwrap(),
            QueueCounts {
                pending: 2,
                done: 1,
                dead: 1
            }
        );
        let events = store.pending_after("vip", 0, 10).unwrap();
        let read: Vec<_> = events
            .iter()
            .map(|e| (e.key.as_str(), e.attempts, audience::event(e).unwrap()))
            .collect();
        assert_eq!(
            (
                read[0].0,
                read[0].1,
                read[0].2.kind,
                read[0].2.occurred_at.as_deref()
            ),
            ("a@x.io", 2, Membership::Exit, Some("2026-11-22T10:00:00Z")),
            "the pending exit keeps its attempts and its place"
        );
        assert_eq!((read[1].0, read[1].2.kind), ("c@x.io", Membership::Change));
        let user: serde_json::Value = serde_json::from_str(&read[1].2.user).unwrap();
        assert_eq!(user["first_name"], "C");
        assert_eq!(read[1].2.audience, "vip");
        let dead = store.dead_letters("vip").unwrap();
        assert_eq!(
            (dead[0].key.as_str(), dead[0].status, dead[0].error.as_str()),
            ("b@x.io", Some(422), "age is not a number")
        );

        assert_eq!(
            store.queue_counts("quiz").unwrap(),
            QueueCounts {
                pending: 2,
                done: 1,
                dead: 0
            }
        );
        let submissions = store.pending_after("quiz", 0, 10).unwrap();
        let read: Vec<_> = submissions
            .iter()
            .map(|s| (s.name.as_str(), s.key.as_str(), s.item.as_str(), s.attempts))
            .collect();
        assert_eq!(
            read,
            [
                ("quiz-2", "b@x.io", r#"{"email":"b@x.io","opt_in":true}"#, 0),
                ("quiz-3", "+15550001111", r#"{"sms":"+15550001111"}"#, 1)
            ]
        );
        let audit = store.capture_audit("quiz", None).unwrap();
        assert_eq!(
            (audit.len(), audit[0].submission_id.as_str()),
            (1, "quiz-1")
        );
        let tables: Vec<String> = Connection::open(&path)
            .unwrap()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('outbox', 'capture_inbox')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(tables.is_empty(), "{tables:?}");

        drop(store);
        let store = Db::open(&path).unwrap();
        assert_eq!(store.pending_after("quiz", 0, 10).unwrap(), submissions);
        let next = store
            .enqueue("quiz", &[crate::queue::submission::item("d@x.io", "{}")])
            .unwrap();
        assert!(
            !["quiz-1", "quiz-2", "quiz-3"].contains(&next[0].as_str()),
            "{next:?}"
        );
    }
}
