//! The ground every end-to-end test stands on: the built components, a running emulator, a
//! config pointing at it, and a host runtime over a real SQLite file.

use cordial_emulator::{EmulatorConfig, RunningEmulator, Seed};
use cordial_host::config::{self, HostConfig};
use cordial_host::db::Db;
use cordial_host::runtime::{CallContext, CallError, RunOutcome, Runtime};
use std::path::{Path, PathBuf};

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

    /// The file the API key is read from.
    pub fn api_key_file(&self) -> PathBuf {
        self.dir.path().join("api-key")
    }

    /// The SQLite file every config of this harness names as its store.
    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("store.sqlite")
    }

    /// The store, opened beside whatever host runs on it (SQLite files are shared).
    pub fn store(&self) -> Db {
        Db::open(&self.store_path()).expect("the store opens")
    }

    /// A config with one `[auth.cordial]` pointing at the emulator, followed by `jobs`
    /// (which may add an `[auth.cordial.sftp]` table first).
    pub fn config_text(&self, jobs: &str) -> String {
        self.config_text_at(&self.store_path(), jobs)
    }

    /// [`Harness::config_text`] with the store at `store`, for several stores beside one
    /// emulator.
    pub fn config_text_at(&self, store: &Path, jobs: &str) -> String {
        format!(
            "[host]\nstore = \"{store}\"\ncomponents_dir = \"{components}\"\n\n\
             [auth.cordial]\nbase_url = \"{base}\"\napi_key_file = \"{key}\"\n\n{jobs}",
            store = store.display(),
            components = components_dir().display(),
            base = self.emulator.base_url(),
            key = self.api_key_file().display(),
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

    /// One scheduled run of the job `name` of `jobs`, in a fresh runtime, as `run` starts it.
    pub async fn run(&self, jobs: &str, name: &str) -> Result<RunOutcome, CallError> {
        let runtime = self.runtime(jobs);
        let job = runtime.config().job(name).unwrap().clone();
        runtime.run(&job, &CallContext::now()).await
    }

    /// Writes the config to a file and returns its path.
    pub fn config_file(&self, jobs: &str) -> PathBuf {
        let path = self.dir.path().join("cordial-host.toml");
        std::fs::write(&path, self.config_text(jobs)).unwrap();
        path
    }

    /// Deletes a contact attribute in the emulator, as an admin would in Cordial's UI.
    pub async fn delete_attribute(&self, key: &str) {
        let status = crate::http::client()
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

    /// The contact with this email as Cordial holds it, if there is one.
    pub fn find_contact(&self, email: &str) -> Option<serde_json::Value> {
        self.emulator.handle().contact(&format!("email:{email}"))
    }

    /// The contact with this email; fails when Cordial has no such contact.
    pub fn contact(&self, email: &str) -> serde_json::Value {
        self.find_contact(email)
            .unwrap_or_else(|| panic!("{email} missing"))
    }

    /// The lists the contact with this email is on; fails when Cordial has no such contact.
    pub fn lists(&self, email: &str) -> Vec<String> {
        serde_json::from_value(self.contact(email)["lists"].clone()).unwrap()
    }
}
