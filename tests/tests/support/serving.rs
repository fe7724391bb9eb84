//! A `serve` host running in the test process against the emulator, and waiting for its
//! queue to drain.

#![allow(dead_code)] // each test binary uses its own part

use super::harness::Harness;
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

    pub fn hook(&self, job: &str) -> String {
        format!("http://{}/hooks/{job}", self.addr)
    }

    /// Waits until `job` has nothing pending (or fails the test after `limit`).
    pub async fn drained(&self, job: &str, limit: Duration) -> QueueCounts {
        wait_drained(&self.store, job, limit).await
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Polls the store until the job's queue has no pending item; the queue is the source of
/// truth, so this waits on the condition itself rather than on a guess of how long it takes.
pub async fn wait_drained(store: &Db, job: &str, limit: Duration) -> QueueCounts {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let counts = store.queue_counts(job).unwrap();
        if counts.pending == 0 && counts.done + counts.dead > 0 {
            return counts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue of `{job}` did not drain: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The default (single-user) trigger payload.
pub fn default_payload(id: u64, email: &str, event: &str, slug: &str, extra: &str) -> String {
    let ts = if event == "change" {
        String::new()
    } else {
        format!(r#","{event}":"2026-11-22T10:00:00.123456789Z""#)
    };
    format!(
        r#"{{"id":"{id}","data":{{"email":"{email}"{extra},"segment_events":[{{"id":"42976a269a5e6b9d06c681b1c27292df","event":"{event}","slug":"{slug}"{ts}}}]}},"meta":{{"object":"user","subscription_id":"36e243f8fd8f4530bbd330fa7fb1a685","timestamp":"2026-11-22T10:00:01Z"}}}}"#
    )
}

/// The CloudEvents form of the same.
pub fn cloud_event(id: u64, email: &str, event: &str, slug: &str, extra: &str) -> String {
    let ts = if event == "change" {
        String::new()
    } else {
        format!(r#","{event}":"2026-11-22T10:00:00Z""#)
    };
    format!(
        r#"{{"specversion":"1.0","id":"{id}","source":"/work/abc","type":"com.lytics.audience.user.event","datacontenttype":"application/json","time":"2026-11-22T10:00:01Z","data":{{"email":"{email}"{extra},"segment_events":[{{"id":"42976a269a5e6b9d06c681b1c27292df","event":"{event}","slug":"{slug}"{ts}}}]}}}}"#
    )
}
