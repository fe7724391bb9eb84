//! What the end-to-end tests in `tests/tests/` share: real components in the real host
//! against the emulator, and the ways a test drives them.

pub mod audience_events;
pub mod capture;
pub mod cli;
pub mod harness;
pub mod http;
pub mod rate_limits;
pub mod realtime_job;
pub mod serving;
pub mod sftp;
pub mod swagger;
