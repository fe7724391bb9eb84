//! What differs between the kinds of queued items: how a batch becomes the component's
//! input and which of its calls takes it, and whether a settled item leaves an audit row.
//! Everything else — order per contact, batching, retries, dead letters — is the queue's.

use super::{audience, submission};
use crate::config::JobConfig;
use crate::db::{CaptureDecision, DeadLetter, QueuedItem};
use crate::jobs::{Trigger, descriptor};
use crate::runtime::{CallError, CallStats, Runtime};
use cordial_jobs::job::Outcome;
use cordial_jobs::settings::JobKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// Audience events, delivered by a real-time export.
    AudienceEvents,
    /// Experience submissions, decided by a capture job; every decision is audited.
    Submissions,
}

/// What the job made of one item, and for a kind with an audit trail the decision behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    pub outcome: Outcome,
    pub decision: Option<CaptureDecision>,
}

/// One component call: a result per item, with the call's timings when it reports them.
pub type CallResults = (Vec<ItemResult>, Option<CallStats>);

/// The rule (and action) audited when the job could not decide: its call failed.
const NOT_DECIDED: &str = "not-decided";

impl ItemKind {
    /// The items a job of `kind` takes through the queue, if it takes any.
    pub fn of(kind: JobKind) -> Option<ItemKind> {
        let descriptor = descriptor(kind);
        if descriptor.has(Trigger::AudienceEvents) {
            Some(ItemKind::AudienceEvents)
        } else if descriptor.has(Trigger::Submissions) {
            Some(ItemKind::Submissions)
        } else {
            None
        }
    }

    /// Hands the batch to the job; the error says why the call itself failed.
    pub(super) async fn call(
        self,
        runtime: &Runtime,
        job: &JobConfig,
        batch: &[QueuedItem],
    ) -> Result<CallResults, CallError> {
        match self {
            ItemKind::AudienceEvents => {
                let events: Result<Vec<_>, _> = batch.iter().map(audience::event).collect();
                let Ok(events) = events else {
                    return Ok((unreadable(batch), None));
                };
                let (outcomes, stats) = runtime.deliver_measured(job, events).await?;
                let results = outcomes
                    .into_iter()
                    .map(|outcome| ItemResult {
                        outcome,
                        decision: None,
                    })
                    .collect();
                Ok((results, Some(stats)))
            }
            ItemKind::Submissions => {
                let submissions: Vec<_> = batch.iter().map(submission::submission).collect();
                let (results, stats) = runtime.submit_measured(job, submissions).await?;
                let results = results
                    .into_iter()
                    .map(|r| ItemResult {
                        outcome: r.outcome,
                        decision: Some(CaptureDecision {
                            rule: r.rule,
                            action: r.action,
                        }),
                    })
                    .collect();
                Ok((results, Some(stats)))
            }
        }
    }

    /// The decision audited for an item the job could not decide, for a kind with an audit.
    pub(super) fn undecided(self) -> Option<CaptureDecision> {
        match self {
            ItemKind::AudienceEvents => None,
            ItemKind::Submissions => Some(CaptureDecision {
                rule: NOT_DECIDED.into(),
                action: "skipped".into(),
            }),
        }
    }

    /// What a dead letter is, as its job's users know it: the event's `enter`, `exit` or
    /// `change`; the submission's id.
    pub fn label(self, dead: &DeadLetter) -> String {
        match self {
            ItemKind::AudienceEvents => audience::kind(&dead.item),
            ItemKind::Submissions => dead.name.clone(),
        }
    }
}

/// A batch holding an event that cannot be read (the store was damaged): that one is
/// dead-lettered, the others are held back to go again without it.
fn unreadable(batch: &[QueuedItem]) -> Vec<ItemResult> {
    batch
        .iter()
        .map(|queued| ItemResult {
            outcome: match audience::event(queued) {
                Err(reason) => Outcome::dead_letter(reason),
                Ok(_) => Outcome::Retry {
                    after: None,
                    reason: "held back behind an unreadable event".into(),
                    attempted: false,
                },
            },
            decision: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kinds_with_a_queue_are_read_from_the_descriptors() {
        assert_eq!(
            ItemKind::of(JobKind::ExportRealtime),
            Some(ItemKind::AudienceEvents)
        );
        assert_eq!(
            ItemKind::of(JobKind::ExperienceCapture),
            Some(ItemKind::Submissions)
        );
        assert_eq!(ItemKind::of(JobKind::ExportBulk), None);
        assert_eq!(ItemKind::of(JobKind::ImportActivity), None);
    }

    #[test]
    fn an_unreadable_event_is_dead_lettered_and_the_rest_held_back() {
        let queued = |id: i64, item: &str| QueuedItem {
            id,
            name: format!("vip-{id}"),
            key: format!("c{id}"),
            item: item.into(),
            attempts: 0,
        };
        let good = r#"{"audience":"vip","kind":"enter","user":{},"occurred_at":null}"#;
        let results = unreadable(&[queued(1, good), queued(2, "not json")]);
        assert!(matches!(
            results[0].outcome,
            Outcome::Retry {
                attempted: false,
                ..
            }
        ));
        assert!(matches!(
            &results[1].outcome,
            Outcome::DeadLetter { status: None, reason } if reason.contains("cannot be read")
        ));
    }
}
