//! One delivering process per store: two would hand one contact's events to two workers and
//! lose the ordering. An OS file lock next to the store, released when the process ends
//! (even by SIGKILL).

use std::fs::File;
use std::path::{Path, PathBuf};

pub struct DeliveryLock {
    _file: File,
}

impl DeliveryLock {
    pub fn acquire(store: &Path) -> anyhow::Result<DeliveryLock> {
        let mut path = PathBuf::from(store.as_os_str());
        path.as_mut_os_string().push(".deliver.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(DeliveryLock { _file: file }),
            Err(_) => anyhow::bail!(
                "another cordial-host is already delivering from {} (lock {})",
                store.display(),
                path.display()
            ),
        }
    }
}

/// One run of a scheduled job at a time, across processes (`serve`'s scheduler and a
/// `cordial-host run`): an OS file lock per job next to the store.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the job's run lock, or says that a run is already in progress.
    pub fn acquire(store: &Path, job: &str) -> anyhow::Result<RunLock> {
        let mut path = PathBuf::from(store.as_os_str());
        let safe: String = job
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        path.as_mut_os_string().push(format!(".run-{safe}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(_) => anyhow::bail!(
                "a run of `{job}` is already in progress (lock {}); wait for it to finish",
                path.display()
            ),
        }
    }
}
