//! `cordial:jobs/members`: the members waiting for a bulk job's export (the latest state per contact the
//! platform sent), read in pages and acknowledged once Cordial has them. Database calls run on
//! the blocking pool.

use super::HostIo;
use crate::db::Db;
use crate::runtime::bindings::members::{self, Member};
use wasmtime::component::{HasSelf, Linker};

/// The largest page a job may ask for.
const MAX_PAGE: u32 = 10_000;

/// One call's members.
pub struct MembersCtx {
    db: Db,
    job: String,
    pub io: HostIo,
}

impl MembersCtx {
    pub fn new(db: Db, job: &str) -> MembersCtx {
        MembersCtx {
            db,
            job: job.to_owned(),
            io: HostIo::default(),
        }
    }

    /// Runs a database call for this job on the blocking pool, timing it.
    async fn on_db<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Db, &str) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let (db, job) = (self.db.clone(), self.job.clone());
        self.io
            .time(db.blocking(move |s| f(s, &job)))
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
        Ok(self.on_db(|s, job| s.members_high_water(job)).await)
    }

    async fn page(
        &mut self,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<Member>, String>> {
        let page = self
            .on_db(move |s, job| s.members_page(job, after, up_to, limit.min(MAX_PAGE)))
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
            .on_db(move |s, job| s.acknowledge_members(job, up_to))
            .await)
    }
}
