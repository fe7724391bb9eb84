//! `cordial:jobs/streams`: records a job emits, appended by a [`StreamsBackend`] (in the
//! host, the SQLite database, one transaction per call, keyed records deduplicated), and
//! records it quarantines. Backend calls run on the blocking pool; an `append` returns once
//! its batch is on its way there (the batch before it stored), so the store writes one
//! batch while the job parses the next, and a `flush` waits for the last one.

use super::{HostIo, blocking};
use crate::db::{Db, EmitSummary as Stored, Quarantined as SetAside};
use crate::runtime::bindings::streams::{self, EmitSummary, Quarantined, StreamRecord};
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};

/// The longest record text kept in the quarantine.
const QUARANTINE_TEXT: usize = 4096;

/// Where the platform's streams live: records appended (a keyed record whose key the
/// stream holds is a duplicate, skipped; one that is not a flat JSON object is rejected),
/// and records a job set aside. Calls may block; they run on the blocking pool.
pub trait StreamsBackend: Send + Sync + 'static {
    fn append(&self, stream: &str, records: &[(Option<String>, String)]) -> anyhow::Result<Stored>;
    fn quarantine(&self, job: &str, stream: &str, entries: &[SetAside]) -> anyhow::Result<()>;
}

/// The host's own: stream tables in its SQLite database.
impl StreamsBackend for Db {
    fn append(&self, stream: &str, records: &[(Option<String>, String)]) -> anyhow::Result<Stored> {
        self.append_stream(stream, records)
    }
    fn quarantine(&self, job: &str, stream: &str, entries: &[SetAside]) -> anyhow::Result<()> {
        Db::quarantine(self, job, stream, entries)
    }
}

/// What a call's emits and quarantines came to, as the store counted them: the host's own
/// figures for a run's record, whatever the job's summary says.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    /// Records newly stored.
    pub stored: u64,
    /// Records whose key the stream already held, skipped.
    pub duplicates: u64,
    /// Records refused as not flat JSON objects.
    pub refused: u64,
    /// Records the job set aside as malformed.
    pub quarantined: u64,
}

impl std::ops::AddAssign for Emitted {
    fn add_assign(&mut self, other: Emitted) {
        self.stored += other.stored;
        self.duplicates += other.duplicates;
        self.refused += other.refused;
        self.quarantined += other.quarantined;
    }
}

/// A batch being stored on the blocking pool.
type Storing = tokio::task::JoinHandle<anyhow::Result<Stored>>;

/// One call's streams.
pub struct StreamsCtx {
    backend: Arc<dyn StreamsBackend>,
    job: String,
    pub io: HostIo,
    pub emitted: Emitted,
    /// The batch appended last, while the store writes it.
    storing: Option<Storing>,
    /// What appended batches came to since the job's last flush.
    unflushed: Stored,
}

impl StreamsCtx {
    pub fn new(backend: Arc<dyn StreamsBackend>, job: &str) -> StreamsCtx {
        StreamsCtx {
            backend,
            job: job.to_owned(),
            io: HostIo::default(),
            emitted: Emitted::default(),
            storing: None,
            unflushed: Stored::default(),
        }
    }

    /// Counts a batch the store took, for the run's record and the metrics.
    fn count(&mut self, c: &Stored) {
        crate::telemetry::metrics().emitted(&self.job, c);
        self.emitted += Emitted {
            stored: c.accepted.into(),
            duplicates: c.duplicates.into(),
            refused: c.rejected.into(),
            quarantined: 0,
        };
    }

    /// Waits for the batch being stored, if any; its counts join the unflushed ones. Called
    /// before anything else reaches the store (so writes keep their order) and when the
    /// call ends (so the run's record counts every batch the store took).
    pub async fn settle(&mut self) -> Result<(), String> {
        let Some(storing) = self.storing.take() else {
            return Ok(());
        };
        let stored = match self.io.time(storing).await {
            Ok(stored) => stored,
            Err(e) => Err(anyhow::anyhow!("the store's task ended: {e}")),
        };
        match stored {
            Ok(c) => {
                self.count(&c);
                self.unflushed += c;
                Ok(())
            }
            Err(e) => Err(not_stored(e)),
        }
    }
}

/// Records as the backend takes them (moved, not copied).
fn keyed(records: Vec<StreamRecord>) -> Vec<(Option<String>, String)> {
    records.into_iter().map(|r| (r.key, r.body)).collect()
}

/// What the store took, as the job is told.
fn summary(c: Stored) -> EmitSummary {
    EmitSummary {
        accepted: c.accepted,
        duplicates: c.duplicates,
        rejected: c.rejected,
    }
}

