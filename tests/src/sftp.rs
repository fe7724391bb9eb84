//! What the SFTP tests share: an emulator that knows the test sshd's client key as a key
//! saved in Cordial, and the `[auth.cordial.sftp]` table that logs in with that key.

use crate::harness::Harness;
use cordial_emulator::{EmulatorConfig, Seed};
use cordial_sftp::sshd::{LocalSshd, password_account};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The name the emulator knows the sshd's client key by.
pub const SAVED_KEY: &str = "test-key";

/// A harness whose emulator has the demo account and `sshd`'s client key as [`SAVED_KEY`].
pub async fn harness_for(sshd: &LocalSshd) -> Harness {
    Harness::start_with_config(EmulatorConfig {
        seed: Seed::demo(),
        saved_sftp_keys: HashMap::from([(SAVED_KEY.to_owned(), sshd.client_key())]),
        ..EmulatorConfig::default()
    })
    .await
}

/// What an SFTP benchmark's `main` runs against: a runtime, a throwaway sshd, and a harness
/// whose emulator runs on that runtime and knows the sshd's key.
pub fn start_blocking() -> (tokio::runtime::Runtime, LocalSshd, Harness) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sshd = LocalSshd::start().expect("sshd (install openssh-server: ./dev setup)");
    let h = rt.block_on(harness_for(&sshd));
    (rt, sshd, h)
}

/// Key login to the sshd's files folder, its host key pinned.
pub fn sftp_auth(sshd: &LocalSshd) -> String {
    let key = format!("private_key_file = \"{}\"", sshd.client_key().display());
    sftp_table(sshd, &sshd.user(), &key, &sshd.files_dir())
}

/// The `[auth.cordial.sftp]` table logging in to `sshd` as `user` with `credential` (its
/// `private_key_file` or `password_file` line), in `folder`, its host key pinned.
pub fn sftp_table(sshd: &LocalSshd, user: &str, credential: &str, folder: &Path) -> String {
    format!(
        "\n[auth.cordial.sftp]\nhost = \"127.0.0.1\"\nport = {port}\nusername = \"{user}\"\n\
         {credential}\nfolder = \"{folder}\"\nhost_key = \"{fp}\"\n",
        port = sshd.port(),
        folder = folder.display(),
        fp = sshd.host_fingerprint(),
    )
}

/// A folder of its own in the password account's home (`./dev setup` makes the account),
/// owned by the account: where Cordial, logged in with the password, writes an export.
/// Removed when dropped.
pub struct HomeFolder(PathBuf);

impl HomeFolder {
    pub fn new(name: &str) -> HomeFolder {
        let (user, _) = password_account().expect("the password account (./dev setup)");
        let path = PathBuf::from("/home").join(&user).join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        let owner = std::process::Command::new("chown")
            .arg(format!("{user}:"))
            .arg(&path)
            .status()
            .unwrap();
        assert!(owner.success(), "chown {}", path.display());
        HomeFolder(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The names of the files in it.
    pub fn files(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for HomeFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
