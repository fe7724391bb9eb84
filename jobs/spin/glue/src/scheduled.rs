//! One step of a scheduled job on Spin: `POST /run/<job>` from whoever keeps the schedule
//! (a Kubernetes `CronJob`, the cron trigger). Spin runs no background work, so each call
//! runs the job's `scheduled.run` once, under the job's run lease so two calls (two
//! replicas, a retried cron call) never run it side by side, and answers where the run
//! stands; the caller calls again until it says `finished`.

use crate::entry::{self, Answer, fail};
use crate::kv::{self, now_ms};
use crate::lease::Lease;
use crate::settings::Variables;
use crate::types::{JobError, RunContext, RunProgress};
use serde_json::{Map, Value, json};

/// Takes the run lease (`ingress_lease_secs`, 600 by default), does `before` (what must
/// happen under the lease first; its fields join the answer), then calls the job with
/// `run`. A held lease is a `200` that says the call was skipped.
pub fn step(
    vars: &Variables,
    job: &str,
    before: impl FnOnce() -> Result<Map<String, Value>, (u16, Value)>,
    run: impl FnOnce(&RunContext) -> Result<RunProgress, JobError>,
) -> Answer {
    let lease_ms = vars
        .ingress_number("lease_secs", 600)
        .map_err(|e| fail(500, e))?
        * 1000;
    let bucket = kv::open().map_err(|e| fail(503, e))?;
    let lease = Lease::take(&bucket, format!("run/{job}/lease"), now_ms(), lease_ms)
        .map_err(|e| fail(503, format!("the store is unavailable; retry later ({e})")))?;
    let Some(lease) = lease else {
        return Ok((
            200,
            json!({ "skipped": "another call is running this job (the run lease is held)" }),
        ));
    };
    let result = before().and_then(|fields| call(vars, job, fields, run));
    lease.give_back();
    result
}

fn call(
    vars: &Variables,
    job: &str,
    mut answer: Map<String, Value>,
    run: impl FnOnce(&RunContext) -> Result<RunProgress, JobError>,
) -> Answer {
    let ctx = crate::run_context(&entry::run_context(vars, job));
    answer.insert("run_id".into(), json!(ctx.run_id));
    match run(&ctx) {
        Ok(RunProgress::Finished(report)) => {
            answer.extend([
                ("progress".into(), json!("finished")),
                ("records_read".into(), json!(report.records_read)),
                ("records_written".into(), json!(report.records_written)),
                ("records_rejected".into(), json!(report.records_rejected)),
                ("summary".into(), json!(report.summary)),
            ]);
            Ok((200, Value::Object(answer)))
        }
        Ok(RunProgress::Waiting(waiting)) => {
            answer.extend([
                ("progress".into(), json!("waiting")),
                ("call_again_after_ms".into(), json!(waiting.after_ms)),
                ("reason".into(), json!(waiting.reason)),
            ]);
            Ok((200, Value::Object(answer)))
        }
        Err(error) => {
            let (status, kind, message) = match error {
                JobError::InvalidConfig(m) => (500, "invalid-config", m),
                JobError::Transient(m) => (503, "transient", m),
                JobError::Permanent(m) => (500, "permanent", m),
            };
            answer.extend([
                ("error".into(), json!(message)),
                ("kind".into(), json!(kind)),
            ]);
            Err((status, Value::Object(answer)))
        }
    }
}
