//! `cordial-host`: runs the Cordial job components in wasmtime and gives them their
//! capabilities (HTTP to Cordial, SFTP, state, the platform's streams and audiences).

pub mod capabilities;
pub mod capture;
pub mod commands;
pub mod config;
pub mod delivery;
pub mod intake;
pub mod jobs;
pub mod runtime;
pub mod scheduler;
pub mod sinks;
pub mod store;
pub mod webhook;
