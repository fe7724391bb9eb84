//! Reads pending events in arrival order and routes each contact to its worker.

use crate::store::{OutboxEvent, Store};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::mpsc::Sender;

/// How often the outbox is looked at when nobody woke the dispatcher (events added by
/// another process, such as `cordial-host backfill` or `dlq retry`).
const IDLE_POLL: Duration = Duration::from_millis(500);
const PAGE: u32 = 1000;

/// The worker that owns `contact`: stable for the life of the process.
pub fn worker_for(contact: &str, workers: usize) -> usize {
    let mut h = DefaultHasher::new();
    contact.hash(&mut h);
    (h.finish() % workers as u64) as usize
}

pub async fn run(store: Store, job: String, workers: Vec<Sender<OutboxEvent>>, wake: Arc<Notify>) {
    let mut last_id = 0;
    loop {
        let page = {
            let store = store.clone();
            let job = job.clone();
            tokio::task::spawn_blocking(move || store.pending_after(&job, last_id, PAGE)).await
        };
        let page = match page {
            Ok(Ok(page)) => page,
            Ok(Err(e)) => {
                tracing::error!(job = %job, "reading the outbox failed: {e:#}");
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            Err(_) => return,
        };
        let full = page.len() as u32 == PAGE;
        for event in page {
            last_id = event.id;
            let worker = worker_for(&event.contact, workers.len());
            if workers[worker].send(event).await.is_err() {
                return;
            }
        }
        if !full {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_always_goes_to_the_same_worker_and_contacts_spread_out() {
        assert_eq!(
            worker_for("a@example.com", 8),
            worker_for("a@example.com", 8)
        );
        let used: std::collections::HashSet<usize> = (0..200)
            .map(|i| worker_for(&format!("user{i}@example.com"), 8))
            .collect();
        assert_eq!(used.len(), 8);
    }
}
