//! `cordial-host serve <config>`: receives the platform's webhooks, delivers the events of
//! every real-time job, queues the bulk jobs' members, and runs the scheduled jobs on their
//! schedules, until interrupted.

use crate::capture;
use crate::config::{HostConfig, JobConfig};
use crate::delivery::Delivery;
use crate::runtime::Runtime;
use crate::store::Store;
use crate::webhook::{self, Receiver};
use cordial_jobs::settings::JobKind;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e} (change [host] listen)",
                config.listen
            )
        })?;
    serve(config, listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves until `shutdown` completes. Pending events stay in the store for the next start.
pub async fn serve(
    config: HostConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let _lock = crate::store::DeliveryLock::acquire(&config.store)?;
    let store = Store::open(&config.store)?;
    let endpoints = webhook::endpoints(&config.jobs)?;
    let runtime = Arc::new(Runtime::new(config, store.clone())?);
    let mut deliveries = Vec::new();
    let (stop_schedules, schedules_stopped) = tokio::sync::watch::channel(false);
    let mut scheduled = Vec::new();
    for job in runtime
        .config()
        .jobs
        .iter()
        .filter(|j| j.kind.is_scheduled())
    {
        let schedule = crate::scheduler::schedule_of(job).map_err(|e| anyhow::anyhow!(e))?;
        scheduled.push(tokio::spawn(crate::scheduler::drive(
            runtime.clone(),
            job.clone(),
            schedule,
            schedules_stopped.clone(),
        )));
    }
    for endpoint in endpoints.values() {
        check_settings(&runtime, &endpoint.job).await?;
        if endpoint.job.kind != JobKind::ExportRealtime {
            continue; // bulk members wait in the store for the job's scheduled run
        }
        deliveries.push(Delivery::start(
            runtime.clone(),
            endpoint.job.clone(),
            endpoint.wake.clone(),
            endpoint.metrics.clone(),
        ));
    }
    let captures = capture::endpoints(&runtime.config().jobs)?;
    let mut capture_workers = Vec::new();
    for endpoint in captures.values() {
        check_settings(&runtime, &endpoint.job).await?;
        capture_workers.push(capture::Worker::start(
            runtime.clone(),
            endpoint.job.clone(),
            endpoint.wake.clone(),
        ));
    }
    let capture_receiver = Arc::new(capture::Receiver {
        store: store.clone(),
        endpoints: captures,
    });
    let app = webhook::router(Arc::new(Receiver { store, endpoints }))
        .merge(capture::router(capture_receiver));
    tracing::info!(
        "listening on http://{addr}/hooks/<job> (webhooks) and http://{addr}/capture/<job> (experience submissions)",
        addr = listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_schedules.send(true);
    for task in scheduled {
        let _ = task.await;
    }
    for delivery in deliveries {
        delivery.stop().await;
    }
    for worker in capture_workers {
        worker.stop().await;
    }
    Ok(())
}

/// Wrong settings stop the start; a Cordial that cannot be reached right now does not:
/// events and submissions are still accepted and queued, and delivered once Cordial answers.
async fn check_settings(runtime: &Runtime, job: &JobConfig) -> anyhow::Result<()> {
    let problems = runtime.validate(job).await?;
    let (unchecked, wrong): (Vec<_>, Vec<_>) = problems.into_iter().partition(|p| p.transient);
    if !wrong.is_empty() {
        let lines: Vec<String> = wrong
            .iter()
            .map(|p| format!("  - {}: {}", p.field, p.message))
            .collect();
        anyhow::bail!(
            "job `{}` has settings problems:\n{}",
            job.name,
            lines.join("\n")
        );
    }
    for p in unchecked {
        tracing::warn!(job = %job.name, "starting without a full settings check: {}", p.message);
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down; undelivered events stay queued for the next start");
}
