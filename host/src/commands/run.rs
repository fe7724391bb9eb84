//! `cordial-host run <config> <job>`: one run of a scheduled job, now.

use crate::config;
use crate::runtime::{CallContext, RunOutcome, Runtime};
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(path: &Path, job_name: &str) -> anyhow::Result<ExitCode> {
    let config = config::load(path).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!(
            "{} has problems; run `cordial-host check {}`:\n{}",
            path.display(),
            path.display(),
            lines.join("\n")
        )
    })?;
    let Some(job) = config.job(job_name).cloned() else {
        let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        anyhow::bail!(
            "no job named `{job_name}`; the config has: {}",
            names.join(", ")
        );
    };
    if !job.kind.is_scheduled() {
        anyhow::bail!(
            "job `{job_name}` is a {} job, driven by events rather than runs",
            job.kind.as_str()
        );
    }
    let store = Store::open(&config.store)?;
    let runtime = Runtime::new(config, store)?;
    Ok(print_outcome(
        &job.name,
        runtime.run(&job, &CallContext::now()).await?,
    ))
}

/// Prints a run's outcome and turns it into the exit code.
pub fn print_outcome(job: &str, outcome: RunOutcome) -> ExitCode {
    match outcome {
        RunOutcome::Completed(r) => {
            println!(
                "✓ {job}: {} (read {}, written {}, rejected {})",
                r.summary, r.records_read, r.records_written, r.records_rejected
            );
            ExitCode::SUCCESS
        }
        RunOutcome::Failed(e) => {
            eprintln!("✗ {job}: {e:?}");
            ExitCode::FAILURE
        }
    }
}
