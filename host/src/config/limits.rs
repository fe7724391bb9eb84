//! Per-run resource limits: what stops a runaway job.

use serde::Deserialize;

/// The longest call a job may be given.
const MAX_TIMEOUT_SECS: u64 = 24 * 60 * 60;

/// The least memory a job may be given: the real-time and capture components are linked
/// with 4 MiB of initial memory (`jobs/short-calls-memory.rs`), and a job needs room to work.
const MIN_MEMORY_MB: u64 = 8;

/// Limits for one component call. Host-wide defaults in `[host.limits]`, overridden per job
/// in `[job.limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory the job may grow to, in MiB.
    pub memory_mb: u64,
    /// Wall-clock time one call may take, in seconds (enforced by epoch interruption).
    pub timeout_secs: u64,
    /// Deterministic CPU budget in wasm fuel units; 0 means no fuel limit (the timeout
    /// still applies). Fuel costs some speed, so it is off unless asked for.
    pub fuel: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: 256,
            timeout_secs: 15 * 60,
            fuel: 0,
        }
    }
}

/// A partial override from a `[job.limits]` table.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsOverride {
    pub memory_mb: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub fuel: Option<u64>,
}

impl Limits {
    pub fn with(self, o: LimitsOverride) -> Limits {
        Limits {
            memory_mb: o.memory_mb.unwrap_or(self.memory_mb),
            timeout_secs: o.timeout_secs.unwrap_or(self.timeout_secs),
            fuel: o.fuel.unwrap_or(self.fuel),
        }
    }

    /// Why these limits cannot work, if they cannot.
    pub fn check(&self) -> Option<String> {
        if self.memory_mb < MIN_MEMORY_MB {
            return Some(format!(
                "memory_mb must be at least {MIN_MEMORY_MB} (the real-time and capture jobs start with 4 MiB of memory)"
            ));
        }
        if self.memory_mb > 4096 {
            return Some(
                "memory_mb must be at most 4096 (a wasm32 component cannot use more)".into(),
            );
        }
        if self.timeout_secs == 0 {
            return Some("timeout_secs must be at least 1".into());
        }
        // The call's deadline is counted in milliseconds from now; far larger values would
        // overflow there instead of being refused here.
        if self.timeout_secs > MAX_TIMEOUT_SECS {
            return Some(format!(
                "timeout_secs must be at most {MAX_TIMEOUT_SECS} (a day); the jobs resume across calls, so none needs longer"
            ));
        }
        None
    }
}
