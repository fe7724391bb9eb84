//! The capabilities the host grants a job, one module each, in the shape of
//! wasmtime-wasi-http's `WasiHttpCtx`/`WasiHttpView`: each module owns its per-call state
//! (a `…Ctx`), implements the generated `Host` traits on it (or on a view of it with the
//! call's resource table), and adds itself to a linker with its own `add_to_linker`. The
//! per-call store data ([`crate::runtime::RunState`]) only composes them.
//!
//! | capability | interface | backed by |
//! |---|---|---|
//! | [`http`] | `wasi:http/outgoing-handler` | the job's Cordial origin only, credentials added |
//! | [`keyvalue`] | `wasi:keyvalue/store@0.2.0-draft2` | a [`KeyValueBackend`]: the job's rows in the SQLite store |
//! | [`config`] | `wasi:config/store@0.2.0-draft-2024-09-27` | the job's settings from the host config |
//! | [`log`] | `wasi:cli/stderr` | `tracing`, tagged with the job and the run |
//! | [`sftp`] | `cordial:jobs/sftp` | the authorization's SFTP server, confined to its folder |
//! | [`streams`] | `cordial:jobs/streams` | a [`StreamsBackend`]: stream tables in the SQLite store |
//! | [`members`] | `cordial:jobs/members` | a [`MembersBackend`]: a bulk job's waiting members in the SQLite store |
//!
//! The three backends are traits so that a platform embedding the host supplies its own
//! ([`Backends`]); the host's SQLite [`Db`] implements them all.

pub mod config;
pub mod http;
pub mod keyvalue;
pub mod log;
pub mod members;
pub mod sftp;
pub mod streams;

pub use keyvalue::KeyValueBackend;
pub use members::MembersBackend;
pub use streams::StreamsBackend;

use crate::db::Db;
use std::sync::Arc;

/// Where the jobs' state, streams and waiting members live.
#[derive(Clone)]
pub struct Backends {
    pub keyvalue: Arc<dyn KeyValueBackend>,
    pub streams: Arc<dyn StreamsBackend>,
    pub members: Arc<dyn MembersBackend>,
}

impl Backends {
    /// Only state: enough for the jobs whose worlds import neither streams nor members (real
    /// time, capture); a job that asks for either is told the platform has none.
    pub fn keyvalue_only(keyvalue: Arc<dyn KeyValueBackend>) -> Backends {
        Backends {
            keyvalue,
            streams: Arc::new(Unsupported),
            members: Arc::new(Unsupported),
        }
    }

    /// All three in the host's SQLite database.
    pub fn sqlite(db: &Db) -> Backends {
        Backends {
            keyvalue: Arc::new(db.clone()),
            streams: Arc::new(db.clone()),
            members: Arc::new(db.clone()),
        }
    }
}

/// A platform without streams or bulk members.
struct Unsupported;

impl StreamsBackend for Unsupported {
    fn append(
        &self,
        _: &str,
        _: &[(Option<String>, String)],
    ) -> anyhow::Result<crate::db::EmitSummary> {
        anyhow::bail!("this platform has no streams")
    }
    fn quarantine(&self, _: &str, _: &str, _: &[crate::db::Quarantined]) -> anyhow::Result<()> {
        anyhow::bail!("this platform has no streams")
    }
}

impl MembersBackend for Unsupported {
    fn high_water(&self, _: &str) -> anyhow::Result<u64> {
        anyhow::bail!("this platform has no bulk audience members")
    }
    fn page(&self, _: &str, _: u64, _: u64, _: u32) -> anyhow::Result<Vec<crate::db::Member>> {
        anyhow::bail!("this platform has no bulk audience members")
    }
    fn acknowledge(&self, _: &str, _: u64) -> anyhow::Result<u64> {
        anyhow::bail!("this platform has no bulk audience members")
    }
}

/// Runs a backend call on the blocking pool: backends may block (SQLite does), and must not
/// hold up the async threads that serve requests and drive component calls.
async fn blocking<B: ?Sized + Send + Sync + 'static, T: Send + 'static>(
    backend: &Arc<B>,
    f: impl FnOnce(&B) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let backend = backend.clone();
    tokio::task::spawn_blocking(move || f(&backend)).await?
}

/// A capability's per-call state with the call's resource table, where the resources it
/// hands out (open buckets, open files) live: the data its generated `Host` traits are
/// implemented on.
pub struct WithTable<'a, C> {
    pub ctx: &'a mut C,
    pub table: &'a mut wasmtime::component::ResourceTable,
}

/// Links a capability with resources: its `Host` traits see a [`WithTable`].
pub struct HasTable<C>(std::marker::PhantomData<C>);

impl<C: 'static> wasmtime::component::HasData for HasTable<C> {
    type Data<'a> = WithTable<'a, C>;
}

/// Time a call spent inside the host's own I/O (SFTP transfers, store reads and writes),
/// so a run's figures can tell the job's work from the host's.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostIo(pub std::time::Duration);

impl HostIo {
    /// Runs `f`, adding its duration.
    pub async fn time<T>(&mut self, f: impl Future<Output = T>) -> T {
        let started = std::time::Instant::now();
        let out = f.await;
        self.0 += started.elapsed();
        out
    }
}

/// Adds every capability (and the WASI the Rust standard library needs) to `linker`. A job
/// is linked only to what its world imports; the rest is simply not used.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<crate::runtime::RunState>,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    keyvalue::add_to_linker(linker)?;
    config::add_to_linker(linker)?;
    sftp::add_to_linker(linker)?;
    streams::add_to_linker(linker)?;
    members::add_to_linker(linker)
}
