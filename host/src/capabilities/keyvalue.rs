//! `wasi:keyvalue/store`: durable state private to one job (cursors, checkpoints, caches),
//! kept by a [`KeyValueBackend`]: the job's rows of the SQLite database in the host, whatever
//! a platform embedding the host supplies. A job has one bucket, `default` (the name Spin
//! gives its default store too); a write is durable when `set` returns. Backend calls run on
//! the blocking pool, off the async threads.

use super::{HasTable, WithTable, blocking};
use crate::db::Db;
use crate::runtime::bindings::keyvalue::store::{self, Error, KeyResponse};
use crate::runtime::bindings::resources::Bucket;
use std::sync::Arc;
use wasmtime::component::{Linker, Resource};

/// The only bucket a job may open.
pub const BUCKET: &str = "default";

/// Keys listed per `list-keys` call.
const KEYS_PER_PAGE: u32 = 1000;

/// Where jobs keep their state: one namespace of keys per job. Writes must be durable when
/// they return. Calls may block; they run on the blocking pool.
pub trait KeyValueBackend: Send + Sync + 'static {
    fn get(&self, job: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    fn set(&self, job: &str, key: &str, value: &[u8]) -> anyhow::Result<()>;
    fn delete(&self, job: &str, key: &str) -> anyhow::Result<()>;
    /// The job's keys after `after` (all when `None`), in order, at most `limit`.
    fn keys(&self, job: &str, after: Option<&str>, limit: u32) -> anyhow::Result<Vec<String>>;
}

/// The host's own: the `job_state` table of its SQLite database.
impl KeyValueBackend for Db {
    fn get(&self, job: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.state_get(job, key)
    }
    fn set(&self, job: &str, key: &str, value: &[u8]) -> anyhow::Result<()> {
        self.state_set(job, key, value)
    }
    fn delete(&self, job: &str, key: &str) -> anyhow::Result<()> {
        self.state_delete(job, key)
    }
    fn keys(&self, job: &str, after: Option<&str>, limit: u32) -> anyhow::Result<Vec<String>> {
        self.state_keys(job, after, limit)
    }
}

/// One job's state.
pub struct KeyValueCtx {
    backend: Arc<dyn KeyValueBackend>,
    job: String,
}

impl KeyValueCtx {
    pub fn new(backend: Arc<dyn KeyValueBackend>, job: &str) -> KeyValueCtx {
        KeyValueCtx {
            backend,
            job: job.to_owned(),
        }
    }

    /// Runs a backend call for this job on the blocking pool; a failure is the job's to handle.
    async fn on_backend<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn KeyValueBackend, &str) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        let job = self.job.clone();
        blocking(&self.backend, move |b| f(b, &job))
            .await
            .map_err(|e| Error::Other(format!("the host could not use the job's state: {e:#}")))
    }
}

/// Per-call store data that carries a [`KeyValueCtx`].
pub trait KeyValueHost: Send {
    fn keyvalue(&mut self) -> WithTable<'_, KeyValueCtx>;
}

pub fn add_to_linker<T: KeyValueHost + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasTable<KeyValueCtx>>(linker, |t| t.keyvalue())
}

impl store::Host for WithTable<'_, KeyValueCtx> {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<Bucket>, Error>> {
        if identifier != BUCKET {
            return Ok(Err(Error::NoSuchStore));
        }
        Ok(Ok(self.table.push(Bucket)?))
    }
}

impl store::HostBucket for WithTable<'_, KeyValueCtx> {
    async fn get(
        &mut self,
        _: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self.ctx.on_backend(move |b, job| b.get(job, &key)).await)
    }

    async fn set(
        &mut self,
        _: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self
            .ctx
            .on_backend(move |b, job| b.set(job, &key, &value))
            .await)
    }

    async fn delete(
        &mut self,
        _: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.ctx.on_backend(move |b, job| b.delete(job, &key)).await)
    }

    async fn exists(
        &mut self,
        _: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self
            .ctx
            .on_backend(move |b, job| b.get(job, &key).map(|v| v.is_some()))
            .await)
    }

    async fn list_keys(
        &mut self,
        _: Resource<Bucket>,
        cursor: Option<String>,
    ) -> wasmtime::Result<Result<KeyResponse, Error>> {
        Ok(self
            .ctx
            .on_backend(move |b, job| b.keys(job, cursor.as_deref(), KEYS_PER_PAGE))
            .await
            .map(|keys| KeyResponse {
                cursor: (keys.len() == KEYS_PER_PAGE as usize)
                    .then(|| keys.last().cloned())
                    .flatten(),
                keys,
            }))
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}
