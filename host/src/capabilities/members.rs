//! `cordial:jobs/members`: the members waiting for a bulk job's export (the latest state per
//! contact the platform sent), read in pages from a [`MembersBackend`] and acknowledged once
//! Cordial has them. Backend calls run on the blocking pool.

use super::{HostIo, blocking};
use crate::db::Db;
use crate::runtime::bindings::members::{self, Member};
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};

/// The largest page a job may ask for.
const MAX_PAGE: u32 = 10_000;

/// Where a bulk job's waiting members come from: each with a sequence number that grows as
/// the platform sends them. Calls may block; they run on the blocking pool.
pub trait MembersBackend: Send + Sync + 'static {
    /// The highest sequence number waiting for `job` (0 when none is).
    fn high_water(&self, job: &str) -> anyhow::Result<u64>;
    /// Waiting members with `after < seq <= up_to`, in sequence order, at most `limit`.
    fn page(
        &self,
        job: &str,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> anyhow::Result<Vec<crate::db::Member>>;
    /// Forgets the members up to `up_to`, now in Cordial; returns how many.
    fn acknowledge(&self, job: &str, up_to: u64) -> anyhow::Result<u64>;
}

/// The host's own: the `bulk_members` table of its SQLite database.
impl MembersBackend for Db {
    fn high_water(&self, job: &str) -> anyhow::Result<u64> {
        self.members_high_water(job)
    }
    fn page(
        &self,
        job: &str,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> anyhow::Result<Vec<crate::db::Member>> {
        self.members_page(job, after, up_to, limit)
    }
    fn acknowledge(&self, job: &str, up_to: u64) -> anyhow::Result<u64> {
        self.acknowledge_members(job, up_to)
    }
}

/// One call's members.
pub struct MembersCtx {
    backend: Arc<dyn MembersBackend>,
    job: String,
    pub io: HostIo,
}

impl MembersCtx {
    pub fn new(backend: Arc<dyn MembersBackend>, job: &str) -> MembersCtx {
        MembersCtx {
            backend,
            job: job.to_owned(),
            io: HostIo::default(),
        }
    }

    /// Runs a backend call for this job on the blocking pool, timing it.
    async fn on_backend<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&dyn MembersBackend, &str) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let job = self.job.clone();
        self.io
            .time(blocking(&self.backend, move |b| f(b, &job)))
            .await
            .map_err(|e| format!("the host could not use the waiting members: {e:#}"))
    }
}

/// Per-call store data that carries a [`MembersCtx`].
pub trait MembersView: Send {
    fn members(&mut self) -> &mut MembersCtx;
}

pub fn add_to_linker<T: MembersView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    members::add_to_linker::<T, HasSelf<MembersCtx>>(linker, |t| t.members())
}

impl members::Host for MembersCtx {
    async fn high_water(&mut self) -> wasmtime::Result<Result<u64, String>> {
        Ok(self.on_backend(|b, job| b.high_water(job)).await)
    }

    async fn page(
        &mut self,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<Member>, String>> {
        let page = self
            .on_backend(move |b, job| b.page(job, after, up_to, limit.min(MAX_PAGE)))
            .await;
        Ok(page.map(|page| {
            page.into_iter()
                .map(|m| Member {
                    seq: m.seq,
                    entered: m.entered,
                    user: m.user,
                })
                .collect()
        }))
    }

    async fn acknowledge(&mut self, up_to: u64) -> wasmtime::Result<Result<u64, String>> {
        Ok(self
            .on_backend(move |b, job| b.acknowledge(job, up_to))
            .await)
    }
}
