//! How long forwarding waits out a platform that says "later" (429, 5xx, unreachable): the
//! server waits until it is stopped; a one-off command for a bounded time, then leaves the
//! rest for the next run.

use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Why a pass stopped before the stream was caught up.
#[derive(Debug)]
pub enum Stuck {
    /// The host is shutting down.
    Stopped,
    /// The platform kept saying "later" for longer than this pass may wait.
    GaveUp(String),
    /// No retry helps until the config is fixed.
    Broken(String),
    /// The store failed.
    Store(anyhow::Error),
}

impl From<anyhow::Error> for Stuck {
    fn from(e: anyhow::Error) -> Stuck {
        Stuck::Store(e)
    }
}

impl std::fmt::Display for Stuck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stuck::Stopped => f.write_str("the host is stopping"),
            Stuck::GaveUp(why) => write!(f, "gave up for now: {why}"),
            Stuck::Broken(why) => f.write_str(why),
            Stuck::Store(e) => write!(f, "the store failed: {e:#}"),
        }
    }
}

pub struct Patience {
    deadline: Option<Instant>,
    stop: Option<watch::Receiver<bool>>,
    backoff: Duration,
}

/// The first wait when the platform gives no `Retry-After`; it doubles up to [`LONGEST`].
const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(60);

impl Patience {
    /// Waits as long as it takes, until `stop` turns true.
    pub fn until_stopped(stop: watch::Receiver<bool>) -> Patience {
        Patience {
            deadline: None,
            stop: Some(stop),
            backoff: FIRST,
        }
    }

    /// Waits at most `limit` in all.
    pub fn at_most(limit: Duration) -> Patience {
        Patience {
            deadline: Some(Instant::now() + limit),
            stop: None,
            backoff: FIRST,
        }
    }

    /// The platform took a batch: the next trouble starts from a short wait again.
    pub fn succeeded(&mut self) {
        self.backoff = FIRST;
    }

    /// Waits `after` (the platform's `Retry-After`) or the next backoff step, unless that
    /// would pass the deadline (→ [`Stuck::GaveUp`] with `why`) or the host stops first.
    pub async fn wait(&mut self, after: Option<Duration>, why: &str) -> Result<(), Stuck> {
        let wait = after.unwrap_or(self.backoff);
        self.backoff = (self.backoff * 2).min(LONGEST);
        if self.deadline.is_some_and(|d| Instant::now() + wait > d) {
            return Err(Stuck::GaveUp(why.to_owned()));
        }
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "platform: {why}; retrying"
        );
        match &mut self.stop {
            None => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Some(stop) => tokio::select! {
                _ = tokio::time::sleep(wait) => Ok(()),
                _ = stop.wait_for(|s| *s) => Err(Stuck::Stopped),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_double_and_a_bounded_pass_gives_up_at_its_deadline() {
        let mut p = Patience::at_most(Duration::from_secs(10));
        let started = Instant::now();
        p.wait(None, "x").await.unwrap();
        p.wait(None, "x").await.unwrap();
        p.wait(None, "x").await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(1 + 2 + 4));
        assert!(matches!(p.wait(None, "busy").await, Err(Stuck::GaveUp(w)) if w == "busy"));
        p.succeeded();
        p.wait(Some(Duration::from_secs(2)), "x").await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(9));
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_waits_until_it_is_stopped() {
        let (tx, rx) = watch::channel(false);
        let mut p = Patience::until_stopped(rx);
        p.wait(Some(Duration::from_secs(3600)), "x").await.unwrap();
        tx.send(true).unwrap();
        assert!(matches!(
            p.wait(Some(Duration::from_secs(3600)), "x").await,
            Err(Stuck::Stopped)
        ));
    }
}
