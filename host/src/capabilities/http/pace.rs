//! The pace of a job's requests to one Cordial endpoint, learnt from Cordial's 429s.
//!
//! Cordial limits requests per endpoint and does not publish the limits, so the host learns
//! them: until the first 429 an endpoint is not paced at all (only the in-flight cap
//! applies). A 429 sets the pace to 70% of the rate the job was actually sending at over the
//! last second (over the part of it it was sending in, at least a quarter of a second). That
//! multiplicative decrease happens once per burst: the other 429s of requests sent before
//! it, and those before a second's worth of requests has gone out at the new pace, do not
//! cut it again. While requests queue behind the pace, it rises again: by 5%
//! a second while below 90% of the rate that was last refused, then by 0.5% a second
//! (an additive-increase phase that probes the ceiling slowly, so 429s stay rare). A rise
//! needs requests waiting for the pace; an idle job does not inflate it.
//!
//! Cordial's latency is not used as a signal: a slow answer from Cordial says nothing
//! reliable about its rate limit, and the in-flight cap already bounds what latency costs.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The decrease on a 429: the new pace is this share of the rate just achieved.
const DECREASE: f64 = 0.7;
/// The rise per second while well below the last refused rate.
const FAST_RISE: f64 = 0.05;
/// The rise per second near the last refused rate.
const SLOW_RISE: f64 = 0.005;
/// Where the rise slows down, as a share of the last refused rate.
const NEAR: f64 = 0.9;
/// The slowest pace: one request a second.
const MIN_RATE: f64 = 1.0;
/// The window over which the achieved rate is measured.
const WINDOW: Duration = Duration::from_secs(1);
/// The shortest span an achieved rate is measured over: a burst sent all at once says
/// little about a rate.
const SHORTEST_SPAN: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct Pace {
    /// Requests per second; `None` while Cordial has not refused any.
    rate: Option<f64>,
    /// The rate the last 429 answered (what the job was sending at then).
    refused_at: f64,
    /// The earliest moment the next request may go.
    next_slot: Instant,
    /// When the pace was last lowered; answers to requests sent before then do not lower
    /// it again.
    lowered: Option<Instant>,
    /// Requests booked since the pace was last lowered.
    booked_since_lowered: u64,
    /// When the pace was last raised (or set).
    raised: Instant,
    /// When a request last had to wait for the pace.
    waited: Option<Instant>,
    /// When the requests of the last second were sent.
    sent: VecDeque<Instant>,
}

impl Pace {
    pub fn new(now: Instant) -> Pace {
        Pace {
            rate: None,
            refused_at: f64::INFINITY,
            next_slot: now,
            lowered: None,
            booked_since_lowered: 0,
            raised: now,
            waited: None,
            sent: VecDeque::new(),
        }
    }

    /// The requests per second allowed now, if Cordial has set a limit.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Books the next request: the moment it may be sent (`now` or later).
    pub fn book(&mut self, now: Instant) -> Instant {
        let slot = match self.rate {
            None => now,
            Some(rate) => {
                let slot = self.next_slot.max(now);
                self.next_slot = slot + Duration::from_secs_f64(1.0 / rate);
                if slot > now {
                    self.waited = Some(now);
                }
                slot
            }
        };
        while self.sent.front().is_some_and(|t| slot - *t > WINDOW) {
            self.sent.pop_front();
        }
        self.sent.push_back(slot);
        self.booked_since_lowered += 1;
        slot
    }

    /// A request was answered with success at `now`: the pace rises if requests have been
    /// waiting for it.
    pub fn succeeded(&mut self, now: Instant) {
        let Some(rate) = self.rate else { return };
        let busy = self.waited.is_some_and(|w| now - w < WINDOW);
        let seconds = (now - self.raised).as_secs_f64();
        self.raised = now;
        if !busy {
            return;
        }
        let rise = if rate < NEAR * self.refused_at {
            FAST_RISE
        } else {
            SLOW_RISE
        };
        self.rate = Some(rate * (1.0 + rise * seconds));
    }

    /// A request sent at `sent_at` was answered 429 at `now`: the pace falls below what was
    /// achieved, once per burst.
    pub fn refused(&mut self, sent_at: Instant, now: Instant) {
        let a_second_at_the_pace = self.rate.unwrap_or(0.0) * WINDOW.as_secs_f64();
        if self.lowered.is_some_and(|l| {
            sent_at < l || (self.booked_since_lowered as f64) < a_second_at_the_pace
        }) {
            return;
        }
        let recent: Vec<&Instant> = self
            .sent
            .iter()
            .filter(|t| now.saturating_duration_since(**t) <= WINDOW)
            .collect();
        let span = recent.first().map_or(WINDOW, |first| {
            now.saturating_duration_since(**first)
                .clamp(SHORTEST_SPAN, WINDOW)
        });
        let achieved = recent.len() as f64 / span.as_secs_f64();
        let current = self
            .rate
            .unwrap_or(f64::INFINITY)
            .min(achieved.max(MIN_RATE));
        self.refused_at = current;
        self.rate = Some((current * DECREASE).max(MIN_RATE));
        self.lowered = Some(now);
        self.booked_since_lowered = 0;
        self.raised = now;
        self.next_slot = self.next_slot.max(now);
    }
}

