//! A real OCI registry for the tests: Debian's `docker-registry` (the CNCF distribution
//! registry, installed by `./dev setup`) on a free loopback port, storing into a scratch
//! folder the test can reach into (to tamper with a blob, as a compromised registry would).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const BINARY: &str = "/usr/bin/docker-registry";

/// A running registry; stopped when dropped.
pub struct LocalRegistry {
    /// `127.0.0.1:<port>`, the registry part of a reference.
    pub addr: String,
    storage: tempfile::TempDir,
    /// The process, killed when this is dropped.
    _child: Child,
}

impl LocalRegistry {
    pub async fn start() -> LocalRegistry {
        assert!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing; `./dev setup` installs it (Debian package docker-registry)"
        );
        let storage = tempfile::tempdir().unwrap();
        let addr = crate::http::free_local_addr();
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("docker-registry starts");
        let client = crate::http::client();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(format!("http://{addr}/v2/")).send().await
                && r.status().is_success()
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("docker-registry exited before serving: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        LocalRegistry {
            addr,
            storage,
            _child: child,
        }
    }

    /// The file the registry keeps the blob `digest` (`sha256:<hex>`) in.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}
