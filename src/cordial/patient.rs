//! A transport for runs that can afford to wait: a 429 is waited out for Cordial's
//! `Retry-After` and the same request sent again. Scheduled jobs use it for their few,
//! sequential calls (an export request, a job poll, an import registration), where failing
//! the whole run over one rate limit would only move the wait to the next schedule slot.
//! Event-driven jobs do not: their host retries each item and keeps its order.
//!
//! The wait happens in the job, so it holds in any runtime; the bundled host's job-wide gate
//! holds the resent request as well, whichever is later.

use super::error::retry_after_from;
use super::http::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use std::time::Duration;

/// How many 429s in a row one request waits out before the run gives up on it.
pub const RATE_LIMIT_WAITS: u32 = 8;

/// The wait when a 429 names none.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// `T`, with every 429 waited out by `pause` up to [`RATE_LIMIT_WAITS`] times.
pub struct WaitOutRateLimits<T, P> {
    inner: T,
    pause: P,
}

impl<T: HttpTransport, P: FnMut(Duration)> WaitOutRateLimits<T, P> {
    pub fn new(inner: T, pause: P) -> Self {
        WaitOutRateLimits { inner, pause }
    }
}

impl<T: HttpTransport, P: FnMut(Duration)> HttpTransport for WaitOutRateLimits<T, P> {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut waits = 0;
        loop {
            let response = self.inner.send(request)?;
            if response.status != 429 || waits == RATE_LIMIT_WAITS {
                return Ok(response);
            }
            waits += 1;
            (self.pause)(retry_after_from(|name| response.header(name)).unwrap_or(DEFAULT_WAIT));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cordial::Method;

    /// Answers with the statuses given, in order, and counts the requests.
    struct Scripted(Vec<(u16, Option<&'static str>)>, usize);

    impl HttpTransport for Scripted {
        fn send(&mut self, _: &HttpRequest) -> Result<HttpResponse, TransportError> {
            let (status, retry_after) = self.0[self.1.min(self.0.len() - 1)];
            self.1 += 1;
            Ok(HttpResponse {
                status,
                headers: retry_after
                    .map(|s| vec![("Retry-After".to_owned(), s.to_owned())])
                    .unwrap_or_default(),
                body: Vec::new(),
            })
        }
    }

    fn get() -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: "http://cordial.test/v2/jobs/1".into(),
            headers: Vec::new(),
            body: None,
        }
    }

    #[test]
    fn each_429_is_waited_out_for_its_retry_after_then_the_request_is_sent_again() {
        let mut paused = Vec::new();
        let script = Scripted(vec![(429, Some("3")), (429, None), (200, None)], 0);
        let mut t = WaitOutRateLimits::new(script, |d| paused.push(d));
        assert_eq!(t.send(&get()).unwrap().status, 200);
        assert_eq!(t.inner.1, 3, "sent three times");
        drop(t);
        assert_eq!(paused, [Duration::from_secs(3), DEFAULT_WAIT]);
    }

    #[test]
    fn other_statuses_pass_straight_through() {
        let mut paused = Vec::new();
        let mut t = WaitOutRateLimits::new(Scripted(vec![(503, None)], 0), |d| paused.push(d));
        assert_eq!(t.send(&get()).unwrap().status, 503);
        drop(t);
        assert!(paused.is_empty());
    }

    #[test]
    fn a_rate_limit_that_never_lifts_is_returned_after_the_last_wait() {
        let mut waits = 0;
        let mut t = WaitOutRateLimits::new(Scripted(vec![(429, Some("1"))], 0), |_| waits += 1);
        assert_eq!(t.send(&get()).unwrap().status, 429);
        assert_eq!(t.inner.1 as u32, RATE_LIMIT_WAITS + 1);
        drop(t);
        assert_eq!(waits, RATE_LIMIT_WAITS);
    }
}
