//! Cordial's error bodies.
//!
//! Cordial has its own envelope (not RFC 7807): `error` is `true` with an
//! `errorKey` and a `message` or `messages`, except on 401 and on unhandled 5xx
//! where `error` is a *string*. Clients branch on these exact shapes, so every
//! error the emulator returns is built here and nowhere else.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Field name → messages, as in Laravel's `validationErrors`.
pub type ValidationErrors = BTreeMap<String, Vec<String>>;

/// The generic error key Cordial uses for most 4xx bodies.
const GENERIC: &str = "GENERIC_ERROR_KEY";

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401 with a string `error`, as recorded and as the Swagger's `AuthenticationFailed`.
    Unauthorized,
    /// 415 `UNSUPPORTED_MEDIA_TYPE` (Swagger `MediaTypeIsIncorrect`).
    UnsupportedMediaType,
    /// 422 with `messages.validationErrors`. `message` repeats the first error
    /// because the Swagger's `ContactError` requires a `message` next to `messages`.
    Validation(ValidationErrors),
    /// Any `{"error":true,"errorKey":..,"message":..}` body.
    Keyed {
        status: StatusCode,
        error_key: &'static str,
        message: String,
    },
    /// An unhandled server error: `{"error":"an error has occurred"}` (recorded on v1).
    Server(StatusCode),
}

impl ApiError {
    /// `status` with the generic error key and a single `message`.
    pub fn generic(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Keyed {
            status,
            error_key: GENERIC,
            message: message.into(),
        }
    }

    /// 422 with a single `message` (lists, attributes).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::generic(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 406 with a single `message`: an import's or export's configuration error.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::generic(StatusCode::NOT_ACCEPTABLE, message)
    }

    /// 422 with one validation error on `field`.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = ValidationErrors::new();
        errors.insert(field.into(), vec![message.into()]);
        Self::Validation(errors)
    }

    /// 404 `RECORD_NOT_FOUND`, the Swagger's `RecordNotFound`.
    pub fn record_not_found() -> Self {
        Self::Keyed {
            status: StatusCode::NOT_FOUND,
            error_key: "RECORD_NOT_FOUND",
            message: "record not found".into(),
        }
    }

    /// 404 for `PUT /v2/contacts/{pk}` on a missing contact: the key the Zendesk
    /// app checks before falling back to POST.
    pub fn contact_not_found_for_update() -> Self {
        Self::Keyed {
            status: StatusCode::NOT_FOUND,
            error_key: "CONTACTS_CONTACT_NOT_FOUND",
            message: "record not found".into(),
        }
    }

    /// 404 `ACCOUNT_LISTS_NOT_FOUND` (Swagger `ListNotExist`): GET, count, clear.
    pub fn list_does_not_exist() -> Self {
        Self::Keyed {
            status: StatusCode::NOT_FOUND,
            error_key: "ACCOUNT_LISTS_NOT_FOUND",
            message: "List does not exist".into(),
        }
    }

    /// 404 of `PUT /v2/accountlists/{id}` (Swagger `ListNotFound`).
    pub fn list_not_found() -> Self {
        Self::generic(StatusCode::NOT_FOUND, "List is not found")
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Keyed { status, .. } | Self::Server(status) => *status,
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        match self {
            Self::Unauthorized => json!({"error": "Access Denied: Authentication Failure"}),
            Self::UnsupportedMediaType => json!({
                "error": true,
                "errorKey": "UNSUPPORTED_MEDIA_TYPE",
                "message": "Unsupported Media Type: Content-Type header must be application/json or application/x-www-form-urlencoded."
            }),
            Self::Validation(errors) => {
                let first = errors
                    .values()
                    .flat_map(|m| m.first())
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "The given data was invalid.".into());
                json!({
                    "error": true,
                    "errorKey": GENERIC,
                    "message": first,
                    "messages": {"validationErrors": errors},
                })
            }
            Self::Keyed {
                error_key, message, ..
            } => json!({"error": true, "errorKey": error_key, "message": message}),
            Self::Server(_) => json!({"error": "an error has occurred"}),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

/// The message Cordial gives for a top-level key that is neither an attribute nor a list.
pub fn not_in_schema(key: &str) -> String {
    format!("key {key} is not part of the schema for this resource")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_body_matches_the_recorded_shape() {
        let e = ApiError::invalid_field("first_name", not_in_schema("first_name"));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            e.body(),
            json!({
                "error": true,
                "errorKey": "GENERIC_ERROR_KEY",
                "message": "key first_name is not part of the schema for this resource",
                "messages": {"validationErrors": {
                    "first_name": ["key first_name is not part of the schema for this resource"]
                }}
            })
        );
    }

    #[test]
    fn auth_and_server_errors_use_a_string_error() {
        assert_eq!(
            ApiError::Unauthorized.body()["error"],
            "Access Denied: Authentication Failure"
        );
        assert_eq!(
            ApiError::Server(StatusCode::BAD_GATEWAY).body(),
            json!({"error": "an error has occurred"})
        );
    }
}
