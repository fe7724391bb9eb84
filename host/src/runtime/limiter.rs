//! A memory limiter that remembers refusing a grow, so a job that ran out of its memory
//! budget is reported as exactly that rather than as the trap its allocator turned it into.

use wasmtime::ResourceLimiter;

pub struct JobLimiter {
    max_memory_bytes: usize,
    /// Set once a memory grow beyond the limit was refused.
    pub refused_growth: bool,
}

impl JobLimiter {
    pub fn new(max_memory_bytes: usize) -> Self {
        JobLimiter {
            max_memory_bytes,
            refused_growth: false,
        }
    }
}

impl ResourceLimiter for JobLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_memory_bytes;
        self.refused_growth |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
