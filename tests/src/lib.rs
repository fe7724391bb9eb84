//! What the end-to-end tests in `tests/tests/` share: real components in the real host
//! against the emulator, and the ways a test drives them. The host's own command-line tests
//! and its benchmarks use it too.

pub mod activity;
pub mod audience_events;
pub mod capture;
pub mod cli;
pub mod harness;
pub mod http;
pub mod load;
pub mod measure;
pub mod platform;
pub mod rate_limits;
pub mod realtime_job;
pub mod redis;
pub mod registry;
pub mod schedule_log;
pub mod serving;
pub mod sftp;
pub mod spin;
pub mod swagger;
