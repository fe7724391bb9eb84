//! `cordial:jobs/streams`: records a job emits, appended to the SQLite database in one
//! transaction per call (keyed records deduplicated), and records it quarantines. Database calls
//! run on the blocking pool.

use super::HostIo;
use crate::db::Db;
use crate::runtime::bindings::streams::{self, EmitSummary, Quarantined, StreamRecord};
use wasmtime::component::{HasSelf, Linker};

/// The longest record text kept in the quarantine.
const QUARANTINE_TEXT: usize = 4096;

/// One call's streams.
pub struct StreamsCtx {
    db: Db,
    job: String,
    pub io: HostIo,
}

impl StreamsCtx {
    pub fn new(db: Db, job: &str) -> StreamsCtx {
        StreamsCtx {
            db,
            job: job.to_owned(),
            io: HostIo::default(),
        }
    }
}

/// Per-call store data that carries a [`StreamsCtx`].
pub trait StreamsView: Send {
    fn streams(&mut self) -> &mut StreamsCtx;
}

pub fn add_to_linker<T: StreamsView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    streams::add_to_linker::<T, HasSelf<StreamsCtx>>(linker, |t| t.streams())
}

impl streams::Host for StreamsCtx {
    async fn emit(
        &mut self,
        stream_name: String,
        records: Vec<StreamRecord>,
    ) -> wasmtime::Result<Result<EmitSummary, String>> {
        let records: Vec<(Option<String>, String)> =
            records.into_iter().map(|r| (r.key, r.body)).collect();
        let db = self.db.clone();
        let stored = self
            .io
            .time(db.blocking(move |s| s.append_stream(&stream_name, &records)))
            .await;
        Ok(stored
            .map(|c| EmitSummary {
                accepted: c.accepted,
                duplicates: c.duplicates,
                rejected: c.rejected,
            })
            .map_err(|e| format!("the host could not db the records: {e:#}")))
    }

    async fn quarantine(
        &mut self,
        stream_name: String,
        entries: Vec<Quarantined>,
    ) -> wasmtime::Result<Result<(), String>> {
        let entries: Vec<crate::db::Quarantined> = entries
            .into_iter()
            .map(|e| crate::db::Quarantined {
                file: e.file,
                line: e.line,
                reason: e.reason,
                text: e.text.chars().take(QUARANTINE_TEXT).collect(),
            })
            .collect();
        let (db, job) = (self.db.clone(), self.job.clone());
        Ok(db
            .blocking(move |s| s.quarantine(&job, &stream_name, &entries))
            .await
            .map_err(|e| format!("the host could not keep the quarantined records: {e:#}")))
    }
}
