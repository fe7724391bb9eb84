//! `cordial-host serve <config>`: receives the platform's webhooks and experience
//! submissions and Cordial's activity pushes, works off the queue of every real-time and
//! capture job, keeps the bulk jobs' members, runs the scheduled jobs on their schedules, and
//! forwards the streams to the platform, until interrupted.

use crate::config::{HostConfig, JobConfig};
use crate::db::Db;
use crate::ingress::{self, Ingress};
use crate::queue::{ItemKind, Workers};
use crate::runtime::Runtime;
use crate::sinks::platform::Forwarder;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::Notify;

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

/// Serves until `shutdown` completes. Pending items stay in the store for the next start.
pub async fn serve(
    config: HostConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let _lock = crate::db::FileLock::delivery(&config.store)?;
    let store = Db::open(&config.store)?;
    // Pushes stored by the ingress wake the forwarder at once.
    let streams_written = Arc::new(Notify::new());
    let endpoints = ingress::endpoints(&config.jobs, &streams_written)?;
    let forwarder = match &config.platform {
        None => None,
        Some(platform) => Some((
            Forwarder::new(platform, store.clone())?,
            crate::db::FileLock::forwarding(&config.store)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "another cordial-host is forwarding {} to the platform; stop it first",
                    config.store.display()
                )
            })?,
        )),
    };
    let runtime = Arc::new(Runtime::new(config, store.clone())?);
    // One signal stops everything at once: intake takes no new connection, no schedule
    // fires, no worker starts another call; what is in flight then has the grace period.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let mut scheduled = Vec::new();
    for job in runtime
        .config()
        .jobs
        .iter()
        .filter(|j| crate::jobs::descriptor(j.kind).has(crate::jobs::Trigger::Schedule))
    {
        let schedule = crate::scheduler::schedule_of(job).map_err(|e| anyhow::anyhow!(e))?;
        let driver = tokio::spawn(crate::scheduler::drive(
            runtime.clone(),
            job.clone(),
            schedule,
            stopping.clone(),
        ));
        scheduled.push((job.name.clone(), driver));
    }
    let forwarding = forwarder.map(|(forwarder, lock)| {
        let (wake, stop) = (streams_written.clone(), stopping.clone());
        tokio::spawn(async move {
            forwarder.serve(wake, stop).await;
            drop(lock);
        })
    });
    let mut queues = Vec::new();
    for endpoint in endpoints.values() {
        check_settings(&runtime, &endpoint.job).await?;
        // A bulk job's members wait in the store for its scheduled run.
        if let Some(window) = &endpoint.window {
            queues.push(Workers::start(
                runtime.clone(),
                endpoint.job.clone(),
                window.clone(),
                endpoint.wake.clone(),
                endpoint.metrics.clone(),
                stopping.clone(),
            ));
        }
    }
    let readiness = ingress::health::Readiness {
        runtime: runtime.clone(),
        schedules: scheduled
            .iter()
            .map(|(job, task)| (job.clone(), task.abort_handle()))
            .collect(),
    };
    let app = ingress::router(Arc::new(Ingress {
        db: store,
        endpoints,
        body_deadline: runtime.config().intake_timeout,
        readiness,
    }));
    tracing::info!(
        "listening on http://{addr}/hooks/<job> (webhooks), http://{addr}/capture/<job> (experience submissions) and http://{addr}/cordial-events/<job> (Cordial's activity pushes)",
        addr = listener.local_addr()?
    );
    let intake_timeout = runtime.config().intake_timeout;
    ingress::listen::serve(listener, app, intake_timeout, stopping.clone()).await;
    // Intake has stopped: every request was answered, none is read any more.
    let grace = runtime.config().shutdown_grace;
    tracing::info!(
        "intake stopped; letting calls in flight finish (up to {}s)",
        grace.as_secs()
    );
    let deadline = tokio::time::Instant::now() + grace;
    for queue in queues {
        queue.stop(deadline).await;
    }
    let background = scheduled
        .into_iter()
        .chain(forwarding.map(|task| ("forwarding to the platform".to_owned(), task)));
    for (what, task) in background {
        let abort = task.abort_handle();
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            abort.abort();
            tracing::warn!(
                "{what}: still running at the shutdown deadline, stopped; it resumes from its last checkpoint on the next start"
            );
        }
    }
    report_pending(runtime.db(), &runtime.config().jobs).await;
    Ok(())
}

/// Says what the next start will find waiting, job by job.
async fn report_pending(store: &Db, jobs: &[JobConfig]) {
    for job in jobs.iter().filter(|j| ItemKind::of(j.kind).is_some()) {
        let name = job.name.clone();
        match store.blocking(move |s| s.queue_counts(&name)).await {
            Ok(counts) if counts.pending > 0 => tracing::info!(
                job = %job.name,
                "{} item(s) left pending for the next start",
                counts.pending
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(job = %job.name, "could not count what is pending: {e:#}"),
        }
    }
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
    tracing::info!("shutting down: no new requests; pending events and submissions stay queued");
}
