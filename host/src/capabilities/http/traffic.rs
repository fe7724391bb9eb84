//! Per job, across all its calls: a cap on requests in flight, and a gate that a 429 from
//! Cordial closes until its `Retry-After` has passed, so no call of the job sends anything
//! new in the meantime, whichever call was told.

use cordial_jobs::cordial::retry_after_from;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use wasmtime_wasi_http::WasiBody;

pub struct JobTraffic {
    in_flight: tokio::sync::Semaphore,
    not_before: Mutex<Option<Instant>>,
}

impl JobTraffic {
    pub fn new(max_in_flight: usize) -> JobTraffic {
        JobTraffic {
            in_flight: tokio::sync::Semaphore::new(max_in_flight),
            not_before: Mutex::new(None),
        }
    }

    /// Sends through the gate and the cap, and closes the gate on a 429.
    pub async fn send<T>(
        &self,
        sent: impl Future<Output = wasmtime_wasi_http::Result<(http::Response<WasiBody>, T)>>,
    ) -> wasmtime_wasi_http::Result<(http::Response<WasiBody>, T)> {
        self.gate().await;
        let permit = self.in_flight.acquire().await;
        let response = sent.await;
        drop(permit);
        if let Ok((r, _)) = &response
            && r.status() == http::StatusCode::TOO_MANY_REQUESTS
        {
            self.close_for(retry_after(r.headers()));
        }
        response
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

/// Cordial's wait after a 429 (the client's rule: `Retry-After`, else
/// `X-Rate-Limit-Reset`), or one second when it names none.
fn retry_after(headers: &http::HeaderMap) -> Duration {
    retry_after_from(|name| headers.get(name)?.to_str().ok()).unwrap_or(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_comes_from_retry_after_then_reset_then_a_default() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), Duration::from_secs(1));
        h.insert("x-rate-limit-reset", "9".parse().unwrap());
        assert_eq!(retry_after(&h), Duration::from_secs(9));
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_gate_holds_senders_until_it_opens() {
        let t = JobTraffic::new(4);
        t.close_for(Duration::from_secs(2));
        let start = Instant::now();
        t.gate().await;
        assert!(start.elapsed() >= Duration::from_secs(2));
        t.close_for(Duration::from_secs(1));
        t.close_for(Duration::from_millis(10));
        let start = Instant::now();
        t.gate().await;
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "a shorter close does not shorten the gate"
        );
    }
}
