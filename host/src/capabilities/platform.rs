//! `cordial:jobs/platform` → streams and the bulk export's pending members, in the SQLite store.

use crate::runtime::RunState;
use crate::runtime::bindings::platform::{
    EmitSummary, Host, PendingMember, Quarantined, StreamRecord,
};

impl Host for RunState {
    async fn emit(
        &mut self,
        stream_name: String,
        records: Vec<StreamRecord>,
    ) -> wasmtime::Result<Result<EmitSummary, String>> {
        let started = std::time::Instant::now();
        let records: Vec<(Option<String>, String)> =
            records.into_iter().map(|r| (r.key, r.body)).collect();
        let stored = match self.store.append_stream(&stream_name, &records) {
            Ok(c) => Ok(EmitSummary {
                accepted: c.accepted,
                duplicates: c.duplicates,
                rejected: c.rejected,
            }),
            Err(e) => Err(format!("the host could not store the records: {e}")),
        };
        self.host_io += started.elapsed();
        Ok(stored)
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
                text: e.text.chars().take(4096).collect(),
            })
            .collect();
        Ok(self
            .store
            .quarantine(&self.job, &stream_name, &entries)
            .map_err(|e| format!("the host could not keep the quarantined records: {e}")))
    }

    async fn pending_high_water(&mut self) -> wasmtime::Result<Result<u64, String>> {
        Ok(self
            .store
            .pending_high_water(&self.job)
            .map_err(|e| format!("the host could not read the pending members: {e}")))
    }

    async fn pending_page(
        &mut self,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<PendingMember>, String>> {
        let started = std::time::Instant::now();
        let page = self
            .store
            .pending_page(&self.job, after, up_to, limit.min(10_000))
            .map(|page| {
                page.into_iter()
                    .map(|m| PendingMember {
                        seq: m.seq,
                        entered: m.entered,
                        user: m.user,
                    })
                    .collect()
            })
            .map_err(|e| format!("the host could not read the pending members: {e}"));
        self.host_io += started.elapsed();
        Ok(page)
    }

    async fn pending_acknowledge(&mut self, up_to: u64) -> wasmtime::Result<Result<u64, String>> {
        Ok(self
            .store
            .acknowledge_pending(&self.job, up_to)
            .map_err(|e| format!("the host could not update the pending members: {e}")))
    }
}
