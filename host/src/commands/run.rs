//! `cordial-host run <config> <job>`: one run of a scheduled job, now.

use crate::db::Db;
use crate::history::{Trigger, recorded_run};
use crate::runtime::{CallContext, RunOutcome, Runtime};
use std::path::Path;
use std::process::ExitCode;

pub async fn run(path: &Path, job_name: &str) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    let job = super::find_job(&config, job_name)?;
    if !crate::jobs::descriptor(job.kind).has(crate::jobs::Trigger::Schedule) {
        anyhow::bail!(
            "job `{job_name}` is a {} job, driven by events rather than runs",
            job.kind.as_str()
        );
    }
    let _lock = crate::db::FileLock::run(&config.store, &job.name)?;
    let store = Db::open(&config.store)?;
    let runtime = Runtime::new(config, store.clone())?;
    let outcome = recorded_run(&runtime, &job, &CallContext::now(), Trigger::Run).await?;
    crate::sinks::after_run(runtime.config(), &store);
    if let Some(platform) = &runtime.config().platform {
        crate::sinks::platform::after_run(platform, &runtime.config().store, &store).await;
    }
    Ok(print_outcome(&job.name, outcome))
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
