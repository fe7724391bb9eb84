//! The wasmtime embedding: one engine, one pre-instantiated component per job, and a fresh
//! store per call with a memory limit, an optional fuel budget and a wall-clock deadline.

pub mod bindings;
mod compiled;
mod components;
mod engine;
mod errors;
mod invoke;
mod limiter;
mod run_state;

pub use run_state::CallParts;

pub use engine::Runtime;
pub use errors::CallError;
pub use invoke::{CallContext, CallStats, RunOutcome, RunStats};
pub use run_state::RunState;
