//! Turning what became of a batch into store updates and the wait before the rest of it
//! goes again: the one place retries, backoff and dead letters are decided.

use super::kind::ItemResult;
use crate::config::JobConfig;
use crate::db::{CaptureDecision, QueuedItem, Settled};
use cordial_jobs::job::Outcome;
use cordial_jobs::retry::{NextStep, RetryPolicy};
use std::time::Duration;

/// How long to wait before sending the rest of a batch again.
pub type Wait = Option<Duration>;

/// Settles the items the job answered for and leaves in `batch` what goes again: items that
/// were tried and may pass later count an attempt and set the wait (the longest asked for);
/// items held back behind them stay untouched.
pub fn settle(
    job: &JobConfig,
    policy: &RetryPolicy,
    batch: &mut Vec<QueuedItem>,
    results: Vec<ItemResult>,
) -> (Vec<Settled>, Wait) {
    let mut settled = Vec::new();
    let mut keep = Vec::new();
    let mut wait: Wait = None;
    for (item, ItemResult { outcome, decision }) in batch.drain(..).zip(results) {
        let attempts = item.attempts + 1;
        match outcome {
            Outcome::Delivered => settled.push(Settled::Done {
                id: item.id,
                attempts,
                decision,
            }),
            Outcome::DeadLetter { status, reason } => {
                tracing::warn!(job = %job.name, item = %item.name, "dead-lettered: {reason}");
                settled.push(Settled::Dead {
                    id: item.id,
                    attempts,
                    status,
                    error: reason,
                    decision,
                });
            }
            Outcome::Retry {
                after,
                reason,
                attempted: true,
            } => match policy.next_step(attempts, after, jitter(item.id, attempts)) {
                NextStep::GiveUp => settled.push(Settled::Dead {
                    id: item.id,
                    attempts,
                    status: None,
                    error: format!("gave up after {attempts} attempts: {reason}"),
                    decision,
                }),
                NextStep::RetryAfter(delay) => {
                    tracing::info!(job = %job.name, item = %item.name, "retrying in {delay:?}: {reason}");
                    settled.push(Settled::Retrying {
                        id: item.id,
                        attempts,
                        error: reason,
                    });
                    keep.push(QueuedItem { attempts, ..item });
                    wait = Some(wait.unwrap_or(Duration::ZERO).max(delay));
                }
            },
            Outcome::Retry { .. } => keep.push(item),
        }
    }
    // Held-back items alone (their blocker was settled) go again at once.
    *batch = keep;
    (settled, wait)
}

