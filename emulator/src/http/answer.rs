//! What an endpoint answers: a status and a JSON body, or one of Cordial's error
//! envelopes ([`crate::http::errors`]).

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::http::errors::ApiError;

/// An endpoint's answer.
pub type Answer = Result<(StatusCode, Json<Value>), ApiError>;

/// 200 with `body`.
pub fn ok(body: Value) -> Answer {
    Ok((StatusCode::OK, Json(body)))
}

/// 200 `{"success":true}`, Cordial's answer to a change that returns nothing else.
pub fn success() -> Answer {
    ok(json!({"success": true}))
}
