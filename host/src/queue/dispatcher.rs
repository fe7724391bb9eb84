//! Reads a job's pending items in arrival order and routes each key (contact) to its worker.

use crate::db::{Db, QueuedItem};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::{Notify, watch};

/// How often the queue is looked at when nobody woke the dispatcher (items added by
/// another process, such as `cordial-host backfill` or `dlq retry`).
const IDLE_POLL: Duration = Duration::from_millis(500);
const PAGE: u32 = 1000;

/// The worker that owns `key`: stable for the life of the process.
pub fn worker_for(key: &str, workers: usize) -> usize {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % workers as u64) as usize
}

/// Routes items until `stop` is set (the workers' senders then drop with it).
pub async fn run(
    db: Db,
    job: String,
    workers: Vec<Sender<QueuedItem>>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_id = 0;
    while !*stop.borrow() {
        let name = job.clone();
        let page = match db
            .blocking(move |s| s.pending_after(&name, last_id, PAGE))
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(job = %job, "reading the queue failed: {e:#}");
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
        };
        let full = page.len() as u32 == PAGE;
        for item in page {
            last_id = item.id;
            let worker = worker_for(&item.key, workers.len());
            tokio::select! {
                sent = workers[worker].send(item) => if sent.is_err() { return },
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        if !full {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_always_goes_to_the_same_worker_and_keys_spread_out() {
        assert_eq!(
            worker_for("a@example.com", 8),
            worker_for("a@example.com", 8)
        );
        let used: std::collections::HashSet<usize> = (0..200)
            .map(|i| worker_for(&format!("user{i}@example.com"), 8))
            .collect();
        assert_eq!(used.len(), 8);
    }

    #[tokio::test]
    async fn each_worker_gets_the_items_of_its_keys_in_arrival_order() {
        let db = Db::in_memory().unwrap();
        let keys = ["a", "b", "a", "c", "b", "a", "d", "c"];
        let items: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| crate::queue::submission::item(*k, i.to_string()))
            .collect();
        db.enqueue("j", &items).unwrap();
        let (senders, mut inboxes): (Vec<_>, Vec<_>) =
            (0..3).map(|_| tokio::sync::mpsc::channel(16)).unzip();
        let (stop, stopping) = watch::channel(false);
        let dispatcher = tokio::spawn(run(db, "j".into(), senders, Arc::default(), stopping));
        for (w, inbox) in inboxes.iter_mut().enumerate() {
            let expected: Vec<String> = (0..keys.len())
                .filter(|&i| worker_for(keys[i], 3) == w)
                .map(|i| i.to_string())
                .collect();
            let mut got = Vec::new();
            for _ in &expected {
                let item = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
                    .await
                    .expect("the dispatcher hands every pending item over")
                    .unwrap();
                got.push(item.item);
            }
            assert_eq!(got, expected, "worker {w}");
        }
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), dispatcher)
            .await
            .expect("the dispatcher ends once told to stop")
            .unwrap();
    }
}
