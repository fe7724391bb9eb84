//! Cordial's error envelope (`error`, `errorKey`, `message` or `messages`) turned into one
//! error type that knows whether retrying can help.

use super::http::{HttpResponse, TransportError};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// A failed Cordial call.
#[derive(Debug, Clone, PartialEq)]
pub enum CordialError {
    /// 401: the API key is wrong or the caller's IP is not on the key's allowlist.
    Unauthorized(String),
    /// 429: wait `retry_after` (from `Retry-After`, else `X-Rate-Limit-Reset`) and retry.
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 5xx: Cordial's side failed; retry with backoff.
    Server { status: u16, message: String },
    /// Any other 4xx: the request itself is wrong; retrying will not help.
    Rejected {
        status: u16,
        error_key: Option<String>,
        message: String,
    },
    /// No response at all.
    Transport(TransportError),
    /// A 2xx whose body is not what the API documents.
    UnexpectedBody { status: u16, message: String },
}

impl CordialError {
    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            CordialError::RateLimited { .. } | CordialError::Server { .. } => true,
            CordialError::Transport(TransportError::Denied(_)) => false,
            CordialError::Transport(_) => true,
            _ => false,
        }
    }

    /// How long Cordial asked us to wait, for a rate limit.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CordialError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Cordial's HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            CordialError::Unauthorized(_) => Some(401),
            CordialError::RateLimited { .. } => Some(429),
            CordialError::Server { status, .. }
            | CordialError::Rejected { status, .. }
            | CordialError::UnexpectedBody { status, .. } => Some(*status),
            CordialError::Transport(_) => None,
        }
    }

    /// Classifies a non-2xx response.
    pub fn from_response(response: &HttpResponse) -> CordialError {
        let message = error_message(&response.body);
        let error_key = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("errorKey").and_then(Value::as_str).map(str::to_owned));
        match response.status {
            401 => CordialError::Unauthorized(message),
            429 => CordialError::RateLimited {
                retry_after: retry_after_from(|name| response.header(name)),
                message,
            },
            status @ 500..=599 => CordialError::Server { status, message },
            status => CordialError::Rejected {
                status,
                error_key,
                message,
            },
        }
    }
}

impl fmt::Display for CordialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CordialError::Unauthorized(m) => write!(
                f,
                "Cordial refused the API key (401: {m}); check the key and the key's IP allowlist in Cordial"
            ),
            CordialError::RateLimited {
                retry_after,
                message,
            } => match retry_after {
                Some(d) => write!(
                    f,
                    "Cordial rate limit (429: {message}); retry after {}s",
                    d.as_secs()
                ),
                None => write!(f, "Cordial rate limit (429: {message})"),
            },
            CordialError::Server { status, message } => {
                write!(f, "Cordial server error ({status}: {message})")
            }
            CordialError::Rejected {
                status, message, ..
            } => write!(f, "Cordial rejected the request ({status}: {message})"),
            CordialError::Transport(e) => write!(f, "{e}"),
            CordialError::UnexpectedBody { status, message } => {
                write!(f, "unexpected Cordial response ({status}): {message}")
            }
        }
    }
}

/// How long Cordial asks us to wait: `Retry-After` seconds first, then `X-Rate-Limit-Reset`.
/// `header` looks a header up by its lower-case name, so any HTTP type can use this rule.
pub fn retry_after_from<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<Duration> {
    ["retry-after", "x-rate-limit-reset"]
        .iter()
        .find_map(|h| header(h)?.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The human part of Cordial's error body, whatever shape it took.
fn error_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return if text.is_empty() {
            "no body".to_owned()
        } else {
            text.chars().take(300).collect()
        };
    };
    if let Some(m) = value.get("message").and_then(Value::as_str) {
        return m.to_owned();
    }
    if let Some(messages) = value.get("messages") {
        return flatten_messages(messages);
    }
    match value.get("error") {
        Some(Value::String(s)) => s.clone(),
        _ => value.to_string(),
    }
}

/// `messages` is a string, or `{"validationErrors":{"key":["msg",..]}}`, or another object.
fn flatten_messages(messages: &Value) -> String {
    match messages {
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            let inner = map.get("validationErrors").unwrap_or(messages);
            match inner {
                Value::Object(fields) => fields
                    .iter()
                    .map(|(k, v)| match v {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_owned).unwrap_or(i.to_string()))
                            .map(|m| format!("{k}: {m}"))
                            .collect::<Vec<_>>()
                            .join("; "),
                        Value::String(s) => format!("{k}: {s}"),
                        other => format!("{k}: {other}"),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn validation_errors_are_flattened_into_one_message() {
        let e = CordialError::from_response(&response(
            422,
            &[],
            r#"{"error":true,"errorKey":"GENERIC_ERROR_KEY","messages":{"validationErrors":{"first_name":["key first_name is not part of the schema for this resource"]}}}"#,
        ));
        assert_eq!(
            e,
            CordialError::Rejected {
                status: 422,
                error_key: Some("GENERIC_ERROR_KEY".into()),
                message: "first_name: key first_name is not part of the schema for this resource"
                    .into()
            }
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn rate_limit_prefers_retry_after_then_reset() {
        let e = CordialError::from_response(&response(
            429,
            &[("Retry-After", "7"), ("X-Rate-Limit-Reset", "30")],
            "",
        ));
        assert_eq!(
            e,
            CordialError::RateLimited {
                retry_after: Some(Duration::from_secs(7)),
                message: "no body".into()
            }
        );
        let e = CordialError::from_response(&response(429, &[("x-rate-limit-reset", "30")], ""));
        assert!(
            matches!(e, CordialError::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 30)
        );
        assert!(e.is_retryable());
    }

    #[test]
    fn auth_and_server_errors_read_the_string_error_field() {
        let e = CordialError::from_response(&response(
            401,
            &[],
            r#"{"error":"Access Denied: Authentication Failure"}"#,
        ));
        assert_eq!(
            e,
            CordialError::Unauthorized("Access Denied: Authentication Failure".into())
        );
        let e = CordialError::from_response(&response(
            503,
            &[],
            r#"{"error":"an error has occurred"}"#,
        ));
        assert!(e.is_retryable());
        assert_eq!(e.status(), Some(503));
    }

    #[test]
    fn a_denied_request_is_not_retried_but_a_dropped_connection_is() {
        assert!(!CordialError::Transport(TransportError::Denied("x".into())).is_retryable());
        assert!(CordialError::Transport(TransportError::Connection("x".into())).is_retryable());
    }
}
