//! OS file locks next to the database, released when the process ends (even by SIGKILL):
//! one delivering process per database (two would hand one contact's events to two workers
//! and lose the ordering), and one run of a scheduled job at a time across processes
//! (`serve`'s scheduler and a `cordial-host run`), and one process forwarding a database's
//! streams to the platform.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the delivery lock of the database at `db`.
    pub fn delivery(db: &Path) -> anyhow::Result<FileLock> {
        let path = beside(db, ".deliver.lock");
        Self::take(&path)?.ok_or_else(|| {
            anyhow::anyhow!(
                "another cordial-host is already delivering from {} (lock {})",
                db.display(),
                path.display()
            )
        })
    }

    /// Takes the forwarding lock of the database at `db`: one process sends a store's streams
    /// to the platform at a time (two would send the same batches). `None` when another
    /// holds it.
    pub fn forwarding(db: &Path) -> anyhow::Result<Option<FileLock>> {
        Self::take(&beside(db, ".forward.lock"))
    }

    /// Takes `job`'s run lock, or says that a run is already in progress.
    pub fn run(db: &Path, job: &str) -> anyhow::Result<FileLock> {
        let safe = cordial_jobs::file_names::file_safe(job);
        let path = beside(db, &format!(".run-{safe}.lock"));
        Self::take(&path)?.ok_or_else(|| {
            anyhow::anyhow!(
                "a run of `{job}` is already in progress (lock {}); wait for it to finish",
                path.display()
            )
        })
    }

    /// The lock at `path`; `None` when another process holds it.
    fn take(path: &Path) -> anyhow::Result<Option<FileLock>> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        Ok(file.try_lock().ok().map(|()| FileLock { _file: file }))
    }
}

/// The database's path with `suffix` appended.
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut path = PathBuf::from(db.as_os_str());
    path.as_mut_os_string().push(suffix);
    path
}
