//! One entry of the request log that [`crate::http::app`] keeps: what the pipeline
//! records of every request, for tests to read through
//! [`crate::EmulatorHandle::requests`].

use serde_json::Value;

/// One request as the emulator received it. The `Authorization` value itself is
/// never stored, only whether it was there, so a log dump cannot leak a key.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent, e.g. `/v2/contacts?email=a%40x.io`.
    pub path: String,
    /// Whether an `Authorization` header was present (valid or not).
    pub has_authorization: bool,
    /// The body: JSON if it parsed, a decoded form, the raw text, or `Null` if empty.
    pub body: Value,
    /// When the request arrived, to check that clients honour `Retry-After`.
    pub received_at: std::time::Instant,
    /// The injected fault's status when the request was answered with one.
    pub fault_status: Option<u16>,
}
