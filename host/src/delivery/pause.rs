//! A job-wide "not before": a 429 from Cordial limits the whole account, so every worker of
//! the job waits, not just the one that was told.

use std::sync::{Arc, Mutex};
use tokio::time::Instant;

#[derive(Clone, Default)]
pub struct Pause(Arc<Mutex<Option<Instant>>>);

impl Pause {
    /// Holds the job until at least `until`.
    pub fn until(&self, until: Instant) {
        let mut slot = self.0.lock().expect("pause mutex poisoned");
        if slot.is_none_or(|current| current < until) {
            *slot = Some(until);
        }
    }

    /// Waits out the pause, if any.
    pub async fn wait(&self) {
        let until = *self.0.lock().expect("pause mutex poisoned");
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }
}
