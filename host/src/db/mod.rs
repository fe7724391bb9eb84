//! The host's embedded store: one SQLite file holding each job's key-value state, the
//! records jobs emit to streams, and the audience members the platform sent.
//!
//! SQLite in WAL mode gives durable writes that survive a killed process, which is what
//! "nothing is lost" rests on. One connection behind a mutex is plenty: every write is small.

mod capture;
mod forwarding;
mod lock;
mod members;
mod probe;
mod queue;
mod runs;
mod schema;
mod streams;

pub use capture::{AuditRow, CaptureDecision};
pub use forwarding::{Forwarding, PLATFORM};
pub use lock::FileLock;
pub use members::Member;
pub use probe::probe_write;
pub use queue::{Backlog, DeadLetter, NewEvent, NewItem, QueueCounts, QueuedItem, Settled};
pub use runs::{RunEnd, RunRow};
pub use streams::{EmitSummary, Quarantined};

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A handle to the store; cheap to clone.
/// Reads a row into a struct by column name: each listed field from the column of the same
/// name (a query aliases a column whose name differs).
macro_rules! from_row {
    ($row:expr, $ty:ident { $($field:ident),* $(,)? }) => {
        $ty { $($field: $row.get(stringify!($field))?),* }
    };
}
use from_row;

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening the store {}", path.display()))?;
        Self::init(conn)
    }

    /// A store that lives in memory, for `check` and tests that need no durability.
    pub fn in_memory() -> anyhow::Result<Db> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> anyhow::Result<Db> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        schema::migrate(&conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the blocking pool: SQLite calls block, and must not hold up the async
    /// threads that serve requests and drive component calls.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store)).await?
    }

    /// The one number a query about `key` (its `?1`) answers: a count, a maximum.
    fn number(&self, sql: &str, key: &str) -> anyhow::Result<u64> {
        self.with(|c| c.query_row(sql, params![key], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> anyhow::Result<T> {
        let conn = self.conn.lock().expect("store mutex poisoned");
        Ok(f(&conn)?)
    }

    pub fn state_get(&self, job: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.with(|c| {
            c.query_row(
                "SELECT value FROM job_state WHERE job = ?1 AND key = ?2",
                params![job, key],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn state_set(&self, job: &str, key: &str, value: &[u8]) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO job_state (job, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (job, key) DO UPDATE SET value = excluded.value",
                params![job, key, value],
            )
            .map(drop)
        })
    }

    pub fn state_delete(&self, job: &str, key: &str) -> anyhow::Result<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM job_state WHERE job = ?1 AND key = ?2",
                params![job, key],
            )
            .map(drop)
        })
    }

    /// The job's state keys after `after` (all when `None`), in order, at most `limit`.
    pub fn state_keys(
        &self,
        job: &str,
        after: Option<&str>,
        limit: u32,
    ) -> anyhow::Result<Vec<String>> {
        self.with(|c| {
            let mut q = c.prepare_cached(
                "SELECT key FROM job_state WHERE job = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
            )?;
            q.query_map(params![job, after.unwrap_or(""), limit], |r| r.get(0))?
                .collect()
        })
    }

    /// The last `limit` records of a stream, oldest first.
    pub fn stream_tail(&self, stream: &str, limit: u32) -> anyhow::Result<Vec<String>> {
        self.with(|c| {
            let mut q = c.prepare(
                "SELECT record FROM (SELECT id, record FROM stream_records WHERE stream = ?1
                 ORDER BY id DESC LIMIT ?2) ORDER BY id",
            )?;
            q.query_map(params![stream, limit], |r| r.get(0))?.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_kept_per_job_and_survives_reopening() {
        let dir = std::env::temp_dir().join(format!("cordial-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sqlite");
        {
            let s = Db::open(&path).unwrap();
            s.state_set("a", "cursor", b"1").unwrap();
            s.state_set("b", "cursor", b"2").unwrap();
            s.state_set("a", "cursor", b"3").unwrap();
        }
        let s = Db::open(&path).unwrap();
        assert_eq!(s.state_get("a", "cursor").unwrap(), Some(b"3".to_vec()));
        assert_eq!(s.state_get("b", "cursor").unwrap(), Some(b"2".to_vec()));
        s.state_set("a", "window", b"w").unwrap();
        assert_eq!(s.state_keys("a", None, 10).unwrap(), ["cursor", "window"]);
        assert_eq!(s.state_keys("a", Some("cursor"), 10).unwrap(), ["window"]);
        s.state_delete("a", "cursor").unwrap();
        assert_eq!(s.state_get("a", "cursor").unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
