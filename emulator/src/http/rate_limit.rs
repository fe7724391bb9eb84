//! A rate limit per endpoint, as Cordial enforces one (its limits are per endpoint and
//! unpublished): a token bucket for each method and route, so a client's pacing can be
//! measured against a known allowance.
//!
//! The endpoint is the method plus the path with its identifiers folded (`PUT
//! /v2/contacts/{}`): the pipeline runs before routing, where axum's `MatchedPath` is not
//! known yet, and every Cordial route has its identifiers at the even positions after the
//! collection (`/v2/contacts/{pk}/unsubscribe/{channel}`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Requests a second each endpoint accepts, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub requests_per_second: f64,
    /// The bucket's depth: requests accepted back to back after a quiet spell.
    pub burst: u32,
}

/// The buckets of every endpoint seen since the limit was set.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: HashMap::new(),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a token for a request to `endpoint` at `now`; when the bucket is empty, how
    /// long until the next token.
    pub fn take(&mut self, endpoint: String, now: Instant) -> Result<(), Duration> {
        let RateLimit {
            requests_per_second: rate,
            burst,
        } = self.limit;
        let depth = f64::from(burst.max(1));
        let bucket = self.buckets.entry(endpoint).or_insert(Bucket {
            tokens: depth,
            at: now,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(depth);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / rate.max(1e-9),
            ))
        }
    }
}

/// `POST /v2/contacts`, `PUT /v2/contacts/{}`, `PUT /v2/contacts/{}/unsubscribe/{}`.
pub fn endpoint(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| if i >= 2 && i % 2 == 0 { "{}" } else { s })
        .collect();
    format!("{method} /{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_A_SECOND: RateLimit = RateLimit {
        requests_per_second: 2.0,
        burst: 3,
    };

    #[test]
    fn identifiers_fold_into_one_endpoint() {
        assert_eq!(endpoint("POST", "/v2/contacts"), "POST /v2/contacts");
        assert_eq!(
            endpoint("PUT", "/v2/contacts/email:a@x.io"),
            endpoint("PUT", "/v2/contacts/5f1")
        );
        assert_eq!(
            endpoint("PUT", "/v2/contacts/5f1/unsubscribe/email"),
            "PUT /v2/contacts/{}/unsubscribe/{}"
        );
        assert_eq!(endpoint("GET", "/v2/jobs/7?x=1"), "GET /v2/jobs/{}");
    }

    #[test]
    fn a_full_bucket_takes_its_burst_then_says_when_the_next_token_comes() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(TWO_A_SECOND);
        for _ in 0..3 {
            assert_eq!(limiter.take("POST /v2/contacts".into(), t0), Ok(()));
        }
        assert_eq!(
            limiter.take("POST /v2/contacts".into(), t0),
            Err(Duration::from_millis(500))
        );
        let later = t0 + Duration::from_millis(200);
        let wait = limiter.take("POST /v2/contacts".into(), later).unwrap_err();
        assert!((wait.as_secs_f64() - 0.3).abs() < 1e-9, "{wait:?}");
        assert_eq!(
            limiter.take("POST /v2/contacts".into(), t0 + Duration::from_millis(500)),
            Ok(())
        );
    }

    #[test]
    fn endpoints_have_buckets_of_their_own_that_refill_to_their_depth() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(TWO_A_SECOND);
        for _ in 0..3 {
            limiter.take("POST /v2/contacts".into(), t0).unwrap();
        }
        assert_eq!(limiter.take("GET /v2/accountlists".into(), t0), Ok(()));
        let much_later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.take("POST /v2/contacts".into(), much_later), Ok(()));
        }
        assert!(
            limiter
                .take("POST /v2/contacts".into(), much_later)
                .is_err()
        );
    }
}
