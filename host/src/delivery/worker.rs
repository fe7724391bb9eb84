//! A worker: batches its contacts' events, calls the component, settles the outcomes.

use super::metrics::DeliveryMetrics;
use crate::config::JobConfig;
use crate::runtime::Runtime;
use crate::store::{OutboxEvent, Settled};
use cordial_jobs::job::Outcome;
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::retry::{NextStep, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Receiver;

/// How long to wait before sending the rest of a batch again.
type Wait = Option<Duration>;

pub async fn run(
    runtime: Arc<Runtime>,
    job: JobConfig,
    mut inbox: Receiver<OutboxEvent>,
    metrics: Arc<DeliveryMetrics>,
) {
    let policy = RetryPolicy {
        max_attempts: job.delivery.max_attempts,
        ..RetryPolicy::default()
    };
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < job.delivery.batch_size as usize {
            match inbox.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        while !batch.is_empty() {
            let (settled, wait) = attempt(&runtime, &job, &policy, &mut batch, &metrics).await;
            let store = runtime.store().clone();
            let write = tokio::task::spawn_blocking(move || store.settle(&settled)).await;
            if let Err(e) = write.map_err(anyhow::Error::from).and_then(|r| r) {
                tracing::error!(job = %job.name, "recording delivery outcomes failed: {e:#}");
            }
            if let Some(delay) = wait {
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// One component call for the batch. Removes settled events from `batch` and returns what
/// to record and how long to wait before the rest.
async fn attempt(
    runtime: &Runtime,
    job: &JobConfig,
    policy: &RetryPolicy,
    batch: &mut Vec<OutboxEvent>,
    metrics: &DeliveryMetrics,
) -> (Vec<Settled>, Wait) {
    let events: Vec<AudienceEvent> = batch.iter().map(to_audience_event).collect();
    let outcomes = match runtime.deliver_measured(job, &events).await {
        Ok((outcomes, stats)) if outcomes.len() == batch.len() => {
            metrics.record_call(stats, events.len());
            outcomes
        }
        Ok((outcomes, _)) => {
            let error = format!(
                "the component returned {} outcomes for {} events",
                outcomes.len(),
                batch.len()
            );
            return fail_head(job, policy, batch, error);
        }
        Err(e) => return fail_head(job, policy, batch, e.to_string()),
    };
    let (settled, wait) = settle(job, policy, batch, outcomes);
    let count = |f: fn(&Settled) -> bool| settled.iter().filter(|s| f(s)).count() as u64;
    metrics.record_outcomes(
        count(|s| matches!(s, Settled::Delivered { .. })),
        count(|s| matches!(s, Settled::Retrying { .. })),
        count(|s| matches!(s, Settled::Dead { .. })),
    );
    (settled, wait)
}

/// Turns the component's outcomes into store updates. Events that were tried and may pass
/// later count an attempt and set the wait (the longest asked for); events held back behind
/// them stay in the batch untouched.
fn settle(
    job: &JobConfig,
    policy: &RetryPolicy,
    batch: &mut Vec<OutboxEvent>,
    outcomes: Vec<Outcome>,
) -> (Vec<Settled>, Wait) {
    let mut settled = Vec::new();
    let mut keep = Vec::new();
    let mut wait: Wait = None;
    for (event, outcome) in batch.drain(..).zip(outcomes) {
        match outcome {
            Outcome::Delivered => settled.push(Settled::Delivered { id: event.id }),
            Outcome::DeadLetter { status, reason } => {
                tracing::warn!(job = %job.name, event = event.id, "dead-lettered: {reason}");
                settled.push(Settled::Dead {
                    id: event.id,
                    attempts: event.attempts + 1,
                    status,
                    error: reason,
                });
            }
            Outcome::Retry {
                after,
                reason,
                attempted: true,
            } => {
                let attempts = event.attempts + 1;
                match policy.next_step(attempts, after, jitter(event.id, attempts)) {
                    NextStep::GiveUp => settled.push(Settled::Dead {
                        id: event.id,
                        attempts,
                        status: None,
                        error: format!("gave up after {attempts} attempts: {reason}"),
                    }),
                    NextStep::RetryAfter(delay) => {
                        tracing::info!(job = %job.name, event = event.id, "retrying in {delay:?}: {reason}");
                        settled.push(Settled::Retrying {
                            id: event.id,
                            attempts,
                            error: reason,
                        });
                        keep.push(OutboxEvent { attempts, ..event });
                        wait = Some(wait.unwrap_or(Duration::ZERO).max(delay));
                    }
                }
            }
            Outcome::Retry { .. } => keep.push(event),
        }
    }
    // Held-back events alone (their blocker was dead-lettered) go again at once.
    *batch = keep;
    (settled, wait)
}

/// The call itself failed (a trap, a limit): count it against the first event, back off.
fn fail_head(
    job: &JobConfig,
    policy: &RetryPolicy,
    batch: &mut Vec<OutboxEvent>,
    error: String,
) -> (Vec<Settled>, Wait) {
    tracing::error!(job = %job.name, "delivery call failed: {error}");
    let head = &mut batch[0];
    head.attempts += 1;
    match policy.next_step(head.attempts, None, jitter(head.id, head.attempts)) {
        NextStep::GiveUp => {
            let head = batch.remove(0);
            let dead = Settled::Dead {
                id: head.id,
                attempts: head.attempts,
                status: None,
                error,
            };
            (vec![dead], None)
        }
        NextStep::RetryAfter(delay) => {
            let retrying = Settled::Retrying {
                id: head.id,
                attempts: head.attempts,
                error,
            };
            (vec![retrying], Some(delay))
        }
    }
}

fn to_audience_event(e: &OutboxEvent) -> AudienceEvent {
    AudienceEvent {
        event_id: e.id as u64,
        audience: e.audience.clone(),
        kind: match e.kind.as_str() {
            "exit" => Membership::Exit,
            "change" => Membership::Change,
            _ => Membership::Enter,
        },
        user: e.user.clone(),
        occurred_at: e.occurred_at.clone(),
    }
}

/// A number in [0, 1) that differs between events and attempts, to spread retries apart.
fn jitter(id: i64, attempts: u32) -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let h = RandomState::new().hash_one((id, attempts));
    (h >> 11) as f64 / (1u64 << 53) as f64
}
