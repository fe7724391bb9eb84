//! What happens to every request before its handler: latency, logging, faults and
//! the rate limit, authentication and body decoding, in that order.
//!
//! Faults come before authentication so that "the next N requests fail" holds
//! whatever the request; authentication comes before the body so that a client
//! with a bad key learns that first, as it would from Cordial.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::http::app::App;
use crate::http::auth;
use crate::http::body;
use crate::http::errors::ApiError;
use crate::http::faults::too_many_requests;
use crate::http::recording::RecordedRequest;

/// Largest body accepted; bulk contact calls are far smaller.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The decoded request body, `Null` when there was none.
#[derive(Debug, Clone)]
pub struct ParsedBody(pub Value);

impl ParsedBody {
    /// The fields of a body that must be an object (lists, attributes). No body
    /// counts as an empty object, so that a missing field gets its "required"
    /// message rather than a type error.
    pub fn fields(&self) -> Result<Map<String, Value>, ApiError> {
        match &self.0 {
            Value::Null => Ok(Map::new()),
            Value::Object(m) => Ok(m.clone()),
            _ => Err(ApiError::unprocessable(
                "The request body must be a JSON object.",
            )),
        }
    }
}

pub async fn pipeline(State(app): State<App>, request: Request, next: Next) -> Response {
    let latency = app.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let (mut parts, raw_body) = request.into_parts();
    let Ok(bytes) = to_bytes(raw_body, MAX_BODY_BYTES).await else {
        return ApiError::generic(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large")
            .into_response();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());

    // A queued fault answers first and then the request takes no token: the fault stands
    // for Cordial refusing it, so it must not also count against the endpoint's allowance.
    let refusal = app.take_fault().map(|f| f.response()).or_else(|| {
        app.take_rate_token(parts.method.as_str(), parts.uri.path())
            .map(|(wait, limit)| {
                // Whole seconds, as Cordial sends them: rounded up, so that a client that
                // waits as told finds the token there, and never 0, which reads as "now".
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                too_many_requests(seconds, u64::from(limit.depth()))
            })
    });
    app.record(RecordedRequest {
        received_at: std::time::Instant::now(),
        fault_status: refusal.as_ref().map(|r| r.status().as_u16()),
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        has_authorization: parts.headers.contains_key(AUTHORIZATION),
        body: body::for_log(content_type.as_deref(), &bytes),
    });

    if let Some(refusal) = refusal {
        return refusal;
    }
    if !auth::is_authorized(authorization, &app.api_key) {
        return ApiError::Unauthorized.into_response();
    }

    let parsed = if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
        match body::decode(content_type.as_deref(), &bytes) {
            Ok(v) => v,
            Err(e) => return e.into_response(),
        }
    } else {
        Value::Null
    };
    parts.extensions.insert(ParsedBody(parsed));
    next.run(Request::from_parts(parts, Body::empty())).await
}
