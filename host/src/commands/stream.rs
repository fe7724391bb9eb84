//! `cordial-host stream <config> <stream> [--tail N]` and `cordial-host quarantine <config>
//! <job>`: what the scheduled jobs stored, and what they (or the platform) set aside.

use crate::db::Db;
use std::path::Path;
use std::process::ExitCode;

/// Prints the stream's last `tail` records, oldest first, one JSON object per line.
pub fn tail(path: &Path, stream: &str, tail: u32) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    let store = Db::open(&config.store)?;
    let total = store.stream_count(stream)?;
    for record in store.stream_tail(stream, tail)? {
        println!("{record}");
    }
    eprintln!(
        "{} of {total} record(s) in `{stream}` ({})",
        total.min(u64::from(tail)),
        config.store.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Lists a job's quarantined records with file, line and reason; `platform` lists the
/// records the platform refused (file `platform`, line the record's id in the store).
pub fn quarantine(path: &Path, job_name: &str) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    let (owner, what) = if job_name == "platform" && config.job(job_name).is_none() {
        (
            crate::db::PLATFORM.to_owned(),
            "the platform refused".to_owned(),
        )
    } else {
        let job = super::find_job(&config, job_name)?;
        (job.name.clone(), format!("job `{}` quarantined", job.name))
    };
    let store = Db::open(&config.store)?;
    let entries = store.quarantined(&owner)?;
    if entries.is_empty() {
        println!("{what} nothing");
        return Ok(ExitCode::SUCCESS);
    }
    for e in &entries {
        println!("{}:{}: {}", e.file, e.line, e.reason);
        if !e.text.is_empty() {
            println!("    {}", e.text.chars().take(200).collect::<String>());
        }
    }
    println!("{} quarantined record(s)", entries.len());
    Ok(ExitCode::SUCCESS)
}
