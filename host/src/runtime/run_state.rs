//! The per-call state a job's store holds: its identity, its capabilities, and the WASI and
//! wasi:http contexts.

use super::bindings::{outcomes, types};
use super::limiter::JobLimiter;
use crate::capabilities::http::{CordialHttpPolicy, NetworkWait};
use crate::config::SftpConfig;
use crate::store::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub struct RunState {
    pub job: String,
    pub run_id: String,
    pub store: Store,
    pub sftp: Option<SftpConfig>,
    /// The call's SFTP connection, opened on first use.
    pub sftp_client: Option<cordial_sftp::SftpClient>,
    /// Time spent inside the host's SFTP and platform capability calls during this call.
    pub host_io: std::time::Duration,
    pub table: ResourceTable,
    pub limiter: JobLimiter,
    /// Time spent waiting for Cordial during this call.
    pub http_waited: std::sync::Arc<NetworkWait>,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: CordialHttpPolicy,
}

impl RunState {
    pub fn new(
        job: &str,
        run_id: &str,
        store: Store,
        sftp: Option<SftpConfig>,
        hooks: CordialHttpPolicy,
        max_memory_bytes: usize,
    ) -> Self {
        // No environment, no arguments, no preopened directories, no sockets: a job reaches
        // the world only through its capabilities. Stderr is passed through so a panicking
        // job's message reaches the operator.
        let wasi = WasiCtx::builder().inherit_stderr().build();
        RunState {
            job: job.to_owned(),
            run_id: run_id.to_owned(),
            store,
            sftp,
            sftp_client: None,
            host_io: std::time::Duration::ZERO,
            table: ResourceTable::new(),
            limiter: JobLimiter::new(max_memory_bytes),
            http_waited: hooks.waited(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks,
        }
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RunState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl types::Host for RunState {}
impl outcomes::Host for RunState {}
