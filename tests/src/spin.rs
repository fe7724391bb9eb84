//! The deployment in `spin/` run by a real `spin up` on a loopback port, against the
//! emulator: the components composed once per test process, `spin.toml` as shipped with
//! only the sources made absolute (and a test's own variable changes), the state in a
//! temp folder that survives a restart.

use crate::harness::{API_KEY, Harness, components_dir};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const WEBHOOK_SECRET: &str = "hook-secret-e2e";
pub const CAPTURE_SECRET: &str = "capture-secret-e2e";
pub const RUN_SECRET: &str = "run-secret-e2e";

/// The `spin` a user would run: on `PATH` first, then the copy beside the project
/// (`../shared/tools/spin/spin`). Fails, saying so, when there is none.
pub fn spin_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("spin"))
            .find(|p| p.is_file())
    }) {
        return path;
    }
    let shared = repo().join("../shared/tools/spin/spin");
    assert!(
        shared.is_file(),
        "no `spin` binary: install Spin (https://spinframework.dev) so `spin` is on PATH, \
         or put one at {}",
        shared.display()
    );
    shared
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The composed components, built once per test process.
pub fn dist() -> &'static Path {
    static DIST: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIST.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        cordial_spin::build(&components_dir(), dir.path()).expect("the Spin components compose");
        dir
    })
    .path()
}

/// What a test changes in the shipped deployment.
#[derive(Default, Clone)]
pub struct Deployment {
    /// Application variables (`SPIN_VARIABLE_<NAME>`), over the defaults the tests use.
    pub variables: Vec<(String, String)>,
    /// Component variables added or replaced in `spin.toml`: (component, name, value).
    pub component_variables: Vec<(String, String, String)>,
    /// Application variables left unset (to see Spin refuse to start).
    pub unset: Vec<String>,
    /// A Redis URL for the key-value store (replicas sharing it), instead of a SQLite file.
    pub redis: Option<String>,
}

impl Deployment {
    pub fn variable(mut self, name: &str, value: &str) -> Self {
        self.variables.push((name.into(), value.into()));
        self
    }

    pub fn component_variable(mut self, component: &str, name: &str, value: &str) -> Self {
        self.component_variables
            .push((component.into(), name.into(), value.into()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.unset.push(name.into());
        self
    }

    /// Import Activity's SFTP variables: `sshd`, its key pinned, logging in as the password
    /// account to work in `folder`.
    pub fn sftp(
        self,
        sshd: &cordial_sftp::sshd::LocalSshd,
        folder: &crate::sftp::HomeFolder,
    ) -> Self {
        let (user, password) =
            cordial_sftp::sshd::password_account().expect("the password account (./dev setup)");
        self.variable("sftp_server", "127.0.0.1")
            .variable("sftp_port", &sshd.port().to_string())
            .variable("sftp_username", &user)
            .variable("sftp_password", &password)
            .variable("sftp_host_key", sshd.host_fingerprint())
            .variable("sftp_folder", &folder.path().display().to_string())
    }

    pub fn redis(mut self, url: &str) -> Self {
        self.redis = Some(url.into());
        self
    }
}

/// A running `spin up`.
pub struct SpinApp {
    pub base: String,
    dir: tempfile::TempDir,
    environment: Vec<(String, String)>,
    child: Option<Child>,
}

impl SpinApp {
    /// Starts the deployment against `h`'s emulator and waits until it answers.
    pub async fn start(h: &Harness, deployment: Deployment) -> SpinApp {
        let mut app = SpinApp::prepare(h, &deployment);
        app.launch().await.unwrap_or_else(|e| panic!("{e}"));
        app
    }

    /// Starts it expecting Spin to refuse; returns what Spin printed.
    pub async fn refused(h: &Harness, deployment: Deployment) -> String {
        match SpinApp::prepare(h, &deployment).launch().await {
            Ok(()) => panic!("spin up started although it should have refused"),
            Err(printed) => printed,
        }
    }

    /// The manifest and runtime config written to a fresh folder; not started.
    fn prepare(h: &Harness, deployment: &Deployment) -> SpinApp {
        let app = SpinApp {
            base: String::new(),
            environment: environment(h, deployment),
            child: None,
            dir: tempfile::tempdir().unwrap(),
        };
        app.write_manifest(deployment);
        app
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills Spin at once (SIGKILL): nothing gets to finish. `spin up` serves from a child
    /// process (`spin trigger http`), so the whole process group goes.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg("--")
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Spin again on the same state.
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// What `spin up` itself printed (its own log lines, not the components').
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("spin-output.txt")).unwrap_or_default()
    }

    /// Spin's key-value file (SQLite), when the store is not Redis.
    pub fn key_value_file(&self) -> PathBuf {
        self.dir.path().join("kv.db")
    }

    /// The entries (key, value as text) in Spin's default key-value store whose keys start
    /// with `prefix`, read from its SQLite file.
    pub fn stored(&self, prefix: &str) -> Vec<(String, String)> {
        let path = self.key_value_file();
        let Ok(db) = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) else {
            return Vec::new();
        };
        let Ok(mut query) = db
            .prepare("SELECT key, value FROM spin_key_value WHERE store = 'default' ORDER BY key")
        else {
            return Vec::new();
        };
        query
            .query_map([], |row| {
                let value: Vec<u8> = row.get(1)?;
                Ok((
                    row.get::<_, String>(0)?,
                    String::from_utf8_lossy(&value).into_owned(),
                ))
            })
            .unwrap()
            .filter_map(Result::ok)
            .filter(|(k, _)| k.starts_with(prefix))
            .collect()
    }

