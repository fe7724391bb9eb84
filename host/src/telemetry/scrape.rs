//! `GET /metrics`: every family in the Prometheus text format, with each queued job's depth
//! read from the store at the scrape, so the figure is the store's and not a running tally.

use crate::ingress::Ingress;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn scrape(State(ingress): State<Arc<Ingress>>) -> Response {
    let metrics = super::metrics();
    for endpoint in ingress.endpoints.values() {
        if crate::queue::ItemKind::of(endpoint.job.kind).is_none() {
            continue;
        }
        let name = endpoint.job.name.clone();
        let counts = ingress.db.blocking(move |s| s.queue_counts(&name)).await;
        if let Err(e) = &counts {
            tracing::warn!(job = %endpoint.job.name, "metrics: cannot read the queue's depth: {e:#}");
        }
        metrics.queue(&endpoint.job.name, counts.ok().as_ref());
    }
    let content_type = [(http::header::CONTENT_TYPE, super::CONTENT_TYPE)];
    (content_type, metrics.render()).into_response()
}
