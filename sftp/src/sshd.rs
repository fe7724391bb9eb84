//! A throwaway OpenSSH `sshd` on a loopback port, for tests, benchmarks and the demo.
//!
//! It runs the system's real `/usr/sbin/sshd` (install `openssh-server`) with its own host key,
//! its own client key and a temporary config, in the foreground, so that killing it (and the
//! session processes it forked) really drops every connection.

use russh::keys::{HashAlg, PublicKey};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The account `./dev setup` creates for password logins, and where it keeps its password.
pub const PASSWORD_USER: &str = "cordial-sftp";
pub const PASSWORD_FILE: &str = "/var/lib/cordial-test/sftp-password";

/// A running sshd. Killed when dropped.
pub struct LocalSshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    host_fingerprint: String,
}

impl LocalSshd {
    /// Generates keys, writes a config, starts sshd on a free port and waits until it listens.
    pub fn start() -> Result<LocalSshd, String> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            return Err("no /usr/sbin/sshd: install openssh-server (./dev setup does)".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("cordial-sshd-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        for name in ["host_ed25519", "client_ed25519"] {
            keygen(&dir.path().join(name))?;
        }
        std::fs::copy(
            dir.path().join("client_ed25519.pub"),
            dir.path().join("authorized_keys"),
        )
        .map_err(|e| format!("authorized_keys: {e}"))?;
        let host_pub = std::fs::read_to_string(dir.path().join("host_ed25519.pub"))
            .map_err(|e| format!("host key: {e}"))?;
        let host_fingerprint = PublicKey::from_openssh(host_pub.trim())
            .map_err(|e| format!("host key: {e}"))?
            .fingerprint(HashAlg::Sha256)
            .to_string();
        std::fs::create_dir_all(dir.path().join("files")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
        let port = free_port()?;
        let mut server = LocalSshd {
            dir,
            port,
            child: None,
            host_fingerprint,
        };
        server.write_config()?;
        server.launch()?;
        Ok(server)
    }

    fn write_config(&self) -> Result<(), String> {
        let d = self.dir.path().display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n\
             UsePAM no\nMaxStartups 100\nMaxSessions 100\nSubsystem sftp internal-sftp\n",
            port = self.port
        );
        std::fs::write(self.dir.path().join("sshd_config"), config).map_err(|e| e.to_string())
    }

    /// Starts sshd in the foreground and returns once it says it is listening.
    fn launch(&mut self) -> Result<(), String> {
        let mut child = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(self.dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting sshd: {e}"))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut said = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Server listening on") => break,
                Some(Ok(line)) => said.push(line),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("sshd did not start: {}", said.join(" | ")));
                }
            }
        }
        // Keep draining stderr so sshd never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        self.child = Some(child);
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host key's fingerprint, `SHA256:…`, as a config pins it.
    pub fn host_fingerprint(&self) -> &str {
        &self.host_fingerprint
    }

    /// The private key that `authorized_keys` accepts (for the user running the tests).
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_ed25519")
    }

    /// A folder for files, owned by the user running the tests.
    pub fn files_dir(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// The user running the tests (the one `client_key` logs in as).
    pub fn user(&self) -> String {
        std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| whoami().unwrap_or_else(|| "root".into()))
    }

    /// Kills sshd and every session process it forked: connections drop mid-transfer.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_tree(child.id());
            let _ = child.wait();
        }
    }

    /// Starts sshd again on the same port with the same keys.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.launch()
    }
}

impl Drop for LocalSshd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The password account's password, written by `./dev setup`.
pub fn password_account() -> Result<(String, String), String> {
    let password = std::fs::read_to_string(PASSWORD_FILE).map_err(|e| {
        format!("{PASSWORD_FILE}: {e}; run `./dev setup` to create the `{PASSWORD_USER}` account")
    })?;
    Ok((PASSWORD_USER.into(), password.trim().to_owned()))
}

fn keygen(path: &Path) -> Result<(), String> {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "cordial-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("ssh-keygen: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("ssh-keygen failed for {}", path.display()))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn whoami() -> Option<String> {
    let out = Command::new("id").arg("-un").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// SIGKILLs `root` and all its descendants (found through /proc), children first.
fn kill_tree(root: u32) {
    let mut family = vec![root];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(children_of(parent));
        i += 1;
    }
    for pid in family.iter().rev() {
        let _ = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let after = s.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}
