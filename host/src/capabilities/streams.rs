//! `cordial:jobs/streams`: records a job emits, appended to the SQLite store in one
//! transaction per call (keyed records deduplicated), and records it quarantines. Store calls
//! run on the blocking pool.

use super::HostIo;
use crate::runtime::bindings::streams::{self, EmitSummary, Quarantined, StreamRecord};
use crate::store::Store;
use wasmtime::component::{HasData, Linker};

/// The longest record text kept in the quarantine.
const QUARANTINE_TEXT: usize = 4096;

/// One call's streams.
pub struct StreamsCtx {
    store: Store,
    job: String,
    pub io: HostIo,
}

impl StreamsCtx {
    pub fn new(store: Store, job: &str) -> StreamsCtx {
        StreamsCtx {
            store,
            job: job.to_owned(),
            io: HostIo::default(),
        }
    }
}

/// Store data that carries a [`StreamsCtx`].
pub trait StreamsView: Send {
    fn streams(&mut self) -> &mut StreamsCtx;
}

struct HasStreams;

impl HasData for HasStreams {
    type Data<'a> = &'a mut StreamsCtx;
}

pub fn add_to_linker<T: StreamsView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    streams::add_to_linker::<T, HasStreams>(linker, |t| t.streams())
}

impl streams::Host for StreamsCtx {
    async fn emit(
        &mut self,
        stream_name: String,
        records: Vec<StreamRecord>,
    ) -> wasmtime::Result<Result<EmitSummary, String>> {
        let records: Vec<(Option<String>, String)> =
            records.into_iter().map(|r| (r.key, r.body)).collect();
        let store = self.store.clone();
        let stored = self
            .io
            .time(store.blocking(move |s| s.append_stream(&stream_name, &records)))
            .await;
        Ok(stored
            .map(|c| EmitSummary {
                accepted: c.accepted,
                duplicates: c.duplicates,
                rejected: c.rejected,
            })
            .map_err(|e| format!("the host could not store the records: {e:#}")))
    }

    async fn quarantine(
        &mut self,
        stream_name: String,
        entries: Vec<Quarantined>,
    ) -> wasmtime::Result<Result<(), String>> {
        let entries: Vec<crate::store::Quarantined> = entries
            .into_iter()
            .map(|e| crate::store::Quarantined {
                file: e.file,
                line: e.line,
                reason: e.reason,
                text: e.text.chars().take(QUARANTINE_TEXT).collect(),
            })
            .collect();
        let (store, job) = (self.store.clone(), self.job.clone());
        Ok(store
            .blocking(move |s| s.quarantine(&job, &stream_name, &entries))
            .await
            .map_err(|e| format!("the host could not keep the quarantined records: {e:#}")))
    }
}
