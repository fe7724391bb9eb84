//! Working off a capture job's inbox: the oldest pending submissions, `batch_size` per
//! component call, one call at a time, so submissions are decided in the order they
//! arrived (a later submission of a contact never overtakes an earlier one). Outcomes and
//! audit rows are written in one transaction before the next call; a submission that may
//! pass later waits for Cordial's `Retry-After` or an exponential backoff, and is
//! dead-lettered after `max_attempts`.

use crate::config::JobConfig;
use crate::runtime::Runtime;
use crate::store::{CaptureDecision, CaptureSettled, PendingSubmission};
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::job::Outcome;
use cordial_jobs::retry::{NextStep, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the inbox is looked at when nobody woke the worker.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// The rule and action recorded when the job could not decide (its call failed).
const NOT_DECIDED: &str = "not-decided";

/// A running worker for one capture job.
pub struct Worker {
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts working off `job`'s inbox. Notify `wake` after committing submissions to have
    /// them picked up at once.
    pub fn start(runtime: Arc<Runtime>, job: JobConfig, wake: Arc<Notify>) -> Worker {
        Worker {
            task: tokio::spawn(run(runtime, job, wake)),
        }
    }

    /// Stops; pending submissions stay in the store for the next start.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn run(runtime: Arc<Runtime>, job: JobConfig, wake: Arc<Notify>) {
    let policy = RetryPolicy {
        max_attempts: job.delivery.max_attempts,
        ..RetryPolicy::default()
    };
    loop {
        let store = runtime.store().clone();
        let (name, limit) = (job.name.clone(), job.delivery.batch_size);
        let batch = tokio::task::spawn_blocking(move || store.pending_submissions(&name, limit))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
        let batch = match batch {
            Ok(b) if !b.is_empty() => b,
            Ok(_) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
                continue;
            }
            Err(e) => {
                tracing::error!(job = %job.name, "reading the capture inbox failed: {e:#}");
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
        };
        let submissions: Vec<Submission> = batch
            .iter()
            .map(|s| Submission {
                id: s.submission_id.clone(),
                body: s.body.clone(),
            })
            .collect();
        let (settled, wait) = match runtime.submit(&job, &submissions).await {
            Ok(results) if results.len() == batch.len() => settle(&job, &policy, &batch, results),
            Ok(results) => fail_head(
                &job,
                &policy,
                &batch[0],
                format!(
                    "the component returned {} results for {} submissions",
                    results.len(),
                    batch.len()
                ),
            ),
            Err(e) => fail_head(&job, &policy, &batch[0], e.to_string()),
        };
        let store = runtime.store().clone();
        let write = tokio::task::spawn_blocking(move || store.settle_submissions(&settled)).await;
        if let Err(e) = write.map_err(anyhow::Error::from).and_then(|r| r) {
            tracing::error!(job = %job.name, "recording capture outcomes failed: {e:#}");
            tokio::time::sleep(IDLE_POLL).await;
        }
        if let Some(delay) = wait {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Turns the component's results into store updates, and how long to wait before the next
/// call (the longest wait any tried submission asks for). Held-back submissions (not
/// tried) are left as they are.
pub fn settle(
    job: &JobConfig,
    policy: &RetryPolicy,
    batch: &[PendingSubmission],
    results: Vec<CaptureResult>,
) -> (Vec<CaptureSettled>, Option<Duration>) {
    let mut settled = Vec::new();
    let mut wait: Option<Duration> = None;
    for (submission, result) in batch.iter().zip(results) {
        let id = submission.id;
        let attempts = submission.attempts + 1;
        let decision = CaptureDecision {
            rule: result.rule,
            action: result.action,
        };
        match result.outcome {
            Outcome::Delivered => settled.push(CaptureSettled::Done {
                id,
                attempts,
                decision,
            }),
            Outcome::DeadLetter { status, reason } => {
                tracing::warn!(job = %job.name, submission = %submission.submission_id, "dead-lettered: {reason}");
                settled.push(CaptureSettled::Dead {
                    id,
                    attempts,
                    decision,
                    status,
                    error: reason,
                });
            }
            Outcome::Retry {
                after,
                reason,
                attempted: true,
            } => match policy.next_step(attempts, after, jitter(id, attempts)) {
                NextStep::GiveUp => settled.push(CaptureSettled::Dead {
                    id,
                    attempts,
                    decision,
                    status: None,
                    error: format!("gave up after {attempts} attempts: {reason}"),
                }),
                NextStep::RetryAfter(delay) => {
                    tracing::info!(job = %job.name, submission = %submission.submission_id, "retrying in {delay:?}: {reason}");
                    settled.push(CaptureSettled::Retrying {
                        id,
                        attempts,
                        error: reason,
                    });
                    wait = Some(wait.unwrap_or(Duration::ZERO).max(delay));
                }
            },
            Outcome::Retry { .. } => {}
        }
    }
    (settled, wait)
}

/// The call itself failed (a trap, a limit): count it against the first submission.
fn fail_head(
    job: &JobConfig,
    policy: &RetryPolicy,
    head: &PendingSubmission,
    error: String,
) -> (Vec<CaptureSettled>, Option<Duration>) {
    tracing::error!(job = %job.name, "capture call failed: {error}");
    let attempts = head.attempts + 1;
    match policy.next_step(attempts, None, jitter(head.id, attempts)) {
        NextStep::GiveUp => {
            let dead = CaptureSettled::Dead {
                id: head.id,
                attempts,
                decision: CaptureDecision {
                    rule: NOT_DECIDED.into(),
                    action: "skipped".into(),
                },
                status: None,
                error,
            };
            (vec![dead], None)
        }
        NextStep::RetryAfter(delay) => {
            let retrying = CaptureSettled::Retrying {
                id: head.id,
                attempts,
                error,
            };
            (vec![retrying], Some(delay))
        }
    }
}

/// A number in [0, 1) that differs between submissions and attempts.
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

    fn pending(id: i64, attempts: u32) -> PendingSubmission {
        PendingSubmission {
            id,
            submission_id: format!("quiz-{id}"),
            contact: format!("u{id}@x.io"),
            body: "{}".into(),
            attempts,
        }
    }

    fn result(outcome: Outcome) -> CaptureResult {
        CaptureResult {
            outcome,
            rule: "R10 subscribe-explicit-opt-in".into(),
            action: "subscribed".into(),
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
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let batch = [pending(1, 0), pending(2, 0), pending(3, 0), pending(4, 2)];
        let (settled, wait) = settle(
            &job(),
            &policy,
            &batch,
            vec![
                result(Outcome::Delivered),
                result(Outcome::DeadLetter {
                    status: Some(422),
                    reason: "bad".into(),
                }),
                result(retry(Some(1500), true)),
                result(retry(None, false)),
            ],
        );
        assert_eq!(wait, Some(Duration::from_millis(1500)));
        assert!(matches!(
            settled[0],
            CaptureSettled::Done {
                id: 1,
                attempts: 1,
                ..
            }
        ));
        assert!(matches!(
            settled[1],
            CaptureSettled::Dead {
                id: 2,
                status: Some(422),
                ..
            }
        ));
        assert!(matches!(
            settled[2],
            CaptureSettled::Retrying {
                id: 3,
                attempts: 1,
                ..
            }
        ));
        assert_eq!(settled.len(), 3, "a held-back submission is left alone");

        let (settled, _) = settle(
            &job(),
            &policy,
            &batch[3..],
            vec![result(retry(None, true))],
        );
        match &settled[0] {
            CaptureSettled::Dead {
                attempts,
                error,
                decision,
                ..
            } => {
                assert_eq!(*attempts, 3);
                assert!(error.starts_with("gave up after 3 attempts"), "{error}");
                assert_eq!(decision.action, "subscribed");
            }
            other => panic!("expected a dead letter, got {other:?}"),
        }
    }
}
