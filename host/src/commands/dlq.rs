//! `cordial-host dlq list|retry <config> <job>`: the dead letters of a job with a queue
//! (audience events of a real-time export, submissions of a capture job).

use super::queued_job;
use crate::db::Db;
use std::path::Path;
use std::process::ExitCode;

pub fn list(path: &Path, job_name: &str) -> anyhow::Result<ExitCode> {
    let (config, job, kind) = queued_job(path, job_name)?;
    let store = Db::open(&config.store)?;
    let dead = store.dead_letters(&job.name)?;
    if dead.is_empty() {
        println!("job `{}` has no dead letters", job.name);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>8}  {:<12}  {:<32}  {:>8}  {:>6}  reason",
        "id", "item", "contact", "attempts", "status"
    );
    for d in &dead {
        let status = d
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:>8}  {:<12}  {:<32}  {:>8}  {:>6}  {} ({})",
            d.id,
            kind.label(d),
            d.key,
            d.attempts,
            status,
            d.error,
            d.finished_at
        );
    }
    println!(
        "{} dead letter(s); replay with `cordial-host dlq retry {} {}`",
        dead.len(),
        path.display(),
        job.name
    );
    Ok(ExitCode::SUCCESS)
}

pub fn retry(path: &Path, job_name: &str, ids: &[i64]) -> anyhow::Result<ExitCode> {
    let (config, job, _) = queued_job(path, job_name)?;
    let store = Db::open(&config.store)?;
    let only = (!ids.is_empty()).then_some(ids);
    let replayed = store.replay_dead_letters(&job.name, only)?;
    println!(
        "queued {replayed} dead letter(s) of `{}` again; a running `cordial-host serve` delivers them",
        job.name
    );
    Ok(ExitCode::SUCCESS)
}
