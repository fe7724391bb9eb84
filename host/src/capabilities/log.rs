//! `cordial:jobs/log` → `tracing`, tagged with the job and the run.

use crate::runtime::RunState;
use crate::runtime::bindings::log::{Host, Level};

impl Host for RunState {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let (job, run) = (self.job.as_str(), self.run_id.as_str());
        match level {
            Level::Trace => tracing::trace!(job, run, "{message}"),
            Level::Debug => tracing::debug!(job, run, "{message}"),
            Level::Info => tracing::info!(job, run, "{message}"),
            Level::Warn => tracing::warn!(job, run, "{message}"),
            Level::Error => tracing::error!(job, run, "{message}"),
        }
        Ok(())
    }
}
