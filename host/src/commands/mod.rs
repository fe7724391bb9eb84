//! The CLI's commands, one module each.

pub mod backfill;
pub mod check;
pub mod demo;
pub mod dlq;
pub mod emulator;
pub mod run;
pub mod serve;

use crate::config::{self, HostConfig, JobConfig};
use cordial_jobs::settings::JobKind;
use std::path::Path;

/// Loads the config and finds a real-time job in it, or says what is wrong.
fn realtime_job(path: &Path, name: &str) -> anyhow::Result<(HostConfig, JobConfig)> {
    let config = config::load(path).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!(
            "{} has problems; run `cordial-host check`:\n{}",
            path.display(),
            lines.join("\n")
        )
    })?;
    let job = config
        .job(name)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no job named `{name}` in {}", path.display()))?;
    if job.kind != JobKind::ExportRealtime {
        anyhow::bail!(
            "job `{name}` is a {} job; this command is for export-realtime jobs",
            job.kind.as_str()
        );
    }
    Ok((config, job))
}
