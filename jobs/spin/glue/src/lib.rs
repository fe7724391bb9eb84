//! What the Spin-side components share. On Spin a job component is composed with two thin
//! pieces (see `spin/README.md`): an HTTP entry that reads the platform's requests and
//! calls the job, and a settings scope that shows the job its own settings only. Their
//! common parts live here: the WIT bindings of Spin's key-value and variables, reading a
//! request and answering it, telling the entry's variables from the job's settings, and the
//! durable outbox, the bulk export's waiting members and files, the activity import's
//! streams, and leases in Spin's key-value store; and one step of a scheduled job.

pub mod bindings;
pub mod entry;
pub mod files;
pub mod kv;
pub mod lease;
pub mod members;
pub mod outbox;
pub mod request;
pub mod respond;
pub mod scheduled;
pub mod settings;
pub mod stream;

pub use bindings::cordial::jobs::{items, outcomes, types};
pub use bindings::wasi::{config, keyvalue};

/// The job's run context in its WIT form.
pub fn run_context(ctx: &cordial_jobs::job::RunContext) -> types::RunContext {
    types::RunContext {
        job_name: ctx.job_name.clone(),
        run_id: ctx.run_id.clone(),
        started_at: ctx.started_at.clone(),
        cordial_base_url: ctx.cordial_base_url.clone(),
    }
}

/// What the outbox does with an item, from the job's outcome.
pub fn verdict(outcome: outcomes::Outcome) -> outbox::Verdict {
    use outcomes::Outcome;
    match outcome {
        Outcome::Delivered => outbox::Verdict::Delivered,
        Outcome::Retry(r) => outbox::Verdict::Retry {
            after_ms: r.after_ms,
            attempted: r.attempted,
            reason: r.reason,
        },
        Outcome::DeadLetter(r) => outbox::Verdict::DeadLetter { reason: r.reason },
    }
}
