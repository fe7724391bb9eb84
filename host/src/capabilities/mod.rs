//! The capabilities the host grants a job, one module each, in the shape of
//! wasmtime-wasi-http's `WasiHttpCtx`/`WasiHttpView`: each module owns its per-call state
//! (a `…Ctx`), implements the generated `Host` traits on it (or on a view of it with the
//! call's resource table), and adds itself to a linker with its own `add_to_linker`. The
//! per-call store data ([`crate::runtime::RunState`]) only composes them.
//!
//! | capability | interface | backed by |
//! |---|---|---|
//! | [`http`] | `wasi:http/outgoing-handler` | the job's Cordial origin only, credentials added |
//! | [`keyvalue`] | `wasi:keyvalue/store@0.2.0-draft2` | the job's rows in the SQLite store |
//! | [`config`] | `wasi:config/store@0.2.0-draft-2024-09-27` | the job's settings from the host config |
//! | [`log`] | `wasi:cli/stderr` | `tracing`, tagged with the job and the run |
//! | [`sftp`] | `cordial:jobs/sftp` | the authorization's SFTP server, confined to its folder |
//! | [`streams`] | `cordial:jobs/streams` | stream tables in the SQLite store |
//! | [`members`] | `cordial:jobs/members` | a bulk job's pending members in the SQLite store |

pub mod config;
pub mod http;
pub mod keyvalue;
pub mod log;
pub mod members;
pub mod sftp;
pub mod streams;

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
