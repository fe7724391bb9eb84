//! Turning what the platform sends (webhook payloads, backfill member files) into events
//! for one audience-export job, and storing them where that job reads them: the real-time
//! job's outbox, or the bulk job's pending members.

use crate::config::JobConfig;
use crate::store::{NewEvent, Store};
use cordial_jobs::realtime::Membership;
use cordial_jobs::settings::JobKind;
use cordial_jobs::webhook::TriggerEvent;
use serde_json::{Map, Value};

/// The user field a job reads the email from (its `email_field` setting).
fn email_field(job: &JobConfig) -> &str {
    job.settings
        .get("email_field")
        .and_then(Value::as_str)
        .unwrap_or("email")
}

/// The job's audience setting.
pub fn audience(job: &JobConfig) -> &str {
    job.settings
        .get("audience")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The ordering key: the lower-cased email when there is one. Events without one are
/// dead-lettered by the job; they get a key of their own so they hold nobody up.
fn contact_key(job: &JobConfig, user: &Map<String, Value>, fallback: &str) -> String {
    match user.get(email_field(job)) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_lowercase(),
        _ => format!("(no email) {fallback}"),
    }
}

fn kind_name(kind: Membership) -> &'static str {
    match kind {
        Membership::Enter => "enter",
        Membership::Exit => "exit",
        Membership::Change => "change",
    }
}

/// The payload's events that belong to this job's audience (by slug or segment id), and
/// how many were for other audiences.
pub fn from_trigger(job: &JobConfig, events: Vec<TriggerEvent>) -> (Vec<NewEvent>, usize) {
    let audience = audience(job);
    let total = events.len();
    let mine: Vec<NewEvent> = events
        .into_iter()
        .enumerate()
        .filter(|(_, e)| {
            e.audience_slug.as_deref() == Some(audience)
                || e.audience_id.as_deref() == Some(audience)
        })
        .map(|(i, e)| {
            let fallback = e.platform_id.clone().unwrap_or_else(|| format!("#{i}"));
            NewEvent {
                contact: contact_key(job, &e.user, &fallback),
                audience: audience.to_owned(),
                kind: kind_name(e.kind).to_owned(),
                user: Value::Object(e.user).to_string(),
                occurred_at: e.occurred_at,
                source: "webhook",
            }
        })
        .collect();
    let ignored = total - mine.len();
    (mine, ignored)
}

/// A current member from a backfill file (its `row`-th good row), as an `enter` event.
pub fn from_member(job: &JobConfig, member: Map<String, Value>, row: u64) -> NewEvent {
    NewEvent {
        contact: contact_key(job, &member, &format!("row {row}")),
        audience: audience(job).to_owned(),
        kind: "enter".into(),
        user: Value::Object(member).to_string(),
        occurred_at: None,
        source: "backfill",
    }
}

/// Stores accepted events durably, in one transaction, where `job` reads them.
pub fn store_events(store: &Store, job: &JobConfig, events: &[NewEvent]) -> anyhow::Result<()> {
    match job.kind {
        JobKind::ExportBulk => store.add_pending(&job.name, events),
        _ => store.enqueue(&job.name, events),
    }
}
