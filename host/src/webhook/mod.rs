//! The platform's Audience Trigger webhooks: `POST /hooks/<job>`.
//!
//! A request is accepted whole or not at all: it is parsed completely, its events are
//! committed to the outbox in one transaction, and only then does the platform get `202`.
//! Anything wrong gets a JSON error that names the problem; a store failure gets `503` so
//! the platform retries instead of dropping the events.

pub mod admit;
pub mod secret;

use crate::config::{JobConfig, Secret};
use crate::delivery::DeliveryMetrics;
use crate::intake;
use crate::store::Store;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cordial_jobs::settings::JobKind;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// The largest request accepted. The platform caps one event at 1 MB and a batch at 1,000
/// events; this leaves room for a full batch of large profiles.
pub const MAX_BODY: usize = 32 << 20;

/// One job the receiver takes events for.
pub struct Endpoint {
    pub job: JobConfig,
    pub secret: Option<Secret>,
    /// Wakes the job's delivery once events are committed.
    pub wake: Arc<Notify>,
    pub metrics: Arc<DeliveryMetrics>,
}

pub struct Receiver {
    pub store: Store,
    pub endpoints: HashMap<String, Endpoint>,
}

pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/hooks/{job}", post(receive))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(receiver)
}

/// Per job: delivery counters and the host's overhead per component call.
async fn metrics(State(receiver): State<Arc<Receiver>>) -> Response {
    let jobs: serde_json::Map<String, serde_json::Value> = receiver
        .endpoints
        .iter()
        .map(|(name, e)| (name.clone(), e.metrics.snapshot()))
        .collect();
    axum::Json(json!({ "jobs": jobs })).into_response()
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    Path(job): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(endpoint) = receiver.endpoints.get(&job) else {
        return admit::unknown_job("audience-export", &job, receiver.endpoints.keys());
    };
    let bytes = match admit::admit(
        endpoint.secret.as_ref(),
        &headers,
        body,
        MAX_BODY,
        "send smaller batches",
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let events = match cordial_jobs::webhook::parse_trigger_payload(&bytes) {
        Ok(events) => events,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": e.message, "path": e.path })),
            )
                .into_response();
        }
    };
    let (events, ignored) = intake::from_trigger(&endpoint.job, events);
    let accepted = events.len();
    if accepted > 0 {
        let store = receiver.store.clone();
        let job = endpoint.job.clone();
        let stored =
            tokio::task::spawn_blocking(move || intake::store_events(&store, &job, &events)).await;
        if let Err(e) = stored.map_err(anyhow::Error::from).and_then(|r| r) {
            tracing::error!(job = %endpoint.job.name, "could not store webhook events: {e:#}");
            return admit::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the events could not be stored; retry later",
            );
        }
        endpoint.wake.notify_one();
    }
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "accepted": accepted, "ignored_other_audiences": ignored })),
    )
        .into_response()
}

/// The receiver's endpoints: one per audience-export job (real time and bulk), with its secret read now so a missing
/// secret stops the start rather than every request.
pub fn endpoints(jobs: &[JobConfig]) -> anyhow::Result<HashMap<String, Endpoint>> {
    let mut endpoints = HashMap::new();
    for job in jobs
        .iter()
        .filter(|j| matches!(j.kind, JobKind::ExportRealtime | JobKind::ExportBulk))
    {
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
                wake: Arc::new(Notify::new()),
                metrics: Arc::default(),
            },
        );
    }
    Ok(endpoints)
}
