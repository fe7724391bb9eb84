//! Files and folders in the home of the sshd's password account (`./dev setup` makes it),
//! where a password login reads and writes: each unique to the test, removed on drop.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct InHome(pub PathBuf);

impl InHome {
    /// A folder owned by `user`, as one it made itself would be.
    pub fn folder(user: &str) -> InHome {
        let path = unique_path(user, "emulator-export", "");
        std::fs::create_dir(&path).expect("folder in the account's home");
        let home = std::fs::metadata(Path::new("/home").join(user)).expect("home exists");
        std::os::unix::fs::chown(&path, Some(home.uid()), Some(home.gid())).expect("chown");
        InHome(path)
    }

    /// A file holding `text`, readable by `user`.
    pub fn file(user: &str, text: &str) -> InHome {
        let path = unique_path(user, "emulator-import", ".csv");
        std::fs::write(&path, text).expect("file in the account's home");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        InHome(path)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for InHome {
    fn drop(&mut self) {
        let _ = if self.0.is_dir() {
            std::fs::remove_dir_all(&self.0)
        } else {
            std::fs::remove_file(&self.0)
        };
    }
}

/// `/home/<user>/<prefix>-<pid>-<nanos><suffix>`: no other test or run uses it.
fn unique_path(user: &str, prefix: &str, suffix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let name = format!("{prefix}-{}-{nanos}{suffix}", std::process::id());
    Path::new("/home").join(user).join(name)
}
