//! The HTTP face: `POST /collect/json/{stream}`, `POST /collect/bulk/{stream}`, and the
//! `/_standin/…` routes to read what arrived. Each collect request is checked in the order
//! the platform does — key, injected fault, size, shape — logged, and stored whole or not at
//! all.

use crate::state::{Endpoint, Fault, RequestLog, StandinHandle};
use crate::validate::{self, Verdict};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `collect/json` takes bodies under the platform's 10 MB.
const JSON_LIMIT: usize = 10 << 20;
/// `collect/bulk` takes large files.
const BULK_LIMIT: usize = 256 << 20;

#[derive(Clone)]
struct App {
    key: String,
    handle: StandinHandle,
}

pub fn router(key: String, handle: StandinHandle) -> Router {
    Router::new()
        .route(
            "/collect/{endpoint}/{stream}",
            post(collect).layer(DefaultBodyLimit::max(BULK_LIMIT)),
        )
        .route("/_standin/streams", get(streams))
        .route("/_standin/streams/{stream}", get(stream))
        .route("/_standin/requests", get(requests))
        .with_state(App { key, handle })
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({"status": status.as_u16(), "message": message.into()});
    (status, Json(body)).into_response()
}

/// The key from `Authorization: <key>`, `Authorization: Bearer <key>` or `?access_token=`.
fn authorized(app: &App, headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
        .or_else(|| query.get("access_token").map(String::as_str));
    given == Some(app.key.as_str())
}

/// A query flag given bare (`?dryrun`) or as `true`.
fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|v| v.is_empty() || v == "true" || v == "1")
}

/// A request's records read from its body: each one either a record or the complaint
/// about it, `record N:` (from 0) or `line N:` (from 1) in front.
type Read = Vec<Result<Value, String>>;

/// `POST /collect/json/{stream}` and `POST /collect/bulk/{stream}`.
async fn collect(
    State(app): State<App>,
    Path((endpoint, stream)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (endpoint, limit) = match endpoint.as_str() {
        "json" => (Endpoint::Json, JSON_LIMIT),
        "bulk" => (Endpoint::Bulk, BULK_LIMIT),
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "POST /collect/json/{stream} or /collect/bulk/{stream}",
            );
        }
    };
    let latency = app.handle.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let timestamp_field = query.get("timestamp_field").cloned();
    let log = |status: StatusCode, records: usize, authorized: bool| {
        app.handle.log(RequestLog {
            endpoint: endpoint.clone(),
            stream: stream.clone(),
            status: status.as_u16(),
            records,
            timestamp_field: timestamp_field.clone(),
            authorized,
        })
    };
    if !authorized(&app, &headers, &query) {
        log(StatusCode::UNAUTHORIZED, 0, false);
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: a valid API key is required (Authorization header or access_token)",
        );
    }
    if let Some(fault) = app.handle.take_fault() {
        return match fault {
            Fault::RateLimited {
                retry_after_secs, ..
            } => {
                log(StatusCode::TOO_MANY_REQUESTS, 0, true);
                let mut answer = error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
                answer
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs.into());
                answer
            }
            Fault::ServerError { status, .. } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                log(status, 0, true);
                error(status, "internal error (injected)")
            }
        };
    }
    let body = match body {
        Ok(body) if body.len() > limit => {
            log(StatusCode::PAYLOAD_TOO_LARGE, 0, true);
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {limit} bytes"),
            );
        }
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            log(status, 0, true);
            return error(status, rejection.body_text());
        }
    };
    let read = match endpoint {
        Endpoint::Json => read_json(&body),
        Endpoint::Bulk => Ok(read_lines(&body)),
    };
    let read = match read {
        Ok(read) => read,
        Err(message) => {
            log(StatusCode::BAD_REQUEST, 0, true);
            return error(StatusCode::BAD_REQUEST, message);
        }
    };
    let drop_errors = endpoint == Endpoint::Bulk && flag(&query, "droperrors");
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for item in &read {
        match item {
            Ok(record) => {
                let map = record.as_object().expect("checked flat");
                match validate::verdict(map, timestamp_field.as_deref()) {
                    Verdict::Stored => kept.push(record.clone()),
                    Verdict::Dropped(why) => dropped.push((record.clone(), why)),
                }
            }
            Err(message) if drop_errors => dropped.push((Value::Null, message.clone())),
            Err(message) => {
                log(StatusCode::BAD_REQUEST, read.len(), true);
                return error(StatusCode::BAD_REQUEST, message.clone());
            }
        }
    }
    let rejected = dropped.len();
    let dryrun = flag(&query, "dryrun");
    if !dryrun {
        app.handle.store(&stream, kept, dropped);
        app.handle.until_released().await;
    }
    log(StatusCode::OK, read.len(), true);
    let content_type = match endpoint {
        Endpoint::Json => "application/json",
        Endpoint::Bulk => "application/x-ndjson",
    };
    Json(json!({
        "status": 200,
        "message": "success",
        "data": {
            "message_count": read.len(),
            "rejected_count": rejected,
            "content-type": content_type,
            "droperrors": drop_errors,
            "dryrun": dryrun,
            "timestamp_field": timestamp_field,
            "filename": query.get("filename"),
        }
    }))
    .into_response()
}

/// One JSON object or an array of them; a body that is neither is refused whole.
fn read_json(body: &[u8]) -> Result<Read, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => return Err("send a JSON object or an array of objects".into()),
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let len = item.to_string().len();
            validate::flat_record(&item, len)
                .map(|_| ())
                .map_err(|e| format!("record {i}: {e}"))?;
            Ok(item)
        })
        .collect())
}

/// Newline-delimited JSON, blank lines skipped.
fn read_lines(body: &[u8]) -> Read {
    body.split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(i, line)| {
            let value: Value = serde_json::from_slice(line)
                .map_err(|e| format!("line {}: not JSON: {e}", i + 1))?;
            validate::flat_record(&value, line.len())
                .map(|_| ())
                .map_err(|e| format!("line {}: {e}", i + 1))?;
            Ok(value)
        })
        .collect()
}

/// The inspection routes take the same key.
fn inspect(
    app: &App,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    answer: impl FnOnce() -> Value,
) -> Response {
    if authorized(app, headers, query) {
        Json(answer()).into_response()
    } else {
        error(StatusCode::UNAUTHORIZED, "Unauthorized")
    }
}

async fn streams(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    inspect(&app, &headers, &query, || json!(app.handle.counts()))
}

async fn stream(
    State(app): State<App>,
    Path(stream): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    inspect(&app, &headers, &query, || {
        json!(app.handle.records(&stream))
    })
}

async fn requests(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    inspect(&app, &headers, &query, || json!(app.handle.requests()))
}
