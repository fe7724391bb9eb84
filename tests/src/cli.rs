//! The `cordial-host` binary as a person runs it: one command to its end, or `serve` as a
//! process of its own that a test can SIGTERM or SIGKILL and start again.

use crate::harness::Harness;
use cordial_host::db::Db;
use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::process::{Child, Command};

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

/// What a command printed, and whether it succeeded.
pub struct Ran {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Both streams, stdout first: what a person would see in their terminal.
impl fmt::Display for Ran {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cordial-host` with `args` to its end.
pub async fn host(args: &[&dyn AsRef<OsStr>]) -> Ran {
    let out = Command::new(host_binary())
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .await
        .unwrap();
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cordial-host serve` in a process of its own on a fixed loopback address, so that it
/// can be killed like a crashed host and started again on the same config and store.
pub struct ServeProcess {
    config: PathBuf,
    store: PathBuf,
    /// Where the host's log (its stderr) goes, every start appending.
    log: PathBuf,
    addr: String,
    child: Child,
}

impl ServeProcess {
    /// Writes a config of `jobs` listening on a free port, and starts the host on it.
    pub async fn start(h: &Harness, jobs: &str) -> ServeProcess {
        ServeProcess::start_with(h, "", jobs).await
    }

    /// The same, with more `[host]` settings (`key = value` lines).
    pub async fn start_with(h: &Harness, host: &str, jobs: &str) -> ServeProcess {
        let addr = crate::http::free_local_addr();
        let text = h.config_text(jobs).replacen(
            "[host]\n",
            &format!("[host]\nlisten = \"{addr}\"\n{host}\n"),
            1,
        );
        let config = h.dir.path().join("serve.toml");
        std::fs::write(&config, text).unwrap();
        let log = h.dir.path().join("serve.log");
        let child = spawn_ready(&config, &addr, &log).await;
        ServeProcess {
            config,
            store: h.store_path(),
            log,
            addr,
            child,
        }
    }

    /// The host's process id: to read its figures in `/proc`, or set its limits from outside
    /// (as `prlimit` does).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the host is running")
    }

    /// What the host has logged so far, over all its starts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as a service manager stops the host, then waits for it to exit; whether it
    /// exited successfully.
    pub async fn terminate(&mut self) -> bool {
        let pid = self.child.id().expect("the host is running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let exited = tokio::time::timeout(std::time::Duration::from_secs(60), self.child.wait())
            .await
            .expect("the host exits after SIGTERM")
            .unwrap();
        exited.success()
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGKILL while `job`'s queue is being worked off, then checks that the kill tested
    /// something: all `accepted` items are in the queue, and some are still pending. The
    /// store, opened after the kill.
    pub async fn kill_while_pending(&mut self, job: &str, accepted: u64) -> Db {
        self.kill().await;
        let store = Db::open(&self.store).unwrap();
        let at_kill = store.queue_counts(job).unwrap();
        assert_eq!(at_kill.pending + at_kill.done, accepted);
        assert!(
            at_kill.pending > 0,
            "the kill came too late to test anything: {at_kill:?}"
        );
        store
    }

    /// Starts the host again on the same config and address.
    pub async fn restart(&mut self) {
        self.child = spawn_ready(&self.config, &self.addr, &self.log).await;
    }

    /// SIGKILL: the host gets no chance to finish or tidy anything.
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

/// Starts `serve` with its stderr appended to `log`, and waits until it answers; the host
/// binds only after its settings check.
async fn spawn_ready(config: &std::path::Path, addr: &str, log: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = Command::new(host_binary())
        .arg("serve")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    crate::http::wait_until_up(addr).await;
    child
}
