//! Fuzz targets for everything that reads what others send or writes what Cordial reads:
//! the webhook payload parser, the capture submission parser, the activity file readers,
//! the bulk CSV writer and the host's config file.
//!
//! Each target is one function taking raw bytes. It panics when the code under test panics
//! and also when one of the code's promises is broken (an error that names no place in the
//! body, a CSV cell that does not read back as written, more records than the input could
//! hold), so the fuzzer finds wrong answers as well as crashes. The same functions run in
//! two ways:
//! - `cargo test -p cordial-fuzz`: every committed seed of `corpus/<target>/` replayed, then a
//!   fixed number of deterministic mutations of them ([`bounded`]), on stable, in seconds;
//! - `./dev fuzz`: libFuzzer (cargo-fuzz, `libfuzzer/`) for `FUZZ_SECONDS` each, coverage
//!   guided, starting from the same corpus.

pub mod activity_file;
pub mod bounded;
pub mod capture_submission;
#[cfg(feature = "host")]
pub mod config_file;
pub mod csv_round_trip;
mod json_path;
pub mod webhook_payload;

/// Every target's name: its function's module, corpus folder, dictionary and libFuzzer entry.
pub const TARGETS: &[&str] = &[
    "webhook_payload",
    "capture_submission",
    "activity_file",
    "csv_round_trip",
    #[cfg(feature = "host")]
    "config_file",
];
