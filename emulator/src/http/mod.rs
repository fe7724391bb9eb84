//! What every endpoint shares: the state behind all handlers ([`app`]), the pipeline
//! each request goes through before its handler (latency, faults, the request log,
//! Basic auth, body decoding), Cordial's error envelopes and query strings, and
//! [`handle::EmulatorHandle`], the in-process view tests steer the emulator with.
//!
//! The state holds the records of [`crate::model`], and the endpoints and jobs in
//! `account/`, `jobs/`, `imports/` and `exports/` all take it from here, so this
//! folder depends on nothing above [`crate::model`]. The route table that puts the
//! pipeline in front of every endpoint is `routes.rs`, at the top.

pub mod answer;
pub mod app;
mod auth;
mod body;
pub mod errors;
pub mod faults;
pub mod handle;
pub mod pipeline;
pub mod query;
pub mod rate_limit;
pub mod recording;