    /// The manifest as shipped, the sources pointing at the composed components, and the
    /// test's component variables.
    fn write_manifest(&self, deployment: &Deployment) {
        let text = std::fs::read_to_string(repo().join("spin/spin.toml")).unwrap();
        let mut manifest: toml::Table = toml::from_str(&text).unwrap();
        let components = manifest["component"].as_table_mut().unwrap();
        for (name, component) in components.iter_mut() {
            let component = component.as_table_mut().unwrap();
            component.insert(
                "source".into(),
                dist()
                    .join(format!("{name}.wasm"))
                    .display()
                    .to_string()
                    .into(),
            );
            component.remove("build");
        }
        for (component, name, value) in &deployment.component_variables {
            components[component.as_str()]["variables"]
                .as_table_mut()
                .unwrap()
                .insert(name.clone(), value.clone().into());
        }
        std::fs::write(
            self.dir.path().join("spin.toml"),
            toml::to_string(&manifest).unwrap(),
        )
        .unwrap();
        let store = match &deployment.redis {
            Some(url) => format!("type = \"redis\"\nurl = \"{url}\""),
            None => format!(
                "type = \"spin\"\npath = \"{}\"",
                self.key_value_file().display()
            ),
        };
        std::fs::write(
            self.dir.path().join("runtime-config.toml"),
            format!("[key_value_store.default]\n{store}\n"),
        )
        .unwrap();
    }

    /// Runs `spin up` on a free port and waits until it accepts connections; or what it
    /// printed when it exits first.
    async fn launch(&mut self) -> Result<(), String> {
        let addr = crate::http::free_local_addr();
        let output = self.dir.path().join("spin-output.txt");
        let log = std::fs::File::create(&output).unwrap();
        let mut command = Command::new(spin_binary());
        command
            .arg("up")
            .arg("--from")
            .arg(self.dir.path().join("spin.toml"))
            .arg("--listen")
            .arg(&addr)
            .arg("--runtime-config-file")
            .arg(self.dir.path().join("runtime-config.toml"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            // Cordial fetches the bulk files from the app's own address.
            .env("SPIN_VARIABLE_PUBLIC_URL", format!("http://{addr}"))
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut child = command.spawn().expect("spin runs");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(format!(
                    "spin up exited ({status}):\n{}",
                    std::fs::read_to_string(&output).unwrap_or_default()
                ));
            }
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                self.child = Some(child);
                self.kill();
                return Err(format!(
                    "spin up did not listen on {addr} within 120 s:\n{}",
                    std::fs::read_to_string(&output).unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.base = format!("http://{addr}");
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for SpinApp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The variables every test gives: the emulator as Cordial, the secrets, an SFTP login, the
/// real-time job's audience and mapping (the same as the host's `vip` job in the other tests).
fn environment(h: &Harness, deployment: &Deployment) -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = [
        ("cordial_api_key", API_KEY.to_owned()),
        ("cordial_origin", h.emulator.base_url()),
        ("webhook_secret", WEBHOOK_SECRET.to_owned()),
        ("capture_secret", CAPTURE_SECRET.to_owned()),
        ("run_secret", RUN_SECRET.to_owned()),
        ("realtime_audience", "vip_customers".to_owned()),
        ("bulk_audience", "vip_customers".to_owned()),
        // Import Activity's server; the tests that run it give a real sshd's.
        ("sftp_server", "127.0.0.1".to_owned()),
        ("sftp_username", "nobody".to_owned()),
        ("sftp_password", "unused".to_owned()),
        ("sftp_host_key", "SHA256:unused".to_owned()),
        ("sftp_folder", "exports".to_owned()),
        (
            "realtime_field_mapping",
            r#"{"first_name":"first_name","age":"age"}"#.to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, value) in &deployment.variables {
        variables.retain(|(k, _)| k != name);
        variables.push((name.clone(), value.clone()));
    }
    variables.retain(|(k, _)| !deployment.unset.contains(k));
    variables
        .into_iter()
        .map(|(k, v)| (format!("SPIN_VARIABLE_{}", k.to_uppercase()), v))
        .collect()
}

/// Calls `route` (a `/run/<job>`) with the run secret until the run finishes or fails, and
/// between calls waits for the emulator's jobs that `jobs` lists (its imports, its exports)
/// as a scheduler would wait; every answer.
pub async fn run_to_the_end(
    h: &Harness,
    app: &SpinApp,
    route: &str,
    jobs: fn(&cordial_emulator::EmulatorHandle) -> Vec<serde_json::Value>,
) -> Vec<(u16, serde_json::Value)> {
    let secret = format!("Bearer {RUN_SECRET}");
    let mut answers = Vec::new();
    for _ in 0..20 {
        let (status, answer) =
            crate::http::post(&app.url(route), "", &[("authorization", &secret)]).await;
        answers.push((status, answer.clone()));
        if status != 200 || answer["progress"] == "finished" {
            return answers;
        }
        let handle = h.emulator.handle();
        for job in jobs(&handle) {
            let id = job["_id"].as_str().unwrap().to_owned();
            tokio::time::timeout(Duration::from_secs(60), handle.wait_for_job(&id))
                .await
                .expect("the emulator finishes its job");
        }
    }
    panic!("the run of {route} did not finish in 20 calls: {answers:#?}");
}
