//! `cordial-host runs <config> [<job>] [--limit N] [--json]`: the run history, newest first —
//! each run's trigger, start and end, state, counts and last error.

use super::table::table;
use super::{find_job, load_config};
use crate::db::{Db, RunRow};
use crate::history::Counts;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, job: Option<&str>, limit: u32, as_json: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    if let Some(name) = job {
        find_job(&config, name)?;
    }
    let store = Db::open(&config.store)?;
    let runs = store.runs(job, limit)?;
    if as_json {
        for run in &runs {
            println!("{}", to_json(run));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        println!(
            "no runs recorded{}",
            job.map_or(String::new(), |j| format!(" for `{j}`"))
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 7]> = runs
        .iter()
        .map(|r| {
            let counts: Counts = serde_json::from_str(&r.counts).unwrap_or_default();
            [
                r.started_at.clone(),
                r.job.clone(),
                r.trigger.clone(),
                r.state.clone(),
                r.ended_at.clone().unwrap_or_else(|| "-".into()),
                counts.summary(),
                r.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            [
                "started",
                "job",
                "trigger",
                "state",
                "ended",
                "counts",
                "last error"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// One NDJSON line: the record with its counts and rejection sample as JSON.
pub fn to_json(run: &RunRow) -> Value {
    let parsed = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    json!({
        "run_id": run.run_id,
        "job": run.job,
        "trigger": run.trigger,
        "state": run.state,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "counts": parsed(&run.counts),
        "rejections": parsed(&run.rejections),
        "last_error": run.last_error,
    })
}
