//! `cordial-host check <config>`: every problem in the config and in each job's settings.

use crate::config::{self, HostConfig, Problem};
use crate::db::Db;
use crate::runtime::Runtime;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match config::load(path) {
        Ok(c) => c,
        Err(problems) => return Ok(report(path, &problems)),
    };
    let problems = check_config(config).await?;
    if problems.is_empty() {
        println!("✓ {}: config and job settings are valid", path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(report(path, &problems))
    }
}

/// The problems of a parsed config: secrets that cannot be read, and what each job's
/// component finds in its settings.
pub async fn check_config(config: HostConfig) -> anyhow::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for auth in config.auths.values() {
        if let Err(e) = auth.api_key.read() {
            problems.push(Problem {
                place: format!("auth \"{}\"", auth.name),
                message: e,
            });
        }
    }
    if !problems.is_empty() {
        return Ok(problems);
    }
    let jobs = config.jobs.clone();
    let runtime = Runtime::new(config, Db::in_memory()?)?;
    for job in &jobs {
        let place = |field: &str| format!("job \"{}\" → {field}", job.name);
        match runtime.validate(job).await {
            Ok(found) => problems.extend(found.into_iter().map(|p| Problem {
                place: place(&p.field),
                message: p.message,
            })),
            Err(e) => problems.push(Problem {
                place: format!("job \"{}\"", job.name),
                message: e.to_string(),
            }),
        }
    }
    Ok(problems)
}

fn report(path: &Path, problems: &[Problem]) -> ExitCode {
    eprintln!(
        "✗ {}: {} problem{} to fix:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        eprintln!("  - {p}");
    }
    ExitCode::FAILURE
}
