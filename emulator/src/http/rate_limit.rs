//! A rate limit per endpoint, as Cordial enforces one (its limits are per endpoint and
//! unpublished): a token bucket for each method and route, so a benchmark can measure a
//! client's pacing against a known allowance.
//!
//! The endpoint is the method plus the path with its identifiers folded into `{id}`
//! (`PUT /v2/contacts/{id}`), so that writes to different contacts share one bucket as
//! they share one route. The pipeline does run after routing (`Router::layer` wraps each
//! route), but axum's `MatchedPath` is behind its `matched-path` feature, which the
//! workspace's `default-features = false` leaves off; turning it on for this crate alone
//! would make the emulator and the host build axum twice. Folding needs nothing: every
//! Cordial route has its identifiers at the even positions after the collection
//! (`/v2/contacts/{pk}/unsubscribe/{channel}`, `/v2/accountlists/{id}/count`), and it also
//! gives unknown paths (answered 404) a bucket per shape rather than one per identifier.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Requests a second each endpoint accepts, and how many may come at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// The steady rate a bucket refills at. Zero, negative or NaN never refills (the
    /// burst is all there is); infinite never limits.
    pub requests_per_second: f64,
    /// The bucket's depth: requests accepted back to back after a quiet spell, and the
    /// `X-Rate-Limit-Limit` a refusal reports. Zero counts as one, since a bucket that
    /// can never hold a token would refuse every request for ever.
    pub burst: u32,
}

impl RateLimit {
    /// The bucket's depth: [`burst`](Self::burst), at least one.
    pub fn depth(&self) -> u32 {
        self.burst.max(1)
    }
}

/// The buckets of every endpoint seen since the limit was set. A bucket is made full
/// on its endpoint's first request, so an endpoint never called costs nothing.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Tokens at `at`, fractional: refill is continuous, not a tick a second.
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
    /// long until its next token. A refused request takes nothing, so a client that
    /// retries too early is not pushed further back: the refusals say when to come back
    /// and the accepted requests converge on the rate.
    pub fn take(&mut self, endpoint: String, now: Instant) -> Result<(), Duration> {
        let depth = f64::from(self.limit.depth());
        // `f64::max` drops a NaN, so a NaN rate is no refill rather than a NaN bucket.
        let rate = self.limit.requests_per_second.max(0.0);
        let bucket = self.buckets.entry(endpoint).or_insert(Bucket {
            tokens: depth,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        // An infinite rate with no time elapsed is NaN, which `min` turns into a full bucket.
        bucket.tokens = (bucket.tokens + elapsed * rate).min(depth);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            // A rate of zero never refills: the wait is as long as a Duration goes.
            Err(Duration::try_from_secs_f64((1.0 - bucket.tokens) / rate).unwrap_or(Duration::MAX))
        }
    }
}

