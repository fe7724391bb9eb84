//! A local stand-in for the platform's collect API (`POST /collect/json/{stream}`, `POST
//! /collect/bulk/{stream}`), as the Cordial emulator stands in for Cordial: the tests and the
//! demo forward streams to it over real HTTP and read back what it received. It checks what
//! the platform checks (the key, flat records, sizes), answers in the platform's envelope
//! (`message_count`, `rejected_count`), and fails on request (429 with `Retry-After`, 5xx,
//! latency, answers held back).

mod routes;
mod state;
mod validate;

pub use state::{Endpoint, Fault, RequestLog, StandinHandle};
pub use validate::MAX_RECORD_BYTES;

use std::net::SocketAddr;

/// Where the stand-in listens and the key it takes.
#[derive(Debug, Clone)]
pub struct StandinConfig {
    pub api_key: String,
    pub listen: SocketAddr,
    /// Added to every collect answer, like a WAN round trip.
    pub latency: std::time::Duration,
}

impl Default for StandinConfig {
    fn default() -> StandinConfig {
        StandinConfig {
            api_key: "platform-key".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: std::time::Duration::ZERO,
        }
    }
}

/// A stand-in serving in the background of the caller's runtime.
pub struct RunningStandin {
    addr: SocketAddr,
    handle: StandinHandle,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningStandin {
    /// `http://127.0.0.1:<port>`: the `base_url` (and `bulk_url`) to forward to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn handle(&self) -> StandinHandle {
        self.handle.clone()
    }

    pub async fn shutdown(self) {
        self.handle.hold_acks(false);
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds and serves in a background task.
pub async fn start(config: StandinConfig) -> anyhow::Result<RunningStandin> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let handle = StandinHandle::new();
    handle.set_latency(config.latency);
    let app = routes::router(config.api_key, handle.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(RunningStandin {
        addr,
        handle,
        stop,
        task,
    })
}

/// Serves until Ctrl-C, saying where on stdout.
pub async fn serve_forever(config: StandinConfig) -> anyhow::Result<()> {
    use std::io::Write;
    let running = start(config).await?;
    println!("platform stand-in listening on {}", running.base_url());
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
