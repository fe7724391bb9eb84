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
