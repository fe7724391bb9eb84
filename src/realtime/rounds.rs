//! Delivering a batch of contact upserts with many requests in flight while keeping each
//! contact's events in order.
//!
//! The batch is worked off in rounds: each round sends the next event of every contact at
//! once (with [`HttpTransport::send_all`]). A contact whose event failed in a way that may
//! pass later stops there (its later events are held back, so nothing overtakes); a rate
//! limit stops the whole batch, since Cordial limits the account, not the contact.

use super::Undeliverable;
use crate::cordial::{
    ContactUpsert, CordialError, HttpRequest, HttpTransport, requests, upsert_outcome,
};
use crate::job::Outcome;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Delivers `planned` (one entry per event, in arrival order) and returns one outcome per
/// event, in the same order.
pub fn deliver_in_rounds(
    base: &str,
    planned: &[Result<ContactUpsert, Undeliverable>],
    http: &mut dyn HttpTransport,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; planned.len()];
    let mut queues: Vec<VecDeque<usize>> = Vec::new();
    let mut queue_of: HashMap<&str, usize> = HashMap::new();
    for (i, plan) in planned.iter().enumerate() {
        match plan {
            Err(why) => outcomes[i] = Some(Outcome::dead_letter(why.0.clone())),
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
        for (&(q, i), response) in round.iter().zip(http.send_all(&batch)) {
            let result = response
                .map_err(CordialError::Transport)
                .and_then(|r| upsert_outcome(&r));
            outcomes[i] = Some(match result {
                Ok(_) => Outcome::Delivered,
                Err(e) => {
                    if e.is_retryable() {
                        if matches!(e, CordialError::RateLimited { .. }) {
                            halt = Some(e.retry_after());
                        }
                        hold_back(
                            &mut queues[q],
                            &mut outcomes,
                            e.retry_after(),
                            &format!("an earlier event of this contact failed: {e}"),
                        );
                    }
                    Outcome::from_cordial(&e)
                }
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
    outcomes: &mut [Option<Outcome>],
    after: Option<Duration>,
    reason: &str,
) {
    for i in queue.drain(..) {
        outcomes[i] = Some(Outcome::Retry {
            after,
            reason: format!("held back: {reason}"),
            attempted: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cordial::{HttpResponse, TransportError};

    /// The scripted answer to the `n`-th request for a contact: status and headers.
    type Answer = fn(&str, usize) -> (u16, &'static [(&'static str, &'static str)]);

    /// Answers by the contact's email from a script, and records the rounds.
    struct Scripted {
        answer: Answer,
        rounds: Vec<Vec<String>>,
        seen: HashMap<String, usize>,
    }

    /// The contact a request upserts.
    fn email_of(request: &HttpRequest) -> String {
        request.json_body().unwrap()["channels"]["email"]["address"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    impl HttpTransport for Scripted {
        fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
            let email = email_of(request);
            let n = self.seen.entry(email.clone()).or_default();
            *n += 1;
            let (status, headers) = (self.answer)(&email, *n);
            Ok(HttpResponse {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: br#"{"success":true,"cID":"x"}"#.to_vec(),
            })
        }

        fn send_all(
            &mut self,
            requests: &[HttpRequest],
        ) -> Vec<Result<HttpResponse, TransportError>> {
            self.rounds.push(requests.iter().map(email_of).collect());
            requests.iter().map(|r| self.send(r)).collect()
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
    ) -> (Vec<Outcome>, Vec<Vec<String>>) {
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
        assert_eq!(outcomes[0], Outcome::Delivered);
        assert_eq!(outcomes[2], Outcome::Delivered);
        assert!(
            matches!(&outcomes[3], Outcome::DeadLetter { status: None, reason } if reason == "no email")
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
            Outcome::Retry {
                attempted: true,
                ..
            }
        ));
        assert!(
            matches!(&outcomes[2], Outcome::Retry { attempted: false, reason, .. } if reason.starts_with("held back"))
        );
        assert_eq!(outcomes[3], Outcome::Delivered);
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
        assert_eq!(outcomes[0], Outcome::Delivered);
        assert!(
            matches!(outcomes[1], Outcome::Retry { after: Some(d), attempted: true, .. } if d == Duration::from_secs(3))
        );
        assert!(matches!(
            outcomes[2],
            Outcome::Retry {
                attempted: false,
                ..
            }
        ));
        assert_eq!(outcomes[3], Outcome::Delivered, "c was in the same round");
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
            Outcome::DeadLetter {
                status: Some(422),
                ..
            }
        ));
        assert_eq!(outcomes[1], Outcome::Delivered);
    }
}
