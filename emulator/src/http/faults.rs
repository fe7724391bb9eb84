//! Fault injection: answers the next requests with a rate limit or a server error,
//! so clients' retry and back-off paths can be tested without a real outage.

use std::collections::VecDeque;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::errors::ApiError;

/// A canned failure for the next `count` API requests, whatever their endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `429 Too Many Requests` with Cordial's rate-limit headers (cordial-api.md
    /// §1.5): `Retry-After`, `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining: 0` and
    /// `X-Rate-Limit-Reset`.
    RateLimited { retry_after_secs: u64, count: usize },
    /// The same 429 for every `nth` request (the others pass), `count` times in all: the
    /// shape of a real account's budget running out again and again under steady load.
    RateLimitedEvery {
        nth: usize,
        retry_after_secs: u64,
        count: usize,
    },
    /// A 5xx with the recorded `{"error":"an error has occurred"}` body. A status
    /// that is not a valid HTTP status is answered as 500.
    ServerError { status: u16, count: usize },
}

/// The `X-Rate-Limit-Limit` the emulator reports. Cordial publishes no default;
/// any positive number will do for clients, which must key off `Retry-After`.
const REPORTED_LIMIT: u64 = 100;

impl Fault {
    /// The HTTP status this fault answers with.
    pub fn status(&self) -> u16 {
        match self {
            Fault::RateLimited { .. } | Fault::RateLimitedEvery { .. } => 429,
            Fault::ServerError { status, .. } => *status,
        }
    }

    fn count(&self) -> usize {
        match self {
            Self::RateLimited { count, .. }
            | Self::RateLimitedEvery { count, .. }
            | Self::ServerError { count, .. } => *count,
        }
    }

    /// The HTTP answer for one request hit by this fault.
    pub fn response(&self) -> Response {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            }
            | Self::RateLimitedEvery {
                retry_after_secs, ..
            } => too_many_requests(*retry_after_secs, REPORTED_LIMIT),
            Self::ServerError { status, .. } => {
                let status =
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                ApiError::Server(status).into_response()
            }
        }
    }
}

/// Cordial's 429: its body and rate-limit headers, with `Retry-After` and
/// `X-Rate-Limit-Reset` of `retry_after_secs` and `X-Rate-Limit-Limit` of `limit`.
pub fn too_many_requests(retry_after_secs: u64, limit: u64) -> Response {
    let body = json!({
        "error": true,
        "errorKey": "TOO_MANY_REQUESTS",
        "message": "Too Many Requests",
    });
    let mut r = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    let h = r.headers_mut();
    h.insert("retry-after", HeaderValue::from(retry_after_secs));
    h.insert("x-rate-limit-limit", HeaderValue::from(limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(0u64));
    h.insert("x-rate-limit-reset", HeaderValue::from(retry_after_secs));
    r
}

/// Queued faults, each with how many requests it still has to answer.
#[derive(Debug, Default)]
pub struct FaultQueue(VecDeque<Queued>);

#[derive(Debug)]
struct Queued {
    fault: Fault,
    left: usize,
    /// Requests seen while this fault was first in line (for `RateLimitedEvery`).
    seen: usize,
}

impl FaultQueue {
    pub fn push(&mut self, fault: Fault) {
        let left = fault.count();
        if left > 0 {
            self.0.push_back(Queued {
                fault,
                left,
                seen: 0,
            });
        }
    }

    /// The fault the current request gets, if any, consuming one use of it.
    pub fn take(&mut self) -> Option<Fault> {
        let queued = self.0.front_mut()?;
        queued.seen += 1;
        if let Fault::RateLimitedEvery { nth, .. } = queued.fault
            && queued.seen % nth.max(1) != 0
        {
            return None;
        }
        let fault = queued.fault.clone();
        queued.left -= 1;
        if queued.left == 0 {
            self.0.pop_front();
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_served_in_order_and_count() {
        let mut q = FaultQueue::default();
        let rl = Fault::RateLimited {
            retry_after_secs: 3,
            count: 2,
        };
        let se = Fault::ServerError {
            status: 503,
            count: 1,
        };
        q.push(Fault::ServerError {
            status: 500,
            count: 0,
        });
        q.push(rl.clone());
        q.push(se.clone());
        assert_eq!(q.take(), Some(rl.clone()));
        assert_eq!(q.take(), Some(rl));
        assert_eq!(q.take(), Some(se));
        assert_eq!(q.take(), None);
    }

    #[test]
    fn an_every_nth_fault_answers_only_every_nth_request_then_lets_the_next_fault_in() {
        let mut q = FaultQueue::default();
        let every = Fault::RateLimitedEvery {
            nth: 3,
            retry_after_secs: 1,
            count: 2,
        };
        let se = Fault::ServerError {
            status: 500,
            count: 1,
        };
        q.push(every.clone());
        q.push(se.clone());
        let answers: Vec<Option<Fault>> = (0..8).map(|_| q.take()).collect();
        assert_eq!(
            answers,
            [
                None,
                None,
                Some(every.clone()),
                None,
                None,
                Some(every),
                Some(se),
                None
            ]
        );
    }

    #[test]
    fn rate_limit_answer_carries_the_headers() {
        let r = Fault::RateLimited {
            retry_after_secs: 7,
            count: 1,
        }
        .response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(r.headers()["x-rate-limit-remaining"], "0");
        assert_eq!(r.headers()["x-rate-limit-reset"], "7");
        assert!(r.headers().contains_key("x-rate-limit-limit"));
    }
}
