//! A local, in-memory fake of Cordial's REST API v2.
//!
//! Tests and the zero-account demo talk to it over real HTTP exactly as they
//! would to `api.cordial.io`: Basic auth with the key as user name, Cordial's
//! error envelopes, `+0000` timestamps, upserting contacts, lists and the
//! attribute schema. The behaviour follows `cordial-api.md` §9 and the v2
//! Swagger; where they disagree the choice is noted at the code that makes it.
//!
//! Endpoints, all under `/v2` and behind the same latency, fault, recording and
//! authentication pipeline:
//! - `GET /v2/health`;
//! - `/v2/contacts` (upsert, read, page, update, delete, unsubscribe);
//! - `/v2/accountlists` (with `/count` and `/clear`) and `/v2/accountcontactattributes`;
//! - `POST /v2/contactimports`: a contact import from an SFTP server. The request is
//!   checked at once (406 with Cordial's messages) and answered 201 `{"jobId"}`;
//!   a background job then really logs in to the named server (password, or a key
//!   from [`EmulatorConfig::saved_sftp_keys`] named by `savedKey`), reads the CSV
//!   file and upserts its rows with the contacts API's rules plus the import's
//!   own (blank status means `subscribed`, sticky unsubscribe, `subscribe:false`,
//!   `nullMarker`, `lists.addTo`/`removeFrom`, `strategy`);
//! - `POST /v2/contactactivityexport` (singular, as on Cordial): an export of the
//!   account's contact activity to an SFTP server. The request is checked at once
//!   (400 for the destination, 406 for the export's settings, with Cordial's
//!   messages) and answered 200 `{"jobId"}`; a background job (`ExportEvents`)
//!   then selects the events of `[selected_timeframe_start, selected_timeframe_end)`
//!   with the selected actions and writes them, as JSON lines, CSV or TXT, split by
//!   `limitRecordsPerFile` and gzipped with `compress`, into `destination.path` on
//!   the named server, logging in as imports do. The files it wrote are listed in
//!   the job's `metadata.fileNames`. The events come from
//!   [`EmulatorConfig::events`], [`EmulatorHandle::add_events`] and
//!   [`EmulatorHandle::generate_events`] (synthetic, deterministic, a million in
//!   well under a second);
//! - `GET /v2/jobs/{id}` and `GET /v2/jobs`: the import and export jobs, `Pending` →
//!   `Processing` → `Done` (with `result` counts for imports, files for exports) or
//!   `Failed` (with `message`).
//!
//! Every endpoint can be put under a rate limit ([`EmulatorConfig::rate_limit`],
//! [`EmulatorHandle::set_rate_limit`]): a token bucket per method and route, refusing
//! with Cordial's 429 and the seconds until the next token, so that a client's pacing can
//! be checked against a known allowance.
//!
//! Tests steer and inspect jobs through [`EmulatorHandle::hold_jobs`],
//! [`EmulatorHandle::wait_for_job`], [`EmulatorHandle::import_jobs`] (which also
//! gives each rejected row's reason), [`EmulatorHandle::export_jobs`] and
//! [`EmulatorHandle::fail_next_export`]; [`import_file`] is the file parser on its own.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use cordial_emulator::{EmulatorConfig, Seed, start};
//! let emulator = start(EmulatorConfig { seed: Seed::demo(), ..Default::default() }).await?;
//! println!("{}/v2/contacts", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```

// The folders depend on each other one way only, from the top down:
// `routes` → `imports`, `exports` → `account`, `jobs` → `http` → `model`,
// with `config` and `time` below them all (but that `config` names `RateLimit`, a plain
// value defined beside the buckets it sets, as one of its settings).
mod account;
mod config;
mod exports;
mod http;
mod imports;
mod jobs;
mod model;
mod routes;
mod time;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{AttributeSeed, AttributeType, EmulatorConfig, Seed};
pub use http::faults::Fault;
pub use http::handle::EmulatorHandle;
pub use http::rate_limit::RateLimit;
pub use http::recording::RecordedRequest;
pub use imports::file as import_file;

/// An emulator serving on a local port. Dropping it without [`shutdown`]
/// leaves the server running until the runtime stops.
///
/// [`shutdown`]: RunningEmulator::shutdown
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    handle: EmulatorHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningEmulator {
    /// `http://IP:PORT`, without a trailing slash or `/v2`: the same shape as the
    /// real base `https://api.cordial.io`, so clients append `/v2/...` to either.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address actually bound (useful when the configured port was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Inspection and fault injection.
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("emulator server ended with an error: {e}"),
            Err(e) => tracing::warn!("emulator server task failed: {e}"),
        }
    }
}

/// Binds `config.addr` and serves the API in a background task.
pub async fn start(config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding the Cordial emulator to {}", config.addr))?;
    let addr = listener.local_addr()?;
    let app = http::app::Shared::new(&config).map_err(anyhow::Error::msg)?;
    let router = routes::router(app.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!("Cordial emulator listening on http://{addr}");
    Ok(RunningEmulator {
        addr,
        handle: EmulatorHandle { app },
        stop,
        task,
    })
}

/// Starts the emulator, prints its base URL and API key, and serves until ctrl-c.
pub async fn serve_forever(config: EmulatorConfig) -> anyhow::Result<()> {
    let api_key = config.api_key.clone();
    let emulator = start(config).await?;
    println!("Cordial emulator: {}", emulator.base_url());
    println!("API key (Basic auth user name, empty password): {api_key}");
    println!(
        "Try: curl -u '{api_key}:' {}/v2/health",
        emulator.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    emulator.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handle is shared across test tasks and the host's threads.
    #[test]
    fn handle_is_clone_send_sync() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<EmulatorHandle>();
    }

    #[tokio::test]
    async fn base_url_has_no_trailing_slash_or_version() {
        let emulator = start(EmulatorConfig::default()).await.unwrap();
        let url = emulator.base_url();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(!url.ends_with('/') && !url.contains("/v2"), "{url}");
        assert_ne!(emulator.local_addr().port(), 0);
        emulator.shutdown().await;
    }
}