/// The call itself failed (a trap, a limit, a wrong number of results): the attempt counts
/// against the first item, which is dead-lettered with `undecided` (its kind's audit of a
/// decision never made) once it has had all its attempts.
pub fn fail_head(
    job: &JobConfig,
    policy: &RetryPolicy,
    batch: &mut Vec<QueuedItem>,
    error: String,
    undecided: Option<CaptureDecision>,
) -> (Vec<Settled>, Wait) {
    tracing::error!(job = %job.name, "the call failed: {error}");
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
                decision: undecided,
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

/// A number in [0, 1) that differs between items and attempts, to spread retries apart.
fn jitter(id: i64, attempts: u32) -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let h = RandomState::new().hash_one((id, attempts));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> JobConfig {
        let config = crate::config::parse(
            "[auth.c]\nbase_url = \"http://127.0.0.1:1\"\napi_key_env = \"K\"\n\
             [[job]]\nname = \"quiz\"\nkind = \"experience-capture\"\nauth = \"c\"\n",
        )
        .unwrap();
        config.jobs[0].clone()
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        }
    }

    fn queued(id: i64, attempts: u32) -> QueuedItem {
        QueuedItem {
            id,
            name: format!("quiz-{id}"),
            key: format!("u{id}@x.io"),
            item: "{}".into(),
            attempts,
        }
    }

    fn decided(outcome: Outcome) -> ItemResult {
        ItemResult {
            outcome,
            decision: Some(CaptureDecision {
                rule: "R10 subscribe-explicit-opt-in".into(),
                action: "subscribed".into(),
            }),
        }
    }

    fn retry(after_ms: Option<u64>, attempted: bool) -> Outcome {
        Outcome::Retry {
            after: after_ms.map(Duration::from_millis),
            reason: "429".into(),
            attempted,
        }
    }

    #[test]
    fn delivered_dead_retried_and_held_back() {
        let mut batch = vec![queued(1, 0), queued(2, 0), queued(3, 0), queued(4, 2)];
        let (settled, wait) = settle(
            &job(),
            &policy(),
            &mut batch,
            vec![
                decided(Outcome::Delivered),
                decided(Outcome::DeadLetter {
                    status: Some(422),
                    reason: "bad".into(),
                }),
                decided(retry(Some(1500), true)),
                decided(retry(None, false)),
            ],
        );
        assert_eq!(
            wait,
            Some(Duration::from_millis(1500)),
            "Cordial's Retry-After is honoured as given"
        );
        assert!(matches!(
            &settled[0],
            Settled::Done {
                id: 1,
                attempts: 1,
                decision: Some(d),
            } if d.action == "subscribed"
        ));
        assert!(matches!(
            settled[1],
            Settled::Dead {
                id: 2,
                attempts: 1,
                status: Some(422),
                decision: Some(_),
                ..
            }
        ));
        assert!(matches!(
            settled[2],
            Settled::Retrying {
                id: 3,
                attempts: 1,
                ..
            }
        ));
        assert_eq!(settled.len(), 3, "a held-back item is left alone");
        assert_eq!(
            batch.iter().map(|i| (i.id, i.attempts)).collect::<Vec<_>>(),
            [(3, 1), (4, 2)],
            "the retried item (its attempt counted) and the held-back one go again"
        );

        let mut last = vec![queued(4, 2)];
        let (settled, wait) = settle(
            &job(),
            &policy(),
            &mut last,
            vec![decided(retry(None, true))],
        );
        match &settled[0] {
            Settled::Dead {
                attempts,
                error,
                decision,
                ..
            } => {
                assert_eq!(*attempts, 3);
                assert!(error.starts_with("gave up after 3 attempts"), "{error}");
                assert_eq!(decision.as_ref().unwrap().action, "subscribed");
            }
            other => panic!("expected a dead letter, got {other:?}"),
        }
        assert!(last.is_empty() && wait.is_none());
    }

    #[test]
    fn without_retry_after_the_wait_is_a_jittered_backoff() {
        let mut batch = vec![queued(1, 1)];
        let (_, wait) = settle(
            &job(),
            &policy(),
            &mut batch,
            vec![decided(retry(None, true))],
        );
        // The second attempt failed: between half and all of 2 × 500 ms.
        let wait = wait.unwrap();
        assert!(
            (Duration::from_millis(500)..=Duration::from_secs(1)).contains(&wait),
            "{wait:?}"
        );
    }

    #[test]
    fn a_failed_call_counts_against_the_head_until_it_is_dead() {
        let undecided = CaptureDecision {
            rule: "not-decided".into(),
            action: "skipped".into(),
        };
        let mut batch = vec![queued(1, 1), queued(2, 0)];
        let (settled, wait) = fail_head(
            &job(),
            &policy(),
            &mut batch,
            "trap".into(),
            Some(undecided.clone()),
        );
        assert!(matches!(
            settled[..],
            [Settled::Retrying {
                id: 1,
                attempts: 2,
                ..
            }]
        ));
        assert!(wait.is_some());
        assert_eq!(batch.len(), 2, "the whole batch goes again");

        let (settled, wait) = fail_head(
            &job(),
            &policy(),
            &mut batch,
            "trap".into(),
            Some(undecided.clone()),
        );
        assert_eq!(
            settled,
            [Settled::Dead {
                id: 1,
                attempts: 3,
                status: None,
                error: "trap".into(),
                decision: Some(undecided),
            }]
        );
        assert_eq!(wait, None, "the rest goes again at once");
        assert_eq!(batch.iter().map(|i| i.id).collect::<Vec<_>>(), [2]);
    }
}
