//! The per-call store data: the WASI contexts and every capability's per-call state, each
//! owned by its capability module; this only composes them and hands each its view.

use super::limiter::JobLimiter;
use crate::capabilities::config::{ConfigCtx, ConfigView};
use crate::capabilities::http::{CordialHttpPolicy, NetworkWait};
use crate::capabilities::keyvalue::{KeyValueCtx, KeyValueHost};
use crate::capabilities::log::JobLog;
use crate::capabilities::members::{MembersCtx, MembersView};
use crate::capabilities::sftp::{SftpCtx, SftpHost};
use crate::capabilities::streams::{StreamsCtx, StreamsView};
use crate::capabilities::{Backends, WithTable};
use crate::config::SftpConfig;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Who is calling, and with what.
pub struct CallParts {
    pub job: String,
    pub backends: Backends,
    pub settings: Vec<(String, String)>,
    pub sftp: Option<SftpConfig>,
    pub hooks: CordialHttpPolicy,
    pub max_memory_bytes: usize,
}

pub struct RunState {
    pub table: ResourceTable,
    /// The call's stderr (its log), to say afterwards what went over its limit.
    pub log: JobLog,
    pub limiter: JobLimiter,
    /// Time spent waiting for Cordial during this call.
    pub http_waited: Arc<NetworkWait>,
    /// When the component was instantiated and its export could be called.
    pub instantiated_at: Option<std::time::Instant>,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: CordialHttpPolicy,
    keyvalue: KeyValueCtx,
    config: ConfigCtx,
    sftp: SftpCtx,
    streams: StreamsCtx,
    members: MembersCtx,
}

impl RunState {
    pub fn new(parts: CallParts) -> Self {
        // No environment, no arguments, no preopened directories, no sockets: a job reaches
        // the world only through its capabilities. Its stderr is its log.
        let log = JobLog::default();
        let wasi = WasiCtx::builder().stderr(log.clone()).build();
        RunState {
            table: ResourceTable::new(),
            log,
            limiter: JobLimiter::new(parts.max_memory_bytes),
            http_waited: parts.hooks.waited(),
            instantiated_at: None,
            wasi,
            http: WasiHttpCtx::new(),
            hooks: parts.hooks,
            keyvalue: KeyValueCtx::new(parts.backends.keyvalue, &parts.job),
            config: ConfigCtx::new(parts.settings),
            sftp: SftpCtx::new(parts.sftp),
            streams: StreamsCtx::new(parts.backends.streams, &parts.job),
            members: MembersCtx::new(parts.backends.members, &parts.job),
        }
    }

    /// Waits for the batch the job appended last to reach the store (see
    /// [`StreamsCtx::settle`]).
    pub async fn settle_streams(&mut self) -> Result<(), String> {
        self.streams.settle().await
    }

    /// What the call's emits and quarantines came to.
    pub fn emitted(&self) -> crate::capabilities::streams::Emitted {
        self.streams.emitted
    }

    /// Time spent inside the host's SFTP and database capabilities during this call.
    pub fn host_io(&self) -> Duration {
        self.sftp.io.0 + self.streams.io.0 + self.members.io.0
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

/// Hands each capability its own part of the store data (and, for those with resources,
/// the call's resource table).
macro_rules! capability_views {
    (own: $($trait:ident :: $view:ident => $field:ident : $ctx:ty),* ;
     with_table: $($ttrait:ident :: $tview:ident => $tfield:ident : $tctx:ty),*) => {
        $(impl $trait for RunState {
            fn $view(&mut self) -> &mut $ctx {
                &mut self.$field
            }
        })*
        $(impl $ttrait for RunState {
            fn $tview(&mut self) -> WithTable<'_, $tctx> {
                WithTable {
                    ctx: &mut self.$tfield,
                    table: &mut self.table,
                }
            }
        })*
    };
}

capability_views! {
    own:
        ConfigView::config => config: ConfigCtx,
        StreamsView::streams => streams: StreamsCtx,
        MembersView::members => members: MembersCtx;
    with_table:
        KeyValueHost::keyvalue => keyvalue: KeyValueCtx,
        SftpHost::sftp => sftp: SftpCtx
}
