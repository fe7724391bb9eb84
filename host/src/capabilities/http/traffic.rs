//! Per job, across all its calls: a cap on requests in flight, a pace per Cordial endpoint
//! learnt from its 429s (see [`super::pace`]), and a gate that a 429 from Cordial closes
//! until its `Retry-After` has passed, so no call of the job sends anything new in the
//! meantime, whichever call was told.
//!
//! The order matters. A request first waits for an in-flight permit and only then looks at
//! the gate, so a request that queued behind the cap while a 429 arrived is held like any
//! other; and a 429 closes the gate before its permit is released, so nobody slips through
//! between the two. The only requests that can reach Cordial inside a `Retry-After` window
//! are those already holding a permit when the 429 arrived: at most `max_in_flight - 1`.

use super::pace::{Pace, endpoint};
use cordial_jobs::cordial::retry_after_from;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::SemaphorePermit;
use tokio::time::Instant;
use wasmtime_wasi_http::WasiBody;

pub struct JobTraffic {
    in_flight: tokio::sync::Semaphore,
    not_before: Mutex<Option<Instant>>,
    /// Per endpoint ([`endpoint`]), the pace learnt from its 429s.
    paces: Mutex<HashMap<String, Pace>>,
}

/// Leave to send one request: a permit under the cap, taken in its turn of the endpoint's
/// pace with the gate open.
pub struct Cleared<'a> {
    traffic: &'a JobTraffic,
    _permit: SemaphorePermit<'a>,
    endpoint: String,
    sent_at: Instant,
}

impl JobTraffic {
    pub fn new(max_in_flight: usize) -> JobTraffic {
        JobTraffic {
            in_flight: tokio::sync::Semaphore::new(max_in_flight),
            not_before: Mutex::new(None),
            paces: Mutex::default(),
        }
    }

    /// Sends a request of `method` to `path` through the cap, the endpoint's pace and the
    /// gate; a 429 closes the gate and slows the pace.
    pub async fn send<T>(
        &self,
        method: &http::Method,
        path: &str,
        sent: impl Future<Output = wasmtime_wasi_http::Result<(http::Response<WasiBody>, T)>>,
    ) -> wasmtime_wasi_http::Result<(http::Response<WasiBody>, T)> {
        let cleared = self.clear(endpoint(method, path)).await;
        let response = sent.await;
        if let Ok((r, _)) = &response {
            cleared.answered(r.status(), r.headers());
        }
        response
    }

    /// Waits for a permit, then, holding it, for the request's turn at its endpoint's pace
    /// and for the gate to be open.
    pub async fn clear(&self, endpoint: String) -> Cleared<'_> {
        let permit = self
            .in_flight
            .acquire()
            .await
            .expect("the in-flight semaphore is never closed");
        let slot = self
            .lock_paces()
            .entry(endpoint.clone())
            .or_insert_with(|| Pace::new(Instant::now()))
            .book(Instant::now());
        // Until Cordial has refused the endpoint its slot is now: no timer on that path.
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
        self.gate().await;
        Cleared {
            traffic: self,
            _permit: permit,
            endpoint,
            sent_at: Instant::now(),
        }
    }

    /// The requests per second `endpoint` is paced at, once Cordial has refused some.
    pub fn pace_of(&self, endpoint: &str) -> Option<f64> {
        self.lock_paces().get(endpoint).and_then(Pace::rate)
    }

    fn lock_paces(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pace>> {
        self.paces.lock().expect("pace mutex poisoned")
    }

    /// Waits until the gate is open.
    async fn gate(&self) {
        loop {
            let until = *self.not_before.lock().expect("gate mutex poisoned");
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Closes the gate for `delay` (keeping a later close that is already set).
    fn close_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut slot = self.not_before.lock().expect("gate mutex poisoned");
        if slot.is_none_or(|t| t < until) {
            *slot = Some(until);
        }
    }
}

impl Cleared<'_> {
    /// Records Cordial's answer, closing the gate and slowing the endpoint's pace on a 429
    /// while the permit is still held; the permit is released when this returns.
    pub fn answered(self, status: http::StatusCode, headers: &http::HeaderMap) {
        let now = Instant::now();
        let mut paces = self.traffic.lock_paces();
        let pace = paces.get_mut(&self.endpoint).expect("booked in clear");
        if status == http::StatusCode::TOO_MANY_REQUESTS {
            self.traffic.close_for(retry_after(headers));
            pace.refused(self.sent_at, now);
        } else if status.is_success() {
            pace.succeeded(now);
        }
    }
}

/// Cordial's wait after a 429 (the client's rule: `Retry-After`, else
/// `X-Rate-Limit-Reset`), or one second when it names none.
fn retry_after(headers: &http::HeaderMap) -> Duration {
    retry_after_from(|name| headers.get(name)?.to_str().ok()).unwrap_or(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_wait_comes_from_retry_after_then_reset_then_a_default() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), Duration::from_secs(1));
        h.insert("x-rate-limit-reset", "9".parse().unwrap());
        assert_eq!(retry_after(&h), Duration::from_secs(9));
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_closed_gate_holds_senders_until_it_opens() {
        let t = JobTraffic::new(4);
        t.close_for(Duration::from_millis(200));
        let start = Instant::now();
        t.gate().await;
        assert!(start.elapsed() >= Duration::from_millis(200));
        t.close_for(Duration::from_millis(100));
        t.close_for(Duration::from_millis(10));
        let start = Instant::now();
        t.gate().await;
        assert!(
            start.elapsed() >= Duration::from_millis(100),
            "a shorter close does not shorten the gate"
        );
    }

    /// More senders than the cap: one in flight gets a 429 while the rest wait for a permit.
    /// None of those waiting may be cleared before the `Retry-After` (1 s) has passed.
    #[tokio::test]
    async fn requests_queued_behind_the_cap_are_held_by_a_429_that_arrives_meanwhile() {
        let traffic = Arc::new(JobTraffic::new(2));
        let first = traffic.clear("POST /v2/contacts".into()).await;
        let second = traffic.clear("POST /v2/contacts".into()).await;
        let (cleared_tx, mut cleared_rx) = tokio::sync::mpsc::unbounded_channel();
        let queued: Vec<_> = (0..5)
            .map(|_| {
                let (traffic, cleared) = (traffic.clone(), cleared_tx.clone());
                tokio::spawn(async move {
                    let permit = traffic.clear("POST /v2/contacts".into()).await;
                    cleared.send(Instant::now()).unwrap();
                    permit.answered(http::StatusCode::OK, &http::HeaderMap::new());
                })
            })
            .collect();
        drop(cleared_tx);
        // Let every queued sender run until it waits for a permit.
        tokio::task::yield_now().await;
        let mut limited = http::HeaderMap::new();
        limited.insert("retry-after", "1".parse().unwrap());
        let limited_at = Instant::now();
        first.answered(http::StatusCode::TOO_MANY_REQUESTS, &limited);
        second.answered(http::StatusCode::OK, &http::HeaderMap::new());
        for q in queued {
            q.await.unwrap();
        }
        let mut early = 0;
        while let Some(at) = cleared_rx.recv().await {
            early += usize::from(at < limited_at + Duration::from_secs(1));
        }
        assert_eq!(
            early, 0,
            "a request queued for a permit went out inside the Retry-After window"
        );
    }
}
