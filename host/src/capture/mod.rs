//! Experience capture in the host: `POST /capture/<job>` takes submissions, checks them with
//! the job's settings, stores them durably, answers `202`, and a worker per job hands them
//! to the job's component and records each decision in the audit trail.
//!
//! Like the webhooks, a request is accepted whole or not at all: every submission is
//! checked first (400 with the field at fault), then all are committed in one transaction,
//! and only then does the experience get `202 {"accepted", "submission_ids"}`.

mod intake;
mod worker;

pub use intake::parse_body;
pub use worker::Worker;

use crate::config::{JobConfig, Secret};
use crate::store::Store;
use crate::webhook::admit;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cordial_jobs::settings::{CaptureSettings, JobKind};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// The largest request accepted: room for a batch of a few thousand submissions.
pub const MAX_BODY: usize = 4 << 20;

/// One capture job the route takes submissions for.
pub struct Endpoint {
    pub job: JobConfig,
    pub settings: CaptureSettings,
    pub secret: Option<Secret>,
    /// Wakes the job's worker once submissions are committed.
    pub wake: Arc<Notify>,
}

pub struct Receiver {
    pub store: Store,
    pub endpoints: HashMap<String, Endpoint>,
}

/// The endpoints of every experience-capture job, with their settings parsed and their
/// secrets read now, so a problem stops the start rather than every request.
pub fn endpoints(jobs: &[JobConfig]) -> anyhow::Result<HashMap<String, Endpoint>> {
    let mut endpoints = HashMap::new();
    for job in jobs.iter().filter(|j| j.kind == JobKind::ExperienceCapture) {
        let settings: CaptureSettings = cordial_jobs::settings::typed(job.kind, &job.settings)
            .map_err(|problems| anyhow::anyhow!("job `{}` settings: {problems:?}", job.name))?;
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
                settings,
                secret,
                wake: Arc::new(Notify::new()),
            },
        );
    }
    Ok(endpoints)
}

pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/capture/{job}", post(receive))
        .with_state(receiver)
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    Path(job): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(endpoint) = receiver.endpoints.get(&job) else {
        return admit::unknown_job("experience-capture", &job, receiver.endpoints.keys());
    };
    let bytes = match admit::admit(
        endpoint.secret.as_ref(),
        &headers,
        body,
        MAX_BODY,
        "send fewer submissions at a time",
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let submissions = match parse_body(&endpoint.settings, &bytes) {
        Ok(s) => s,
        Err(bad) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": bad.message, "field": bad.field })),
            )
                .into_response();
        }
    };
    let mut ids = Vec::new();
    if !submissions.is_empty() {
        let store = receiver.store.clone();
        let name = endpoint.job.name.clone();
        let stored =
            tokio::task::spawn_blocking(move || store.accept_submissions(&name, &submissions))
                .await;
        match stored.map_err(anyhow::Error::from).and_then(|r| r) {
            Ok(stored) => ids = stored,
            Err(e) => {
                tracing::error!(job = %endpoint.job.name, "could not store submissions: {e:#}");
                return admit::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the submissions could not be stored; retry later",
                );
            }
        }
        endpoint.wake.notify_one();
    }
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "accepted": ids.len(), "submission_ids": ids })),
    )
        .into_response()
}
