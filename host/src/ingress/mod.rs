//! The one way in for what the platform sends, on `cordial-host serve`'s port:
//! `POST /hooks/<job>` (Audience Trigger webhooks, for the audience exports),
//! `POST /capture/<job>` (experience submissions, for capture jobs) and
//! `POST /cordial-events/<job>` (Cordial's webhook pushes of contact activity, for Import
//! Activity jobs), with `GET /healthz`, `GET /readyz` (see [`health`]), `GET /metrics`
//! (Prometheus, see [`crate::telemetry`]) and `GET /metrics.json` (recent call timings).
//!
//! A request is accepted whole or not at all: it is read and checked completely, its items
//! are committed to the database in one transaction (the job's queue, a bulk job's pending
//! members, or the `cordial_activity` stream), and only then does the sender get `202`. Anything wrong gets a JSON error that
//! names the problem; a database failure gets `503` so the sender retries instead of dropping
//! what it sent.

mod admit;
mod audience;
pub mod health;
mod intake;
pub mod listen;
mod metrics;
mod receive;
mod route;
mod secret;
mod submissions;

pub use audience::{from_member, store_events};
pub use intake::settings_of;

use crate::config::JobConfig;
use crate::db::Db;
use crate::history::{DeliveryWindow, Trigger};
use crate::queue::{ItemKind, QueueMetrics};
use crate::secret::Secret;
use axum::Router;

use axum::routing::{get, post};
use intake::Intake;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// One job that takes requests.
pub struct Endpoint {
    pub job: JobConfig,
    secret: Option<Secret>,
    intake: Intake,
    /// Wakes the job's queue workers (or the stream forwarder) once items are committed.
    pub wake: Arc<Notify>,
    pub metrics: Arc<QueueMetrics>,
    /// The run record of a queued job's deliveries (none for Cordial's pushes).
    pub window: Option<Arc<DeliveryWindow>>,
}

pub struct Ingress {
    pub db: Db,
    pub endpoints: HashMap<String, Endpoint>,
    /// How long a request's body may take to arrive once its headers have.
    pub body_deadline: std::time::Duration,
    pub readiness: health::Readiness,
}

pub fn router(ingress: Arc<Ingress>) -> Router {
    Router::new()
        .route("/{route}/{job}", post(receive::receive))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::scrape))
        .route("/metrics.json", get(metrics::json))
        .with_state(ingress)
}

/// The endpoints of every job that takes requests, with their settings and secrets read
/// now, so a problem stops the start rather than every request.
///
/// Requests that write a stream directly (Cordial's activity pushes) wake `streams_written`;
/// the others wake their job's queue workers.
pub fn endpoints(
    jobs: &[JobConfig],
    streams_written: &Arc<Notify>,
) -> anyhow::Result<HashMap<String, Endpoint>> {
    let mut endpoints = HashMap::new();
    for job in jobs {
        let Some(intake) = Intake::of(job)? else {
            continue;
        };
        let wake = match intake {
            Intake::Activity(_) => streams_written.clone(),
            _ => Arc::new(Notify::new()),
        };
        let secret = match &job.webhook_secret {
            None => None,
            Some(source) => Some(
                source
                    .read()
                    .map_err(|e| anyhow::anyhow!("job `{}` webhook secret: {e}", job.name))?,
            ),
        };
        endpoints.insert(
            job.name.clone(),
            Endpoint {
                job: job.clone(),
                secret,
                intake,
                wake,
                metrics: Arc::default(),
                window: ItemKind::of(job.kind).map(|kind| {
                    Arc::new(DeliveryWindow::new(&job.name, kind, Trigger::Deliveries))
                }),
            },
        );
    }
    Ok(endpoints)
}
