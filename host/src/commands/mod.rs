//! The CLI's commands, one module each.

pub mod audit;
pub mod backfill;
pub mod check;
pub mod describe;
pub mod dlq;
pub mod forward;
pub mod package;
pub mod run;
pub mod runs;
pub mod serve;
pub mod status;
pub mod stream;
mod table;

use crate::config::{self, HostConfig, JobConfig};
use crate::queue::ItemKind;
use cordial_jobs::settings::JobKind;
use std::path::Path;
use std::process::ExitCode;

/// Runs a command the way every binary of the project does: logs on stderr (filtered by
/// `CORDIAL_LOG`; one JSON object per line with `CORDIAL_LOG_FORMAT=json`), a
/// multi-threaded runtime, and an error printed with its causes and a failing exit code.
pub fn execute(command: impl Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CORDIAL_LOG")
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or a collector reading a pipe
        // gets plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A log line that cannot be written (a full disk under the log file) is dropped:
        // reporting it would `eprintln!` to the same stderr, which panics when that write
        // fails too, and a panic in a request or a queue worker loses its work.
        .log_internal_errors(false);
    match std::env::var("CORDIAL_LOG_FORMAT").as_deref() {
        // A log collector's form: the event's fields at the top level, and the component
        // call's span (`job`, `run`) under `span` on every line logged inside a call.
        Ok("json") => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        _ => logs.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(async {
        survive_file_size_limits()?;
        command.await
    }) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the config, or fails with every problem in it and a pointer to `check`.
fn load_config(path: &Path) -> anyhow::Result<HostConfig> {
    config::load(path).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!(
            "{} has problems; run `cordial-host check {}`:\n{}",
            path.display(),
            path.display(),
            lines.join("\n")
        )
    })
}

/// The job named `name`, or an error that lists the jobs there are.
fn find_job(config: &HostConfig, name: &str) -> anyhow::Result<JobConfig> {
    config.job(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        anyhow::anyhow!(
            "no job named `{name}`; the config has: {}",
            names.join(", ")
        )
    })
}

/// Loads the config and finds a job with a queue in it (real-time export, experience
/// capture), with the kind of its items; or says what is wrong.
fn queued_job(path: &Path, name: &str) -> anyhow::Result<(HostConfig, JobConfig, ItemKind)> {
    let config = load_config(path)?;
    let job = find_job(&config, name)?;
    let Some(kind) = ItemKind::of(job.kind) else {
        let queued: Vec<&str> = JobKind::ALL
            .into_iter()
            .filter(|k| ItemKind::of(*k).is_some())
            .map(JobKind::as_str)
            .collect();
        anyhow::bail!(
            "job `{name}` is a {} job; this command is for {} jobs",
            job.kind.as_str(),
            queued.join(" and ")
        );
    };
    Ok((config, job, kind))
}

/// Loads the config and finds an audience-export job (real time or bulk) in it.
fn export_job(path: &Path, name: &str) -> anyhow::Result<(HostConfig, JobConfig)> {
    let config = load_config(path)?;
    let job = find_job(&config, name)?;
    if !matches!(job.kind, JobKind::ExportRealtime | JobKind::ExportBulk) {
        anyhow::bail!(
            "job `{name}` is a {} job; this command is for export-realtime and export-bulk jobs",
            job.kind.as_str()
        );
    }
    Ok((config, job))
}

/// Makes a file-size limit (`ulimit -f`, a container's) an error instead of death: past the
/// limit a write fails with `EFBIG`, which the store reports like a full disk (intake
/// answers 503, the queue keeps its items), but by default the kernel also sends SIGXFSZ,
/// which ends the process. Once tokio handles a signal, its default action is gone for the
/// rest of the process, so the stream itself is not kept.
fn survive_file_size_limits() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::from_raw(libc::SIGXFSZ))
        .map(drop)
        .map_err(|e| anyhow::anyhow!("cannot handle SIGXFSZ: {e}"))
}
