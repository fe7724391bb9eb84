//! A `serve` host running in the test process against the emulator, and waiting for a
//! job's queue to be worked off.

use crate::harness::Harness;
use cordial_host::db::{Db, QueueCounts};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;

pub struct Serving {
    pub addr: SocketAddr,
    pub store: Db,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Serving {
    pub async fn start(h: &Harness, jobs: &str) -> Serving {
        let config = h.config(jobs);
        let store = Db::open(&config.store).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(cordial_host::commands::serve::serve(
            config,
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        Serving {
            addr,
            store,
            stop: Some(stop),
            task,
        }
    }

    /// The webhook route of an export job.
    pub fn hook(&self, job: &str) -> String {
        format!("http://{}/hooks/{job}", self.addr)
    }

    /// The submission route of a capture job.
    pub fn capture(&self, job: &str) -> String {
        format!("http://{}/capture/{job}", self.addr)
    }

    /// The route Cordial pushes an Import Activity job's events to.
    pub fn events(&self, job: &str) -> String {
        format!("http://{}/cordial-events/{job}", self.addr)
    }

    /// Waits until `job` has decided something and has nothing pending.
    pub async fn drained(&self, job: &str, limit: Duration) -> QueueCounts {
        wait_settled(&self.store, job, 1, limit).await
    }

    /// Waits until `job` has decided at least `decided` items and has nothing pending.
    pub async fn settled(&self, job: &str, decided: u64, limit: Duration) -> QueueCounts {
        wait_settled(&self.store, job, decided, limit).await
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Polls the store until `job` has decided (delivered or dead-lettered) at least `decided`
/// items and has none pending, or fails the test after `limit`. The queue is the source of
/// truth, so this waits on the condition itself rather than on a guess of how long it takes.
pub async fn wait_settled(store: &Db, job: &str, decided: u64, limit: Duration) -> QueueCounts {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let counts = store.queue_counts(job).unwrap();
        if counts.pending == 0 && counts.done + counts.dead >= decided {
            return counts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue of `{job}` was not worked off: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until Cordial (the emulator) has recorded more than `before` requests — a delivery
/// call is under way — or fails the test after 30 s. The emulator records a request once
/// its latency has passed, so the call's first answer is on its way when this returns.
pub async fn wait_for_a_request(h: &Harness, before: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while h.emulator.handle().requests().len() == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery call began"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
