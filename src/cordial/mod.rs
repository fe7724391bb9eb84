//! Cordial's REST API v2, as the jobs use it: request builders, response parsing, and the
//! classification of Cordial's errors into "retry later" and "give up".

mod client;
mod coerce;
mod contact;
mod error;
mod http;
pub mod jobs;
mod list_name;
mod patient;
mod remembered;
pub mod requests;

pub use client::{
    AccountList, AttributeDef, AttributeType, CordialClient, UpsertOutcome, json_response,
    send_json, upsert_outcome,
};
pub use coerce::{coerce, typed_targets};
pub use contact::{ContactUpsert, SmsChannel, SubscribeStatus};
pub use error::{CordialError, retry_after_from};
pub use http::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
pub use list_name::{audience_list_name, check_list_name};
pub use patient::{RATE_LIMIT_WAITS, WaitOutRateLimits};
pub use remembered::{attribute_types, ensure_list};
