//! What the benchmarks share: environment knobs, medians, a process's peak RSS, and a line
//! naming the machine the figures come from.

#![allow(dead_code)] // each benchmark uses its own part

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The peak resident set (`VmHWM`) of a running process, in MiB.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Runs `command` to completion, sampling its peak RSS; returns (wall time, peak MiB).
pub fn run_measuring_rss(command: &mut std::process::Command) -> (std::time::Duration, f64) {
    let started = std::time::Instant::now();
    let mut child = command
        .spawn()
        .expect("the benchmark's child process starts");
    let mut peak: f64 = 0.0;
    loop {
        if let Some(rss) = peak_rss_mb(child.id()) {
            peak = peak.max(rss);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{command:?} failed");
            break;
        }
        // A sampling interval, not synchronisation: VmHWM keeps the peak between samples.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (started.elapsed(), peak)
}

/// `AMD EPYC, 2 cores`: the CPU model and how many cores the benchmark saw.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpu}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}

/// The components `./dev build` made.
pub fn components_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../jobs/target/wasm32-wasip2/release")
}

/// The `[host]`, `[auth.cordial]` and `[auth.cordial.sftp]` tables of a benchmark config:
/// the store, the emulator, and a key login to the throwaway sshd's files folder.
pub fn host_and_auth(
    store: &std::path::Path,
    key: &std::path::Path,
    base_url: &str,
    sshd: &cordial_sftp::sshd::LocalSshd,
) -> String {
    format!(
        r#"
[host]
store = "{store}"
components_dir = "{components}"

[auth.cordial]
base_url = "{base_url}"
api_key_file = "{key}"

[auth.cordial.sftp]
host = "127.0.0.1"
port = {port}
username = "{user}"
private_key_file = "{client_key}"
folder = "{folder}"
host_key = "{fp}"
"#,
        store = store.display(),
        components = components_dir().display(),
        key = key.display(),
        port = sshd.port(),
        user = sshd.user(),
        client_key = sshd.client_key().display(),
        folder = sshd.files_dir().display(),
        fp = sshd.host_fingerprint(),
    )
}
