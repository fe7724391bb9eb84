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
CREATE TABLE IF NOT EXISTS audience_members (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    audience TEXT NOT NULL,
    member   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audience_members_by_audience ON audience_members (audience, id);
";

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}
