//! The `cordial-host` binary as a person runs it: one command to its end, or `serve` as a
//! process of its own that a test can SIGKILL and start again.

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
    addr: String,
    child: Child,
}

impl ServeProcess {
    /// Writes a config of `jobs` listening on a free port, and starts the host on it.
    pub async fn start(h: &Harness, jobs: &str) -> ServeProcess {
        let addr = crate::http::free_local_addr();
        let text =
            h.config_text(jobs)
                .replacen("[host]\n", &format!("[host]\nlisten = \"{addr}\"\n"), 1);
        let config = h.dir.path().join("serve.toml");
        std::fs::write(&config, text).unwrap();
        let child = spawn_ready(&config, &addr).await;
        ServeProcess {
            config,
            store: h.store_path(),
            addr,
            child,
        }
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
        self.child = spawn_ready(&self.config, &self.addr).await;
    }

    /// SIGKILL: the host gets no chance to finish or tidy anything.
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

/// Starts `serve` and waits until it answers; the host binds only after its settings check.
async fn spawn_ready(config: &std::path::Path, addr: &str) -> Child {
    let child = Command::new(host_binary())
        .arg("serve")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    crate::http::wait_until_up(addr).await;
    child
}