fn not_stored(e: anyhow::Error) -> String {
    format!("the host could not store the records: {e:#}")
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
        if let Err(e) = self.settle().await {
            return Ok(Err(e));
        }
        let records = keyed(records);
        let stored = self
            .io
            .time(blocking(&self.backend, move |b| {
                b.append(&stream_name, &records)
            }))
            .await;
        if let Ok(c) = &stored {
            self.count(c);
        }
        Ok(stored.map(summary).map_err(not_stored))
    }

    async fn append(
        &mut self,
        stream_name: String,
        records: Vec<StreamRecord>,
    ) -> wasmtime::Result<Result<(), String>> {
        if let Err(e) = self.settle().await {
            return Ok(Err(e));
        }
        let records = keyed(records);
        let backend = self.backend.clone();
        self.storing = Some(tokio::task::spawn_blocking(move || {
            backend.append(&stream_name, &records)
        }));
        Ok(Ok(()))
    }

    async fn flush(&mut self) -> wasmtime::Result<Result<EmitSummary, String>> {
        if let Err(e) = self.settle().await {
            return Ok(Err(e));
        }
        Ok(Ok(summary(std::mem::take(&mut self.unflushed))))
    }

    async fn quarantine(
        &mut self,
        stream_name: String,
        entries: Vec<Quarantined>,
    ) -> wasmtime::Result<Result<(), String>> {
        if let Err(e) = self.settle().await {
            return Ok(Err(e));
        }
        let entries: Vec<SetAside> = entries
            .into_iter()
            .map(|e| SetAside {
                file: e.file,
                line: e.line,
                reason: e.reason,
                text: e.text.chars().take(QUARANTINE_TEXT).collect(),
            })
            .collect();
        let (job, set_aside) = (self.job.clone(), entries.len() as u64);
        let kept = blocking(&self.backend, move |b| {
            b.quarantine(&job, &stream_name, &entries)
        })
        .await;
        if kept.is_ok() {
            crate::telemetry::metrics().records(&self.job, "emit", "quarantined", set_aside);
            self.emitted.quarantined += set_aside;
        }
        Ok(kept.map_err(|e| format!("the host could not keep the quarantined records: {e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams::Host as _;

    const JOB: &str = "streams-metrics-test";

    fn set_aside(line: u64) -> Quarantined {
        Quarantined {
            file: "export.json".into(),
            line,
            reason: "not JSON".into(),
            text: "{\"_id\":".into(),
        }
    }

    fn counted(outcome: &str) -> bool {
        let text = crate::telemetry::metrics().render();
        text.lines().any(|l| {
            l == format!(
                r#"cordial_job_records_total{{job="{JOB}",op="emit",outcome="{outcome}"}} 2"#
            )
        })
    }

    /// What a run emits and sets aside is counted as the store took it, and a quarantine the
    /// store could not keep is not counted.
    #[tokio::test]
    async fn records_count_as_the_store_took_them() {
        let mut refused = StreamsCtx::new(Arc::new(super::super::Unsupported), JOB);
        let answer = refused.quarantine("s".into(), vec![set_aside(1)]).await;
        assert!(answer.unwrap().is_err());

        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("store.sqlite")).unwrap();
        let mut ctx = StreamsCtx::new(Arc::new(db), JOB);
        let kept = ctx.quarantine("s".into(), vec![set_aside(2), set_aside(3)]);
        kept.await.unwrap().unwrap();
        let record = |key: &str| StreamRecord {
            key: Some(key.into()),
            body: format!(r#"{{"id":"{key}"}}"#),
        };
        let records = vec![record("a"), record("b"), record("a"), record("b")];
        ctx.emit("s".into(), records).await.unwrap().unwrap();
        assert!(
            counted("quarantined"),
            "two set aside, the refused one not counted"
        );
        assert!(counted("stored") && counted("duplicate"));
    }

    /// Appended batches are stored in order behind the job; a flush waits for them and
    /// reports what the stream took since the last one; a batch the store refused is an
    /// error at the next append or flush, never a silent loss.
    #[tokio::test]
    async fn appends_are_stored_in_order_and_a_flush_reports_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("store.sqlite")).unwrap();
        let mut ctx = StreamsCtx::new(Arc::new(db.clone()), "append-test");
        let record = |key: &str| StreamRecord {
            key: Some(key.into()),
            body: format!(r#"{{"id":"{key}"}}"#),
        };
        for batch in [
            vec![record("a"), record("b")],
            vec![record("b"), record("c")],
        ] {
            ctx.append("s".into(), batch).await.unwrap().unwrap();
        }
        let flushed = ctx.flush().await.unwrap().unwrap();
        assert_eq!((flushed.accepted, flushed.duplicates), (3, 1));
        let stored = db.stream_tail("s", 10).unwrap();
        assert_eq!(stored, [r#"{"id":"a"}"#, r#"{"id":"b"}"#, r#"{"id":"c"}"#]);
        let again = ctx.flush().await.unwrap().unwrap();
        assert_eq!(
            (again.accepted, again.duplicates),
            (0, 0),
            "a flush reports each batch once"
        );
        assert_eq!(ctx.emitted.stored, 3);

        let mut refused = StreamsCtx::new(Arc::new(super::super::Unsupported), "append-test");
        refused
            .append("s".into(), vec![record("x")])
            .await
            .unwrap()
            .unwrap();
        let err = refused.flush().await.unwrap().unwrap_err();
        assert!(err.contains("could not store"), "{err}");
    }
}
