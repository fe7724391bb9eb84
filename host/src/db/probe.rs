//! Whether the store takes a write right now: what `/readyz` asks of it. The probe uses a
//! connection of its own with a short wait, so a store locked by another process or a disk
//! that refuses writes shows within a second, and the host's own connection is never held.

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// How long the probe waits for another writer before it calls the store locked.
const PATIENCE: Duration = Duration::from_secs(1);

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS host_health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);
";

/// Commits one small write to the store at `path` (with `synchronous = FULL`, so it reaches
/// the disk), or says why it could not.
pub fn probe_write(path: &Path) -> Result<(), String> {
    let write = || -> rusqlite::Result<()> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(PATIENCE)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute(
            "INSERT INTO host_health (id, checked_at)
             VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            [],
        )?;
        Ok(())
    };
    write().map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => format!(
            "the store {} is locked by another process (waited {}s)",
            path.display(),
            PATIENCE.as_secs()
        ),
        _ => format!("the store {} takes no writes: {e}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_locked_by_another_writer_is_named_and_a_free_one_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        crate::db::Db::open(&path).unwrap();
        assert_eq!(probe_write(&path), Ok(()));

        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = probe_write(&path).unwrap_err();
        assert!(err.contains("locked by another process"), "{err}");
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(probe_write(&path), Ok(()));
    }
}
