//! Pure logic of the Cordial integration jobs.
//!
//! Everything here compiles both natively and for `wasm32-wasip2`, and does no I/O of its
//! own: the outside world is reached through small traits ([`ports`], and
//! [`cordial::HttpTransport`]) that the job components implement with their WIT imports and
//! unit tests implement with fakes (`ports::fakes`, feature `fakes`).
//! That is what lets one job run in the bundled host, under Spin, and in plain `cargo test`.

pub mod activity;
pub mod bulk;
pub mod capture;
pub mod cordial;
pub mod file_names;
pub mod intake;
pub mod job;
pub mod manifest;
pub mod members;
pub mod ports;
pub mod realtime;
pub mod retry;
pub mod scheduled;
pub mod settings;
#[cfg(test)]
mod testing;
pub mod webhook;
