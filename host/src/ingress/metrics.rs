//! `GET /metrics`: every family in the Prometheus text format (see [`crate::telemetry`]),
//! with each queued job's depth read from the store at the scrape, so the figure is the
//! store's and not a running tally; and `GET /metrics.json`, the recent call timings.

use super::Ingress;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// The metrics in the Prometheus text format, the queued jobs' depth read now.
pub async fn scrape(State(ingress): State<Arc<Ingress>>) -> Response {
    let metrics = crate::telemetry::metrics();
    for endpoint in ingress.endpoints.values() {
        if crate::queue::ItemKind::of(endpoint.job.kind).is_none() {
            continue;
        }
        let name = endpoint.job.name.clone();
        let counts = ingress.db.blocking(move |s| s.backlog(&name)).await;
        if let Err(e) = &counts {
            tracing::warn!(job = %endpoint.job.name, "metrics: cannot read the queue's depth: {e:#}");
        }
        metrics.queue(&endpoint.job.name, counts.ok().as_ref());
    }
    let content_type = [(http::header::CONTENT_TYPE, crate::telemetry::CONTENT_TYPE)];
    (content_type, metrics.render()).into_response()
}

/// Per job: its queue's counters and the median and 90th percentile of the host's overhead
/// and of the work per event over its recent calls (what the benchmarks read).
pub async fn json(State(ingress): State<Arc<Ingress>>) -> Response {
    let jobs: serde_json::Map<String, serde_json::Value> = ingress
        .endpoints
        .iter()
        .map(|(name, e)| (name.clone(), e.metrics.snapshot()))
        .collect();
    axum::Json(json!({ "jobs": jobs })).into_response()
}