/// The bucket key of a request: `POST /v2/contacts`, `PUT /v2/contacts/{id}`,
/// `PUT /v2/contacts/{id}/unsubscribe/{id}`; the query string is not part of it.
pub fn endpoint(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| if i >= 2 && i % 2 == 0 { "{id}" } else { s })
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
    const UPSERT: &str = "POST /v2/contacts";

    #[test]
    fn identifiers_fold_into_one_endpoint() {
        assert_eq!(endpoint("POST", "/v2/contacts"), "POST /v2/contacts");
        assert_eq!(
            endpoint("PUT", "/v2/contacts/email:a@x.io"),
            "PUT /v2/contacts/{id}"
        );
        assert_eq!(
            endpoint("PUT", "/v2/contacts/5f1/unsubscribe/email"),
            "PUT /v2/contacts/{id}/unsubscribe/{id}"
        );
        assert_eq!(
            endpoint("GET", "/v2/accountlists/news/count"),
            "GET /v2/accountlists/{id}/count"
        );
        assert_eq!(endpoint("GET", "/v2/jobs/7?x=1"), "GET /v2/jobs/{id}");
        assert_ne!(
            endpoint("GET", "/v2/jobs/7"),
            endpoint("DELETE", "/v2/jobs/7")
        );
    }

    #[test]
    fn a_bucket_starts_full_and_takes_its_burst_at_once() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(TWO_A_SECOND);
        for _ in 0..3 {
            assert_eq!(limiter.take(UPSERT.into(), t0), Ok(()));
        }
        assert!(limiter.take(UPSERT.into(), t0).is_err());
    }

    #[test]
    fn an_empty_bucket_says_when_its_next_token_comes_and_a_refusal_takes_nothing() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(TWO_A_SECOND);
        for _ in 0..3 {
            limiter.take(UPSERT.into(), t0).unwrap();
        }
        assert_eq!(
            limiter.take(UPSERT.into(), t0),
            Err(Duration::from_millis(500))
        );
        let wait = limiter
            .take(UPSERT.into(), t0 + Duration::from_millis(200))
            .unwrap_err();
        assert!((wait.as_secs_f64() - 0.3).abs() < 1e-9, "{wait:?}");
        // The refusals at 0 and 200 ms cost nothing: the token is there at 500 ms.
        assert_eq!(
            limiter.take(UPSERT.into(), t0 + Duration::from_millis(500)),
            Ok(())
        );
        assert!(
            limiter
                .take(UPSERT.into(), t0 + Duration::from_millis(500))
                .is_err()
        );
    }

    #[test]
    fn a_bucket_refills_at_the_rate_up_to_its_depth_only() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(TWO_A_SECOND);
        for _ in 0..3 {
            limiter.take(UPSERT.into(), t0).unwrap();
        }
        // One second at two a second: two tokens.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.take(UPSERT.into(), t1), Ok(()));
        assert_eq!(limiter.take(UPSERT.into(), t1), Ok(()));
        assert!(limiter.take(UPSERT.into(), t1).is_err());
        // A minute of quiet fills it to three, not to 120.
        let later = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.take(UPSERT.into(), later), Ok(()));
        }
        assert!(limiter.take(UPSERT.into(), later).is_err());
    }

    #[test]
    fn endpoints_have_buckets_of_their_own() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(TWO_A_SECOND);
        for _ in 0..3 {
            limiter.take(UPSERT.into(), t0).unwrap();
        }
        assert!(limiter.take(UPSERT.into(), t0).is_err());
        for _ in 0..3 {
            assert_eq!(limiter.take("GET /v2/accountlists".into(), t0), Ok(()));
        }
        assert_eq!(limiter.take("GET /v2/contacts".into(), t0), Ok(()));
    }

    #[test]
    fn odd_limits_neither_panic_nor_lock_out_for_ever() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(3600);
        let mut never_refills = RateLimiter::new(RateLimit {
            requests_per_second: 0.0,
            burst: 1,
        });
        assert_eq!(never_refills.take(UPSERT.into(), t0), Ok(()));
        assert_eq!(never_refills.take(UPSERT.into(), later), Err(Duration::MAX));
        let mut nan = RateLimiter::new(RateLimit {
            requests_per_second: f64::NAN,
            burst: 1,
        });
        assert_eq!(nan.take(UPSERT.into(), t0), Ok(()));
        assert_eq!(nan.take(UPSERT.into(), later), Err(Duration::MAX));
        let mut unlimited = RateLimiter::new(RateLimit {
            requests_per_second: f64::INFINITY,
            burst: 1,
        });
        for _ in 0..100 {
            assert_eq!(unlimited.take(UPSERT.into(), t0), Ok(()));
        }
        let mut no_burst = RateLimiter::new(RateLimit {
            requests_per_second: 1.0,
            burst: 0,
        });
        assert_eq!(no_burst.take(UPSERT.into(), t0), Ok(()));
        assert_eq!(
            no_burst.take(UPSERT.into(), t0),
            Err(Duration::from_secs(1))
        );
    }
}
