//! `cordial-host audit <config> <job> [--limit N] [--json]`: what an experience-capture job
//! decided for each submission (contact, rule, action, outcome), oldest first.

use super::{find_job, load_config};
use crate::db::{AuditRow, Db};
use cordial_jobs::settings::JobKind;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    path: &Path,
    job_name: &str,
    limit: Option<u32>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    let job = find_job(&config, job_name)?;
    if job.kind != JobKind::ExperienceCapture {
        anyhow::bail!(
            "job `{job_name}` is a {} job; this command is for experience-capture jobs",
            job.kind.as_str()
        );
    }
    let store = Db::open(&config.store)?;
    let rows = store.capture_audit(&job.name, limit)?;
    if as_json {
        for row in &rows {
            println!("{}", to_json(row));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("job `{}` has decided no submissions yet", job.name);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", table(&rows));
    println!("{} decision(s)", rows.len());
    Ok(ExitCode::SUCCESS)
}

/// One NDJSON line.
pub fn to_json(row: &AuditRow) -> serde_json::Value {
    json!({
        "submission_id": row.submission_id,
        "job": row.job,
        "contact": row.contact,
        "rule": row.rule,
        "action": row.action,
        "outcome": row.outcome,
        "status": row.status,
        "message": row.message,
        "attempts": row.attempts,
        "decided_at": row.decided_at,
    })
}

/// The rows as an aligned table, one line each, with a header.
pub fn table(rows: &[AuditRow]) -> String {
    let header = [
        "decided_at",
        "submission",
        "contact",
        "action",
        "rule",
        "outcome",
        "message",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let outcome = match r.status {
                Some(status) => format!("{} ({status})", r.outcome),
                None => r.outcome.clone(),
            };
            [
                r.decided_at.clone(),
                r.submission_id.clone(),
                r.contact.clone(),
                r.action.clone(),
                r.rule.clone(),
                outcome,
                r.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    super::table::table(header, &cells)
}
