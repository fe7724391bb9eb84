//! `cordial-host status <config> [--json]`: each job's kind, whether a run of it is going,
//! its last run and how it ended, its next scheduled slot, and its queue and dead letters.

use super::load_config;
use super::table::table;
use crate::config::JobConfig;
use crate::db::Db;
use crate::queue::ItemKind;
use crate::scheduler::{self, Due};
use chrono::Utc;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    let store = Db::open(&config.store)?;
    let jobs: Vec<Value> = config
        .jobs
        .iter()
        .map(|job| job_status(&store, job))
        .collect::<anyhow::Result<_>>()?;
    if as_json {
        for job in &jobs {
            println!("{job}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = |v: &Value| match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let rows: Vec<[String; 7]> = jobs
        .iter()
        .map(|j| {
            let last = match (&j["last_run"]["started_at"], &j["last_run"]["state"]) {
                (Value::String(at), Value::String(state)) => format!("{at} {state}"),
                _ => "-".into(),
            };
            [
                text(&j["job"]),
                text(&j["kind"]),
                text(&j["state"]),
                last,
                text(&j["next_slot"]),
                text(&j["queued"]),
                text(&j["dead_letters"]),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            [
                "job",
                "kind",
                "state",
                "last run",
                "next slot",
                "queued",
                "dead letters"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// One job's status as JSON; `null` where a figure does not apply to its kind.
fn job_status(store: &Db, job: &JobConfig) -> anyhow::Result<Value> {
    let last = store.last_run(&job.name)?;
    let running = last.as_ref().is_some_and(|r| r.state == "running");
    let next_slot = match scheduler::schedule_of(job) {
        Ok(schedule) => Some(
            match scheduler::next_slot(store, &job.name, &schedule, Utc::now()) {
                Due::Now { .. } => "now".to_owned(),
                Due::At { slot } => slot.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        ),
        Err(_) => None,
    };
    let queue = match ItemKind::of(job.kind) {
        Some(_) => Some(store.backlog(&job.name)?),
        None => None,
    };
    Ok(json!({
        "job": job.name,
        "kind": job.kind.as_str(),
        "state": if running { "running" } else { "idle" },
        "last_run": last.map(|r| json!({
            "run_id": r.run_id,
            "trigger": r.trigger,
            "state": r.state,
            "started_at": r.started_at,
            "ended_at": r.ended_at,
        })),
        "next_slot": next_slot,
        "queued": queue.map(|q| q.pending),
        "dead_letters": queue.map(|q| q.dead),
    }))
}