/// The endpoint a request counts against: its method and the path up to the resource
/// collection (`POST /v2/contacts`, `GET /v2/jobs`), so every contact's address shares one.
pub fn endpoint(method: &http::Method, path: &str) -> String {
    let collection: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).take(2).collect();
    format!("{method} /{}", collection.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_endpoint_is_its_method_and_collection() {
        assert_eq!(
            endpoint(&http::Method::POST, "/v2/contacts"),
            "POST /v2/contacts"
        );
        assert_eq!(
            endpoint(&http::Method::GET, "/v2/contacts/email:a%40b.c/lists"),
            "GET /v2/contacts"
        );
        assert_eq!(endpoint(&http::Method::GET, "/v2/jobs/42"), "GET /v2/jobs");
    }

    #[test]
    fn nothing_is_paced_until_cordial_refuses() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        for _ in 0..1000 {
            assert_eq!(pace.book(t0), t0);
        }
        pace.succeeded(t0 + ms(5));
        assert_eq!(pace.rate(), None);
    }

    #[test]
    fn a_429_paces_at_70_percent_of_the_achieved_rate_and_spaces_requests() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        // 200 requests over the last second.
        for i in 0..200 {
            pace.book(t0 + ms(i * 5));
        }
        let now = t0 + ms(1000);
        pace.refused(t0 + ms(995), now);
        let rate = pace.rate().unwrap();
        assert!((rate - 140.0).abs() < 1e-9, "{rate}");
        let first = pace.book(now);
        let second = pace.book(now);
        assert_eq!(second - first, Duration::from_secs_f64(1.0 / 140.0));
    }

    #[test]
    fn the_answers_of_one_burst_lower_the_pace_once() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        for _ in 0..100 {
            pace.book(t0);
        }
        pace.refused(t0, t0 + ms(50));
        let once = pace.rate().unwrap();
        // Answers to requests sent before the cut do not cut again.
        pace.refused(t0, t0 + ms(60));
        pace.refused(t0 + ms(40), t0 + ms(2_000));
        assert_eq!(pace.rate(), Some(once));
        // Nor do 429s before a second's worth of requests went out at the new pace.
        let mut now = t0 + ms(2_000);
        let mut sent = 0;
        while f64::from(sent) < once - 1.0 {
            now = pace.book(now);
            sent += 1;
            pace.refused(now, now + ms(1));
        }
        assert_eq!(pace.rate(), Some(once));
        now = pace.book(now);
        pace.refused(now, now + ms(1));
        assert!(pace.rate().unwrap() < once);
    }

    #[test]
    fn a_burst_sent_at_once_is_measured_over_a_quarter_second() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        for _ in 0..100 {
            pace.book(t0);
        }
        pace.refused(t0, t0 + ms(50));
        assert_eq!(pace.rate(), Some(100.0 / 0.25 * DECREASE));
    }

    #[test]
    fn the_pace_rises_only_while_requests_wait_for_it_and_slows_near_the_refused_rate() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        for i in 0..100 {
            pace.book(t0 + ms(i * 10));
        }
        pace.refused(t0 + ms(990), t0 + ms(1_000));
        assert_eq!(pace.rate(), Some(70.0));
        // Idle for ten seconds: no rise.
        pace.succeeded(t0 + ms(11_000));
        assert_eq!(pace.rate(), Some(70.0));
        // Busy: every booking waits behind the pace.
        let mut now = t0 + ms(11_000);
        while pace.rate().unwrap() < 90.0 {
            let slot = pace.book(now);
            now = slot;
            pace.succeeded(now);
            assert!(now - t0 < Duration::from_secs(20), "rose too slowly");
        }
        let fast_until = now;
        let at_90 = pace.rate().unwrap();
        for _ in 0..500 {
            let slot = pace.book(now);
            now = slot;
            pace.succeeded(now);
        }
        let per_second = (pace.rate().unwrap() / at_90 - 1.0) / (now - fast_until).as_secs_f64();
        assert!(
            per_second < 0.01,
            "near the refused rate the pace rises slowly: {per_second}"
        );
    }
}
