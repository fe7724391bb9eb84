//! The engine, the linker with every capability, the epoch ticker, and the cache of linked
//! components.

use super::bindings::{items, outcomes, types};
use super::components;
use super::run_state::RunState;
use crate::artifact::{ComponentSource, cache::Cache};
use crate::capabilities::Backends;
use crate::capabilities::http::JobHttp;
use crate::config::{AuthConfig, HostConfig, JobConfig};
use crate::db::Db;
use crate::jobs::{Driver, descriptor};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
};

/// How often the epoch advances; a call's deadline is counted in these ticks.
pub(super) const EPOCH_TICK: Duration = Duration::from_millis(100);

/// Everything needed to run jobs: shared by all calls, cheap to share behind an `Arc`.
pub struct Runtime {
    pub(super) engine: Engine,
    linker: Linker<RunState>,
    loaded: Mutex<HashMap<ComponentSource, Arc<Driver>>>,
    pub(super) config: HostConfig,
    pub(super) db: Db,
    /// Where the jobs' state, streams and waiting members live.
    pub(super) backends: Backends,
    fuel_enabled: bool,
    /// Per job: its HTTP policy (origin, credential, traffic controls), prepared on first use
    /// and shared by all its calls.
    http: Mutex<HashMap<String, Arc<JobHttp>>>,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    /// A runtime whose jobs keep everything in `db`, the host's SQLite database.
    pub fn new(config: HostConfig, db: Db) -> anyhow::Result<Runtime> {
        let backends = Backends::sqlite(&db);
        Runtime::with_backends(config, db, backends)
    }

    /// A runtime for a platform that embeds the host: the jobs' state, streams and waiting
    /// members live in the platform's `backends`. The host's own queue and scheduler (which
    /// an embedding platform replaces with its own) get a private in-memory database.
    pub fn for_platform(config: HostConfig, backends: Backends) -> anyhow::Result<Runtime> {
        Runtime::with_backends(config, Db::in_memory()?, backends)
    }

    fn with_backends(config: HostConfig, db: Db, backends: Backends) -> anyhow::Result<Runtime> {
        let fuel_enabled = config.jobs.iter().any(|j| j.limits.fuel > 0) || config.limits.fuel > 0;
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(fuel_enabled)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool_for(&config)));
        if std::env::var_os("CORDIAL_PERF_MAP").is_some() {
            // `/tmp/perf-<pid>.map` names the jobs' compiled functions for `perf report`.
            cfg.profiler(ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&cfg)?;

        let mut linker = Linker::<RunState>::new(&engine);
        crate::capabilities::add_to_linker(&mut linker)?;
        // The interfaces that only declare types.
        types::add_to_linker::<_, HasSelf<RunState>>(&mut linker, |s| s)?;
        outcomes::add_to_linker::<_, HasSelf<RunState>>(&mut linker, |s| s)?;
        items::add_to_linker::<_, HasSelf<RunState>>(&mut linker, |s| s)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (e, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    e.increment_epoch();
                }
            })?;
        Ok(Runtime {
            http: Mutex::default(),
            engine,
            linker,
            loaded: Mutex::new(HashMap::new()),
            config,
            db,
            backends,
            fuel_enabled,
            ticker_stop,
        })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The job's HTTP policy, reading its API key on first use. The key is read once per
    /// process: after rotating it, restart the host.
    pub(super) fn job_http(
        &self,
        job: &JobConfig,
        auth: &AuthConfig,
    ) -> anyhow::Result<Arc<JobHttp>> {
        let mut cache = self.http.lock().expect("http policy cache poisoned");
        if let Some(http) = cache.get(&job.name) {
            return Ok(http.clone());
        }
        let api_key = auth
            .api_key
            .read()
            .map_err(|e| anyhow::anyhow!("auth `{}`: {e}", auth.name))?;
        let sftp_password = match auth.sftp.as_ref().map(|s| &s.credential) {
            Some(crate::config::SftpCredential::Password(source)) => Some(
                source
                    .read()
                    .map_err(|e| anyhow::anyhow!("auth `{}` sftp: {e}", auth.name))?,
            ),
            _ => None,
        };
        let http = Arc::new(
            JobHttp::new(
                &job.name,
                &auth.base_url,
                &api_key,
                job.delivery.max_in_flight as usize,
            )?
            .with_sftp_password(sftp_password),
        );
        cache.insert(job.name.clone(), http.clone());
        Ok(http)
    }

    pub(super) fn fuel_enabled(&self) -> bool {
        self.fuel_enabled
    }

    /// The job's linked component in its kind's driver, fetching and compiling it on first
    /// use.
    pub(super) async fn driver_for(&self, job: &JobConfig) -> anyhow::Result<Arc<Driver>> {
        let source = job.component.clone().unwrap_or_else(|| {
            ComponentSource::File(
                self.config
                    .components_dir
                    .join(descriptor(job.kind).component_file()),
            )
        });
        if let Some(pre) = self
            .loaded
            .lock()
            .expect("component cache poisoned")
            .get(&source)
        {
            return Ok(pre.clone());
        }
        let cache = Cache::beside(&self.config.store);
        let pre = Arc::new(
            components::load(&self.engine, &self.linker, job.kind, &source, &cache)
                .await
                .map_err(anyhow::Error::from)?,
        );
        self.loaded
            .lock()
            .expect("component cache poisoned")
            .insert(source, pre.clone());
        Ok(pre)
    }

    /// The jobs whose components do not load now, each with why (for `/readyz`). A loaded
    /// component stays loaded, so after the first check this costs a map lookup per job.
    pub async fn unloadable_components(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for job in &self.config.jobs {
            if let Err(e) = self.driver_for(job).await {
                problems.push(format!("{}: {e:#}", job.name));
            }
        }
        problems
    }
}

/// Instances come from a pool sized for the config: every call gets a fresh instance, and
/// reusing pooled memory and tables makes that far cheaper than mapping them anew. Room for
/// every worker of every job at once, plus headroom for checks and scheduled runs.
fn pool_for(config: &HostConfig) -> PoolingAllocationConfig {
    let calls: u32 = config
        .jobs
        .iter()
        .map(|j| j.delivery.concurrency)
        .sum::<u32>()
        + 32;
    let largest_memory_mb = config
        .jobs
        .iter()
        .map(|j| j.limits.memory_mb)
        .chain([config.limits.memory_mb])
        .max()
        .unwrap_or(256);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(calls)
        // A job component holds a few core instances (the program and its adapters).
        .total_core_instances(calls * 8)
        .total_memories(calls * 2)
        .total_tables(calls * 4)
        .max_memory_size((largest_memory_mb as usize) << 20);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        // A slot handed back is reset in place: Linux's PAGEMAP_SCAN (6.7+) finds the pages
        // the call touched and only those are restored, up to 4 MiB (the initial memory of
        // the queue-driven jobs, whose calls are short and many), instead of `madvise`
        // dropping them (then page faults on the next call, and TLB shootdowns on every
        // core). Each call still starts from the component's pristine memory and tables.
        // A fresh store + instantiate + call went from 31 to 14 µs (overhead benchmark);
        // under the real-time load, 4 MiB here and the 4 MiB initial memory that spares
        // those calls growing took the host's overhead per call from 74 to 40 µs.
        // Without the ioctl, keeping pages resident means `memset`ting them whole, which
        // measured no better than `madvise`, so older kernels keep the default.
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(1 << 20);
    }
    pool
}

impl types::Host for RunState {}
impl outcomes::Host for RunState {}
impl items::Host for RunState {}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
