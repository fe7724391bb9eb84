//! `cordial-host`: runs the Cordial job components in wasmtime and gives them their
//! capabilities (HTTP to Cordial, SFTP, state, the platform's streams and audiences).

pub mod artifact;
pub mod capabilities;
pub mod commands;
pub mod config;
pub mod db;
pub mod history;
pub mod ingress;
pub mod jobs;
pub mod queue;
pub mod runtime;
pub mod scheduler;
pub mod secret;
pub mod sinks;
pub mod telemetry;
pub mod tls;
