//! Calling a job: a fresh store per call with the job's limits, instantiation from the
//! pre-linked component in its kind's driver, the export call, and errors turned into
//! [`CallError`]s. Everything here speaks the job types of `cordial_jobs`.

use super::engine::{EPOCH_TICK, Runtime};
use super::errors::CallError;
use super::run_state::{CallParts, RunState};
use crate::capabilities::http::CordialHttpPolicy;
use crate::config::JobConfig;
use crate::jobs::Driver;
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::job::{JobError, Outcome, Progress, RunContext, RunReport};
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::ConfigProblem;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;
use wasmtime::{Store, Trap};

/// Identity of one call, for logs and the job's run context.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub run_id: String,
    pub started_at: String,
}

impl CallContext {
    pub fn now() -> CallContext {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = chrono::Utc::now();
        CallContext {
            run_id: format!(
                "{:x}-{:x}",
                now.timestamp_millis(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
            started_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// Where the time of a component call (or of a whole run, summed over its calls) went, and
/// what it stored in the streams.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallStats {
    /// The host's fixed cost of a call: a fresh store with its limits and capabilities, and
    /// the instantiation from the pre-linked component, until the export can be called.
    pub setup: std::time::Duration,
    /// From setting up the store to the call's return.
    pub total: std::time::Duration,
    /// Waiting for Cordial's responses.
    pub http: std::time::Duration,
    /// Inside the host's SFTP and database capabilities (uploads, reading members, storing
    /// records).
    pub host_io: std::time::Duration,
    /// The records the call stored, skipped as duplicates, refused and quarantined.
    pub emitted: crate::capabilities::streams::Emitted,
}

/// Where the time of one scheduled run went: its calls' stats, summed.
pub type RunStats = CallStats;

impl CallStats {
    /// The time spent inside the export other than waiting for Cordial: the job's own work
    /// and the wasi:http machinery, which grows with the batch.
    pub fn in_call_work(&self) -> std::time::Duration {
        self.total
            .saturating_sub(self.http)
            .saturating_sub(self.setup)
    }

    /// The component's own work: the run minus the time it waited on the host.
    pub fn component_work(&self) -> std::time::Duration {
        self.total
            .saturating_sub(self.http)
            .saturating_sub(self.host_io)
    }

    fn add(&mut self, other: CallStats) {
        self.setup += other.setup;
        self.total += other.total;
        self.http += other.http;
        self.host_io += other.host_io;
        self.emitted += other.emitted;
    }
}

/// How a scheduled run ended, when the component returned normally.
#[derive(Debug)]
pub enum RunOutcome {
    Completed(RunReport),
    Failed(JobError),
}

/// A call made ready: a fresh store with the job's limits and capabilities, the run
/// context, and the job's driver.
struct Prepared {
    store: Store<RunState>,
    ctx: RunContext,
    driver: Arc<Driver>,
}

impl Runtime {
    async fn prepare(&self, job: &JobConfig, call: &CallContext) -> Result<Prepared, CallError> {
        let failed = |error: anyhow::Error| CallError::Failed {
            job: job.name.clone(),
            error,
        };
        let driver = self.driver_for(job).await.map_err(failed)?;
        let auth = self
            .config
            .auths
            .get(&job.auth)
            .ok_or_else(|| failed(anyhow::anyhow!("auth `{}` is not defined", job.auth)))?;
        let hooks = CordialHttpPolicy::for_call(self.job_http(job, auth).map_err(failed)?);
        let state = RunState::new(CallParts {
            job: job.name.clone(),
            backends: self.backends.clone(),
            settings: cordial_jobs::settings::to_pairs(&job.settings),
            sftp: auth.sftp.clone(),
            hooks,
            max_memory_bytes: (job.limits.memory_mb as usize) << 20,
        });
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        if self.fuel_enabled() {
            let fuel = if job.limits.fuel == 0 {
                u64::MAX
            } else {
                job.limits.fuel
            };
            store.set_fuel(fuel).map_err(|e| failed(e.into()))?;
        }
        // Saturating: an embedder may build limits without the config file's bounds.
        let ticks = job
            .limits
            .timeout_secs
            .saturating_mul(1000)
            .div_ceil(EPOCH_TICK.as_millis() as u64);
        store.set_epoch_deadline(ticks.max(1));
        store.epoch_deadline_trap();
        let ctx = RunContext {
            job_name: job.name.clone(),
            run_id: call.run_id.clone(),
            started_at: call.started_at.clone(),
            cordial_base_url: auth.base_url.clone(),
        };
        Ok(Prepared { store, ctx, driver })
    }

    /// Turns a trap into what the operator needs to hear.
    fn classify(job: &JobConfig, store: &Store<RunState>, error: wasmtime::Error) -> CallError {
        let name = job.name.clone();
        if store.data().limiter.refused_growth {
            return CallError::OutOfMemory {
                job: name,
                limit_mb: job.limits.memory_mb,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::OutOfFuel {
                job: name,
                fuel: job.limits.fuel,
            },
            Some(Trap::Interrupt) => CallError::TimedOut {
                job: name,
                limit_secs: job.limits.timeout_secs,
            },
            _ => CallError::Failed {
                job: name,
                error: error.into(),
            },
        }
    }

    /// One component call of `job`: a fresh store, `call` on its driver, and where the
    /// time went.
    async fn call<T>(
        &self,
        job: &JobConfig,
        context: &CallContext,
        call: impl AsyncFnOnce(&Driver, &mut Store<RunState>, &RunContext) -> wasmtime::Result<T>,
    ) -> Result<(T, CallStats), CallError> {
        let started = std::time::Instant::now();
        let Prepared {
            mut store,
            ctx,
            driver,
        } = self.prepare(job, context).await?;
        // Every line logged during the call, the job's own and the host's, names both.
        let span = tracing::info_span!("call", job = %job.name, run = %context.run_id);
        // The epoch deadline stops wasm code that runs too long, but not a call parked in
        // the host (a sleep that never ends, a response that never comes): the same limit
        // on the call's future cuts that one off, and dropping it frees the instance.
        let limit =
            std::time::Duration::from_secs(job.limits.timeout_secs).saturating_add(EPOCH_TICK);
        let result = tokio::time::timeout(limit, call(&driver, &mut store, &ctx))
            .instrument(span.clone())
            .await;
        if let Some(dropped) = store.data().log.dropped() {
            span.in_scope(|| tracing::warn!("{dropped}"));
        }
        // A batch the job appended and never flushed is still stored (its keys make a later
        // copy a duplicate); the call's record counts it.
        if let Err(e) = store.data_mut().settle_streams().await {
            span.in_scope(|| tracing::warn!("{e}"));
        }
        let Ok(result) = result else {
            return Err(CallError::TimedOut {
                job: job.name.clone(),
                limit_secs: job.limits.timeout_secs,
            });
        };
        let data = store.data();
        let stats = CallStats {
            setup: data
                .instantiated_at
                .map_or(std::time::Duration::ZERO, |t| t - started),
            total: started.elapsed(),
            http: data.http_waited.total(),
            host_io: data.host_io(),
            emitted: data.emitted(),
        };
        crate::telemetry::metrics().component_call(&job.name, &stats);
        result
            .map(|r| (r, stats))
            .map_err(|e| Self::classify(job, &store, e))
    }

    /// Asks the job's component to check its settings (it may consult Cordial).
    pub async fn validate(&self, job: &JobConfig) -> Result<Vec<ConfigProblem>, CallError> {
        let call =
            async |d: &Driver, s: &mut Store<RunState>, c: &RunContext| d.validate(s, c).await;
        Ok(self.call(job, &CallContext::now(), call).await?.0)
    }

    /// A whole scheduled run of an import-activity or export-bulk job: steps until the job
    /// finishes, waiting between steps for as long as it asks (each step is its own call,
    /// with its own deadline, so Cordial's processing time never counts against one).
    pub async fn run(&self, job: &JobConfig, call: &CallContext) -> Result<RunOutcome, CallError> {
        self.run_measured(job, call).await.map(|(o, _)| o)
    }

    /// [`Runtime::run`], also saying where the run's time went (for the benchmarks and the
    /// run history). Every run passes here, so its duration and success are counted here.
    pub async fn run_measured(
        &self,
        job: &JobConfig,
        call: &CallContext,
    ) -> Result<(RunOutcome, RunStats), CallError> {
        let started = std::time::Instant::now();
        let ran = self.run_steps(job, call).await;
        let outcome = ran.as_ref().map(|(o, _)| o);
        crate::telemetry::metrics().run_ended(&job.name, started.elapsed(), outcome);
        ran
    }

    async fn run_steps(
        &self,
        job: &JobConfig,
        call: &CallContext,
    ) -> Result<(RunOutcome, RunStats), CallError> {
        let mut stats = RunStats::default();
        loop {
            let (step, step_stats) = self.run_step(job, call).await?;
            stats.add(step_stats);
            match step {
                Ok(Progress::Finished(report)) => {
                    return Ok((RunOutcome::Completed(report), stats));
                }
                Ok(Progress::Waiting { after, reason }) => {
                    tracing::info!(job = %job.name, run = %call.run_id, "waiting {after:?}: {reason}");
                    tokio::time::sleep(after).await;
                }
                Err(e) => return Ok((RunOutcome::Failed(e), stats)),
            }
        }
    }

    /// One call of a scheduled run.
    pub async fn run_step(
        &self,
        job: &JobConfig,
        call: &CallContext,
    ) -> Result<(Result<Progress, JobError>, RunStats), CallError> {
        self.call(job, call, async |d, s, c| d.run(s, c).await)
            .await
    }

    /// Hands a batch of audience events to an export-realtime job.
    pub async fn deliver(
        &self,
        job: &JobConfig,
        events: &[AudienceEvent],
    ) -> Result<Vec<Outcome>, CallError> {
        Ok(self.deliver_measured(job, events.to_vec()).await?.0)
    }

    /// [`Runtime::deliver`] of a batch the caller gives up (its text moves into the call
    /// instead of being copied), also telling where the call's time went.
    pub async fn deliver_measured(
        &self,
        job: &JobConfig,
        events: Vec<AudienceEvent>,
    ) -> Result<(Vec<Outcome>, CallStats), CallError> {
        let call = async |d: &Driver, s: &mut Store<RunState>, c: &RunContext| {
            d.deliver(s, c, events).await
        };
        self.call(job, &CallContext::now(), call).await
    }

    /// Hands a batch of experience submissions to an experience-capture job: one result per
    /// submission, in the same order, and where the call's time went.
    pub async fn submit_measured(
        &self,
        job: &JobConfig,
        submissions: Vec<Submission>,
    ) -> Result<(Vec<CaptureResult>, CallStats), CallError> {
        let call = async |d: &Driver, s: &mut Store<RunState>, c: &RunContext| {
            d.submit(s, c, submissions).await
        };
        self.call(job, &CallContext::now(), call).await
    }
}
