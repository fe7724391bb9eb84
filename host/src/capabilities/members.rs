//! `cordial:jobs/members`: the members waiting for a bulk job's export (the latest state per contact the
//! platform sent), read in pages and acknowledged once Cordial has them. Store calls run on
//! the blocking pool.

use super::HostIo;
use crate::runtime::bindings::members::{self, Member};
use crate::store::Store;
use wasmtime::component::{HasData, Linker};

/// The largest page a job may ask for.
const MAX_PAGE: u32 = 10_000;

/// One call's members.
pub struct MembersCtx {
    store: Store,
    job: String,
    pub io: HostIo,
}

impl MembersCtx {
    pub fn new(store: Store, job: &str) -> MembersCtx {
        MembersCtx {
            store,
            job: job.to_owned(),
            io: HostIo::default(),
        }
    }

    /// Runs a store call for this job on the blocking pool, timing it.
    async fn on_store<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Store, &str) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let (store, job) = (self.store.clone(), self.job.clone());
        self.io
            .time(store.blocking(move |s| f(s, &job)))
            .await
            .map_err(|e| format!("the host could not use the waiting members: {e:#}"))
    }
}

/// Store data that carries a [`MembersCtx`].
pub trait MembersView: Send {
    fn members(&mut self) -> &mut MembersCtx;
}

struct HasMembers;

impl HasData for HasMembers {
    type Data<'a> = &'a mut MembersCtx;
}

pub fn add_to_linker<T: MembersView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    members::add_to_linker::<T, HasMembers>(linker, |t| t.members())
}

impl members::Host for MembersCtx {
    async fn high_water(&mut self) -> wasmtime::Result<Result<u64, String>> {
        Ok(self.on_store(|s, job| s.members_high_water(job)).await)
    }

    async fn page(
        &mut self,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<Member>, String>> {
        let page = self
            .on_store(move |s, job| s.members_page(job, after, up_to, limit.min(MAX_PAGE)))
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
            .on_store(move |s, job| s.acknowledge_members(job, up_to))
            .await)
    }
}
