//! Delivering a batch of contact upserts with many requests in flight while keeping each
//! contact's events in order.
//!
//! The batch is worked off in rounds: each round sends the next event of every contact at
//! once. A contact whose event failed in a way that may pass later stops there (its later
//! events are held back, so nothing overtakes); a rate limit stops the whole batch, since
//! Cordial limits the account, not the contact.

use super::Undeliverable;
use crate::cordial::{
    ContactUpsert, CordialError, HttpRequest, HttpResponse, TransportError, requests,
    upsert_outcome,
};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Sends requests side by side and answers in the same order.
pub trait SendAll {
    fn send_all(&mut self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>>;
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventOutcome {
    Delivered,
    /// Try again later. `attempted` is false for events held back behind a failure, which
    /// were never sent.
    Retry {
        after: Option<Duration>,
        reason: String,
        attempted: bool,
    },
    DeadLetter {
        status: Option<u16>,
        reason: String,
    },
}

/// Delivers `planned` (one entry per event, in arrival order) and returns one outcome per
/// event, in the same order.
pub fn deliver_in_rounds<S: SendAll>(
    base: &str,
    planned: &[Result<ContactUpsert, Undeliverable>],
    sender: &mut S,
) -> Vec<EventOutcome> {
    let mut outcomes: Vec<Option<EventOutcome>> = vec![None; planned.len()];
    let mut queues: Vec<VecDeque<usize>> = Vec::new();
    let mut queue_of: HashMap<&str, usize> = HashMap::new();
    for (i, plan) in planned.iter().enumerate() {
        match plan {
            Err(why) => {
                outcomes[i] = Some(EventOutcome::DeadLetter {
                    status: None,
                    reason: why.0.clone(),
                })
            }
            Ok(contact) => {
                let q = *queue_of.entry(contact.email.as_str()).or_insert_with(|| {
                    queues.push(VecDeque::new());
                    queues.len() - 1
                });
                queues[q].push_back(i);
            }
        }
    }
    loop {
        let round: Vec<(usize, usize)> = queues
            .iter_mut()
            .enumerate()
            .filter_map(|(q, queue)| queue.pop_front().map(|i| (q, i)))
            .collect();
        if round.is_empty() {
            break;
        }
        let batch: Vec<HttpRequest> = round
            .iter()
            .map(|&(_, i)| {
                requests::upsert_contact(base, planned[i].as_ref().expect("queued plans are Ok"))
            })
            .collect();
        let mut halt: Option<Option<Duration>> = None;
        for (&(q, i), response) in round.iter().zip(sender.send_all(&batch)) {
            let result = response
                .map_err(CordialError::Transport)
                .and_then(|r| upsert_outcome(&r));
            outcomes[i] = Some(match result {
                Ok(_) => EventOutcome::Delivered,
                Err(e) if e.is_retryable() => {
                    if matches!(e, CordialError::RateLimited { .. }) {
                        halt = Some(e.retry_after());
                    }
                    hold_back(
                        &mut queues[q],
                        &mut outcomes,
                        e.retry_after(),
                        &format!("an earlier event of this contact failed: {e}"),
                    );
                    EventOutcome::Retry {
                        after: e.retry_after(),
                        reason: e.to_string(),
                        attempted: true,
                    }
                }
                Err(e) => EventOutcome::DeadLetter {
                    status: e.status(),
                    reason: e.to_string(),
                },
            });
        }
        if let Some(after) = halt {
            for queue in &mut queues {
                hold_back(
                    queue,
                    &mut outcomes,
                    after,
                    "Cordial asked to slow down (429)",
                );
            }
            break;
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every event gets an outcome"))
        .collect()
}

/// Marks every event still queued as held back, unsent.
fn hold_back(
    queue: &mut VecDeque<usize>,
    outcomes: &mut [Option<EventOutcome>],
    after: Option<Duration>,
    reason: &str,
) {
    for i in queue.drain(..) {
        outcomes[i] = Some(EventOutcome::Retry {
            after,
            reason: format!("held back: {reason}"),
            attempted: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripted answer to the `n`-th request for a contact: status and headers.
    type Answer = fn(&str, usize) -> (u16, &'static [(&'static str, &'static str)]);

    /// Answers by the contact's email from a script, and records the rounds.
    struct Scripted {
        answer: Answer,
        rounds: Vec<Vec<String>>,
        seen: HashMap<String, usize>,
    }

    impl SendAll for Scripted {
        fn send_all(
            &mut self,
            requests: &[HttpRequest],
        ) -> Vec<Result<HttpResponse, TransportError>> {
            let emails: Vec<String> = requests
                .iter()
                .map(|r| {
                    r.json_body().unwrap()["channels"]["email"]["address"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            let answers = emails
                .iter()
                .map(|e| {
                    let n = self.seen.entry(e.clone()).or_default();
                    *n += 1;
                    let (status, headers) = (self.answer)(e, *n);
                    Ok(HttpResponse {
                        status,
                        headers: headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        body: br#"{"success":true,"cID":"x"}"#.to_vec(),
                    })
                })
                .collect();
            self.rounds.push(emails);
            answers
        }
    }

    fn plan(email: &str, member: bool) -> Result<ContactUpsert, Undeliverable> {
        let mut c = ContactUpsert::new(email);
        c.lists.push(("l".into(), member));
        Ok(c)
    }

    fn run(
        answer: Answer,
        planned: &[Result<ContactUpsert, Undeliverable>],
    ) -> (Vec<EventOutcome>, Vec<Vec<String>>) {
        let mut s = Scripted {
            answer,
            rounds: vec![],
            seen: HashMap::new(),
        };
        let outcomes = deliver_in_rounds("http://c", planned, &mut s);
        (outcomes, s.rounds)
    }

    #[test]
    fn each_round_sends_the_next_event_of_every_contact() {
        let planned = [
            plan("a@x.co", true),
            plan("b@x.co", true),
            plan("a@x.co", false),
            Err(Undeliverable("no email".into())),
            plan("c@x.co", true),
        ];
        let (outcomes, rounds) = run(|_, _| (200, &[]), &planned);
        assert_eq!(
            rounds,
            vec![vec!["a@x.co", "b@x.co", "c@x.co"], vec!["a@x.co"]]
        );
        assert_eq!(outcomes[0], EventOutcome::Delivered);
        assert_eq!(outcomes[2], EventOutcome::Delivered);
        assert!(
            matches!(&outcomes[3], EventOutcome::DeadLetter { status: None, reason } if reason == "no email")
        );
    }

    #[test]
    fn a_failing_contact_stops_but_the_others_go_on() {
        let planned = [
            plan("a@x.co", true),
            plan("b@x.co", true),
            plan("a@x.co", false),
            plan("b@x.co", false),
        ];
        let (outcomes, rounds) = run(
            |e, _| {
                if e == "a@x.co" {
                    (503, &[])
                } else {
                    (200, &[])
                }
            },
            &planned,
        );
        assert_eq!(rounds, vec![vec!["a@x.co", "b@x.co"], vec!["b@x.co"]]);
        assert!(matches!(
            outcomes[0],
            EventOutcome::Retry {
                attempted: true,
                ..
            }
        ));
        assert!(
            matches!(&outcomes[2], EventOutcome::Retry { attempted: false, reason, .. } if reason.starts_with("held back"))
        );
        assert_eq!(outcomes[3], EventOutcome::Delivered);
    }

    #[test]
    fn a_rate_limit_stops_the_whole_batch_with_cordials_delay() {
        let planned = [
            plan("a@x.co", true),
            plan("b@x.co", true),
            plan("b@x.co", false),
            plan("c@x.co", true),
        ];
        let (outcomes, rounds) = run(
            |e, _| {
                if e == "b@x.co" {
                    (429, &[("Retry-After", "3")])
                } else {
                    (200, &[])
                }
            },
            &planned,
        );
        assert_eq!(rounds.len(), 1, "nothing is sent after a 429");
        assert_eq!(outcomes[0], EventOutcome::Delivered);
        assert!(
            matches!(outcomes[1], EventOutcome::Retry { after: Some(d), attempted: true, .. } if d == Duration::from_secs(3))
        );
        assert!(matches!(
            outcomes[2],
            EventOutcome::Retry {
                attempted: false,
                ..
            }
        ));
        assert_eq!(
            outcomes[3],
            EventOutcome::Delivered,
            "c was in the same round"
        );
    }

    #[test]
    fn refusals_are_dead_letters_and_do_not_stop_the_contact() {
        let planned = [plan("a@x.co", true), plan("a@x.co", false)];
        let (outcomes, _) = run(
            |_, n| if n == 1 { (422, &[]) } else { (200, &[]) },
            &planned,
        );
        assert!(matches!(
            outcomes[0],
            EventOutcome::DeadLetter {
                status: Some(422),
                ..
            }
        ));
        assert_eq!(outcomes[1], EventOutcome::Delivered);
    }
}
