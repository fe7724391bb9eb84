//! What every POST checks before reading what it carries: the job's secret and the size of
//! the body; and the JSON error answers the ingress gives.

use super::secret;
use crate::secret::Secret;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cordial_jobs::intake::BodyLimit;
use serde_json::json;
use std::time::Duration;

/// A JSON error answer: `{"error": "..."}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// 404 naming the jobs that do take requests here (`what` says which kind of job).
pub fn unknown_job<'a>(what: &str, job: &str, known: impl Iterator<Item = &'a str>) -> Response {
    let mut names: Vec<&str> = known.collect();
    names.sort();
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no {what} job named `{job}`; this host takes requests for: {}",
            names.join(", ")
        ),
    )
}

/// The job's secret, when it has one, must be presented; a body announced (`content-length`)
/// over the route's limit is refused before any of it is read; then the body is read whole,
/// up to the limit, within `deadline`: a body that trickles in (slowloris) gets `408` once
/// the deadline has passed, however steadily its bytes come.
pub async fn admit(
    expected: Option<&Secret>,
    headers: &HeaderMap,
    body: Body,
    limit: BodyLimit,
    deadline: Duration,
) -> Result<Bytes, Response> {
    if let Some(expected) = expected
        && !secret::presented(headers, expected)
    {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            cordial_jobs::intake::SECRET_ADVICE,
        ));
    }
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit.max_bytes) {
        return Err(error(StatusCode::PAYLOAD_TOO_LARGE, limit.refusal()));
    }
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit.max_bytes)).await {
        Ok(read) => read.map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, limit.refusal())),
        Err(_) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {}s; send it at once \
                 ([host] intake_timeout_secs sets this limit)",
                deadline.as_secs()
            ),
        )),
    }
}
