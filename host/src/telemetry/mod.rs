//! What `cordial-host serve` tells Prometheus on `GET /metrics`: counters of records, of
//! requests to Cordial and of its 429s, histograms of run durations and of the host's cost
//! per component call, and gauges of queue depth and last success, in the Prometheus text
//! exposition format.
//!
//! One process-wide [`Metrics`] holds the registry: what counts happens deep in the queue
//! workers, the wasi:http hooks and the runtime, and one shared instance lets each of those
//! places count with one line instead of threading a handle through every constructor on
//! the way. Labels stay low-cardinality: job names, fixed operation and outcome words,
//! Cordial endpoints as the pacer keys them (method and collection, never ids) and status
//! codes.

mod labels;
mod metrics;

pub use metrics::Metrics;

use std::sync::LazyLock;

/// The `Content-Type` of what [`Metrics::render`] writes.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}
