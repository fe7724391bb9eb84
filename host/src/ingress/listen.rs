//! Accepting connections for the ingress with a deadline on what a client sends.
//!
//! `axum::serve` builds hyper's connections without a timer, so hyper's own header read
//! timeout never fires there: a client that opens a socket and trickles its headers a byte
//! at a time (slowloris), or sends nothing at all, holds a connection and its task for
//! ever. Here every HTTP/1 connection gets hyper's `header_read_timeout` (the request line
//! and headers must arrive within the intake timeout, counted from the moment the
//! connection waits for a request, idle keep-alive included); the body has its own deadline
//! in [`super::admit`]. On stop, the listener closes and each connection finishes the
//! request it is answering, as `axum::serve`'s graceful shutdown does.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `app` on `listener` until `stop` turns true, then waits for the requests being
/// answered.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    intake_timeout: Duration,
    stop: watch::Receiver<bool>,
) {
    // Each connection holds a receiver; `closed()` resolves once every one has ended.
    let (open, _) = watch::channel(());
    let mut stopping = std::pin::pin!(stopped(stop.clone()));
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of file descriptors, typically: wait for some to be freed.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stopping => break,
        };
        let _ = socket.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let (stop, held) = (stop.clone(), open.subscribe());
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(intake_timeout);
            let connection = builder.serve_connection(TokioIo::new(socket), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopped(stop) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(held);
        });
    }
    drop(listener);
    open.closed().await;
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
