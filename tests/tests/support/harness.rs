//! What the end-to-end tests share: the built components, a running emulator, a config
//! pointing at it, and a host runtime over a real SQLite file.

#![allow(dead_code)] // each test binary uses its own part of the harness

use cordial_emulator::{EmulatorConfig, RunningEmulator, Seed};
use cordial_host::config::{self, HostConfig};
use cordial_host::db::Db;
use cordial_host::runtime::Runtime;
use std::path::PathBuf;

pub const API_KEY: &str = "e2e-secret-key-3f9a";

/// The folder `./dev build` writes the components to.
pub fn components_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../jobs/target/wasm32-wasip2/release");
    assert!(
        dir.join("import_activity.wasm").exists(),
        "the job components are not built; run `./dev build` (or `./dev test`) first"
    );
    dir
}

/// A started emulator plus a scratch directory holding the API key file and the store.
pub struct Harness {
    pub emulator: RunningEmulator,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(Seed::demo()).await
    }

    pub async fn start_with(seed: Seed) -> Harness {
        Self::start_with_config(EmulatorConfig {
            seed,
            ..EmulatorConfig::default()
        })
        .await
    }

    /// An emulator with `config` (its API key is always [`API_KEY`]).
    pub async fn start_with_config(config: EmulatorConfig) -> Harness {
        let emulator = cordial_emulator::start(EmulatorConfig {
            api_key: API_KEY.into(),
            ..config
        })
        .await
        .expect("the emulator starts");
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join("api-key"), API_KEY).unwrap();
        Harness { emulator, dir }
    }

    /// A config with one `[auth.cordial]` pointing at the emulator, followed by `jobs`
    /// (which may add an `[auth.cordial.sftp]` table first).
    pub fn config_text(&self, jobs: &str) -> String {
        format!(
            "[host]\nstore = \"{store}\"\ncomponents_dir = \"{components}\"\n\n\
             [auth.cordial]\nbase_url = \"{base}\"\napi_key_file = \"{key}\"\n\n{jobs}",
            store = self.dir.path().join("store.sqlite").display(),
            components = components_dir().display(),
            base = self.emulator.base_url(),
            key = self.dir.path().join("api-key").display(),
        )
    }

    pub fn config(&self, jobs: &str) -> HostConfig {
        config::parse(&self.config_text(jobs)).expect("the test config parses")
    }

    /// A runtime over a real SQLite file in the scratch directory.
    pub fn runtime(&self, jobs: &str) -> Runtime {
        let config = self.config(jobs);
        let store = Db::open(&config.store).expect("the store opens");
        Runtime::new(config, store).expect("the runtime starts")
    }

    /// Writes the config to a file and returns its path.
    pub fn config_file(&self, jobs: &str) -> PathBuf {
        let path = self.dir.path().join("cordial-host.toml");
        std::fs::write(&path, self.config_text(jobs)).unwrap();
        path
    }
}

/// The `cordial-host` binary that `cargo test --workspace` builds for the host's own
/// integration tests, next to this test's binary.
pub fn host_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("cordial-host");
    assert!(
        bin.exists(),
        "{} not built; run `cargo build -p cordial-host`",
        bin.display()
    );
    bin
}

impl Harness {
    /// Deletes a contact attribute in the emulator, as an admin would in Cordial's UI.
    pub async fn delete_attribute(&self, key: &str) {
        let status = reqwest::Client::new()
            .delete(format!(
                "{}/v2/accountcontactattributes/{key}",
                self.emulator.base_url()
            ))
            .basic_auth(API_KEY, Some(""))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "deleting {key}: {status}");
    }
}
