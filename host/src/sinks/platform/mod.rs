//! Forwarding streams to the platform's collect API (`[host.platform]`).
//!
//! Records go after they are committed to the store, page by page from a cursor per stream
//! ([`crate::db::Forwarding`]). A page is marked as out before it is sent; the cursor moves
//! in the transaction that records the platform's acknowledgement. So nothing is skipped, and
//! the only record the platform can see twice is one of a batch that was out when the host
//! stopped (or whose answer was lost to a 5xx or a dropped connection): such a batch is sent
//! again and counted (`resent_batches`, `resent_records`). The platform does not deduplicate
//! stream records; each `cordial_activity` record carries Cordial's event id
//! (`cr_system_event_id`), so a query can.
//!
//! `serve` forwards continuously ([`Forwarder::serve`]): woken when pushes are stored, and
//! every few seconds for what scheduled runs and other processes stored. `run` and `forward`
//! catch up once ([`Forwarder::catch_up`]). One process forwards a store at a time (the
//! forwarding lock beside it).

mod client;
mod config;
mod deliver;
mod patience;

pub use config::PlatformConfig;
pub use patience::{Patience, Stuck};

use crate::db::Db;
use client::Collect;
use deliver::StreamForwarder;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How often `serve` looks for records stored without waking it.
const POLL: Duration = Duration::from_secs(5);
/// How long `serve` leaves a stream the config stops from forwarding before trying again.
const BROKEN_PAUSE: Duration = Duration::from_secs(60);

pub struct Forwarder {
    config: PlatformConfig,
    collect: Collect,
    store: Db,
}

/// What one pass did for a stream.
#[derive(Debug)]
pub struct StreamPass {
    pub stream: String,
    pub sent: u64,
    pub stuck: Option<Stuck>,
}

impl Forwarder {
    /// A forwarder for `config`; its key is read now, so a missing key stops the start.
    pub fn new(config: &PlatformConfig, store: Db) -> anyhow::Result<Forwarder> {
        Ok(Forwarder {
            config: config.clone(),
            collect: Collect::new(config)?,
            store,
        })
    }

    /// The streams forwarded, each with its timestamp field.
    pub fn streams(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.config
            .streams
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_deref()))
    }

    /// Forwards every stream's records after its cursor, each stream as far as `patience`
    /// allows.
    pub async fn catch_up(&self, patience: &mut Patience) -> Vec<StreamPass> {
        let mut passes = Vec::new();
        for (stream, timestamp_field) in self.streams() {
            let forwarder = StreamForwarder {
                config: &self.config,
                collect: &self.collect,
                store: &self.store,
                stream,
                timestamp_field,
            };
            let (sent, stuck) = match forwarder.catch_up(patience).await {
                Ok(sent) => (sent, None),
                Err(stuck) => (0, Some(stuck)),
            };
            let stopped = matches!(stuck, Some(Stuck::Stopped));
            passes.push(StreamPass {
                stream: stream.to_owned(),
                sent,
                stuck,
            });
            if stopped {
                break;
            }
        }
        passes
    }

    /// [`Forwarder::catch_up`], unless a running `serve` holds the forwarding lock of the
    /// store at `store_path` (`None`): then that `serve` forwards, and two senders would
    /// send the same batches.
    pub async fn catch_up_unless_served(
        &self,
        store_path: &std::path::Path,
        patience: &mut Patience,
    ) -> anyhow::Result<Option<Vec<StreamPass>>> {
        let Some(_lock) = crate::db::FileLock::forwarding(store_path)? else {
            return Ok(None);
        };
        Ok(Some(self.catch_up(patience).await))
    }

    /// Forwards until `stop` turns true: at once when `wake` is notified, else every
    /// [`POLL`].
    pub async fn serve(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        loop {
            let mut patience = Patience::until_stopped(stop.clone());
            let mut pause = POLL;
            for pass in self.catch_up(&mut patience).await {
                let stream = pass.stream.as_str();
                match pass.stuck {
                    None if pass.sent > 0 => {
                        tracing::info!(stream, records = pass.sent, "forwarded to the platform")
                    }
                    None => {}
                    Some(Stuck::Stopped) => return,
                    Some(stuck) => {
                        tracing::error!(stream, "forwarding to the platform stopped: {stuck}");
                        pause = BROKEN_PAUSE;
                    }
                }
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

/// How long `run` keeps retrying a platform that says "later" before leaving the rest to the
/// next run (or to `serve`).
const AFTER_RUN_PATIENCE: Duration = Duration::from_secs(120);

/// After a `cordial-host run`: forwards what the store at `store_path` holds beyond the
/// streams' cursors, unless a `serve` forwards this store (it holds the lock and will). A
/// failure is logged, not fatal: the records are safe in the store and go on the next pass.
pub async fn after_run(platform: &PlatformConfig, store_path: &std::path::Path, store: &Db) {
    let forwarder = match Forwarder::new(platform, store.clone()) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!("not forwarding to the platform: {e:#}");
            return;
        }
    };
    let mut patience = Patience::at_most(AFTER_RUN_PATIENCE);
    let passes = match forwarder
        .catch_up_unless_served(store_path, &mut patience)
        .await
    {
        Ok(Some(passes)) => passes,
        Ok(None) => {
            tracing::info!("a running cordial-host serve forwards the streams to the platform");
            return;
        }
        Err(e) => {
            tracing::warn!("could not take the forwarding lock: {e:#}");
            return;
        }
    };
    for pass in passes {
        match pass.stuck {
            None => tracing::info!(
                stream = pass.stream,
                records = pass.sent,
                "forwarded to the platform"
            ),
            Some(stuck) => tracing::warn!(
                stream = pass.stream,
                "not all records reached the platform ({stuck}); the next run or `cordial-host forward` sends them"
            ),
        }
    }
}
