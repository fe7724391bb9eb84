//! `cordial:jobs/members`: the members waiting for a bulk job's export (the latest state per
//! contact the platform sent), read in pages from a [`MembersBackend`] and acknowledged once
//! Cordial has them. Backend calls run on the blocking pool.
//!
//! A job reads its members page after page, each starting after the last one it got, so
//! when a full page goes out the next one is read ahead, on the blocking pool, while the
//! job writes the page it has: reading a million members then overlaps writing their rows.
//! The pages of a run cannot change under it (members that arrive or change meanwhile get
//! sequence numbers above the run's high-water mark, and only the run acknowledges), so a
//! page read ahead is the page the job would have read; one the job does not ask for is
//! dropped.

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
    ahead: Option<ReadAhead>,
    pub io: HostIo,
}

/// A page being read before the job asks for it: what it will be asked as, and the read.
struct ReadAhead {
    asked: (u64, u64, u32),
    read: tokio::task::JoinHandle<anyhow::Result<Vec<crate::db::Member>>>,
}

impl MembersCtx {
    pub fn new(backend: Arc<dyn MembersBackend>, job: &str) -> MembersCtx {
        MembersCtx {
            backend,
            job: job.to_owned(),
            ahead: None,
            io: HostIo::default(),
        }
    }

    /// Starts reading the page after `after` (the last member of a full page just handed
    /// out) on the blocking pool.
    fn read_ahead(&mut self, after: u64, up_to: u64, limit: u32) {
        let (backend, job) = (self.backend.clone(), self.job.clone());
        let read = tokio::task::spawn_blocking(move || backend.page(&job, after, up_to, limit));
        self.ahead = Some(ReadAhead {
            asked: (after, up_to, limit),
            read,
        });
    }

    /// The page `(after, up_to, limit)`: the one read ahead if it is that page, else read
    /// now. Then, if the page is full, the next one starts.
    async fn page(
        &mut self,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> Result<Vec<crate::db::Member>, String> {
        let page = match self.ahead.take() {
            Some(ahead) if ahead.asked == (after, up_to, limit) => self
                .io
                .time(ahead.read)
                .await
                .map_err(anyhow::Error::from)
                .and_then(|read| read)
                .map_err(unusable),
            stale => {
                if let Some(ahead) = stale {
                    ahead.read.abort();
                }
                self.on_backend(move |b, job| b.page(job, after, up_to, limit))
                    .await
            }
        }?;
        if let Some(last) = page.last().filter(|_| page.len() == limit as usize) {
            self.read_ahead(last.seq, up_to, limit);
        }
        Ok(page)
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
            .map_err(unusable)
    }
}

/// What the job hears when the backend fails it.
fn unusable(e: anyhow::Error) -> String {
    format!("the host could not use the waiting members: {e:#}")
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
        let page = MembersCtx::page(self, after, up_to, limit.min(MAX_PAGE)).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Members 1..=12, and every page read asked of it.
    #[derive(Default)]
    struct Twelve {
        reads: Mutex<Vec<(u64, u64, u32)>>,
    }

    impl MembersBackend for Twelve {
        fn high_water(&self, _: &str) -> anyhow::Result<u64> {
            Ok(12)
        }
        fn page(
            &self,
            _: &str,
            after: u64,
            up_to: u64,
            limit: u32,
        ) -> anyhow::Result<Vec<crate::db::Member>> {
            self.reads.lock().unwrap().push((after, up_to, limit));
            Ok((after + 1..=up_to.min(12))
                .take(limit as usize)
                .map(|seq| crate::db::Member {
                    seq,
                    entered: true,
                    user: format!("{{\"n\":{seq}}}"),
                })
                .collect())
        }
        fn acknowledge(&self, _: &str, _: u64) -> anyhow::Result<u64> {
            Ok(0)
        }
    }

    fn seqs(page: Vec<crate::db::Member>) -> Vec<u64> {
        page.into_iter().map(|m| m.seq).collect()
    }

    #[tokio::test]
    async fn the_page_after_a_full_one_is_read_ahead_once_and_another_is_read_fresh() {
        let backend = Arc::new(Twelve::default());
        let mut ctx = MembersCtx::new(backend.clone(), "bulk");
        assert_eq!(seqs(ctx.page(0, 12, 5).await.unwrap()), [1, 2, 3, 4, 5]);
        assert_eq!(ctx.ahead.as_ref().map(|a| a.asked), Some((5, 12, 5)));
        assert_eq!(seqs(ctx.page(5, 12, 5).await.unwrap()), [6, 7, 8, 9, 10]);
        // The second page came from the read started after the first: read once, not twice.
        let reads = backend.reads.lock().unwrap().clone();
        assert_eq!(
            reads.iter().filter(|r| **r == (5, 12, 5)).count(),
            1,
            "{reads:?}"
        );
        // The job asks for another page than the one read ahead: it gets what it asked for.
        assert_eq!(seqs(ctx.page(3, 12, 5).await.unwrap()), [4, 5, 6, 7, 8]);
        assert!(backend.reads.lock().unwrap().contains(&(3, 12, 5)));
        // A page that is not full is the end: nothing is read after it.
        assert_eq!(seqs(ctx.page(10, 12, 5).await.unwrap()), [11, 12]);
        assert!(ctx.ahead.is_none());
    }
}
