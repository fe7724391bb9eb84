//! What the host's benchmarks measure with: knobs from the environment, medians, a
//! process's peak RSS, and a line naming the machine the figures come from.

use crate::cli::host_binary;
use cordial_host::runtime::RunStats;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The number in the environment variable `name`, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The value below which a share `p` (0 to 1) of `values` lies.
pub fn percentile<T: PartialOrd + Copy>(mut values: Vec<T>, p: f64) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable figures"));
    values[((values.len() as f64 - 1.0) * p) as usize]
}

/// The middle value (the upper one of an even count).
pub fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable figures"));
    values[values.len() / 2]
}

/// Component runs against the same logic run natively, over a benchmark's runs.
#[derive(Default)]
pub struct AgainstNative {
    wall: Vec<f64>,
    work: Vec<f64>,
    native: Vec<f64>,
}

impl AgainstNative {
    /// Notes one run and the native run of the same logic; what the run's time went on
    /// (`12.30 s (own work 9.10 s, SFTP+store 2.00 s, Cordial 1.20 s)`).
    pub fn note(&mut self, stats: &RunStats, native: Duration) -> String {
        self.wall.push(stats.total.as_secs_f64());
        self.work.push(stats.component_work().as_secs_f64());
        self.native.push(native.as_secs_f64());
        format!(
            "{:.2} s (own work {:.2} s, SFTP+store {:.2} s, Cordial {:.2} s)",
            stats.total.as_secs_f64(),
            stats.component_work().as_secs_f64(),
            stats.host_io.as_secs_f64(),
            stats.http.as_secs_f64(),
        )
    }

    /// The median run's wall time, in seconds.
    pub fn wall(&self) -> f64 {
        median(self.wall.clone())
    }

    /// `wasm 9.10 s, native 3.20 s, ratio 2.84`: the medians of the component's own work
    /// and of the native runs.
    pub fn ratio(&self) -> String {
        let (work, native) = (median(self.work.clone()), median(self.native.clone()));
        format!(
            "wasm {work:.2} s, native {native:.2} s, ratio {:.2}",
            work / native
        )
    }
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

/// Runs `command` to its successful end, sampling its peak RSS; returns (wall time, peak MiB).
pub fn run_measuring_rss(command: &mut Command) -> (Duration, f64) {
    let started = Instant::now();
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
        std::thread::sleep(Duration::from_millis(20));
    }
    (started.elapsed(), peak)
}

/// `cordial-host run <config> <job>` as its own quiet process: (wall time, peak MiB).
pub fn run_job_measuring_rss(config: &Path, job: &str) -> (Duration, f64) {
    run_measuring_rss(
        Command::new(host_binary())
            .arg("run")
            .arg(config)
            .arg(job)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
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
