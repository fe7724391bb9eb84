//! The store's tables, created on first open.

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
    conn.execute_batch(OUTBOX)?;
    conn.execute_batch(super::pending::SCHEMA)?;
    super::streams::migrate(conn)?;
    conn.execute_batch(super::capture::SCHEMA)
}

/// The durable outbox of event-driven jobs: an event is a row here before the platform gets
/// its 202, and stays `pending` until the job delivered it or it was dead-lettered.
pub const OUTBOX: &str = "
CREATE TABLE IF NOT EXISTS outbox (
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
CREATE INDEX IF NOT EXISTS outbox_by_status ON outbox (job, status, id);
";
