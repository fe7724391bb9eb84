//! `cordial:jobs/platform` → streams and the bulk export's pending members, in the SQLite store.

use crate::runtime::RunState;
use crate::runtime::bindings::platform::{EmitSummary, Host, PendingMember};

impl Host for RunState {
    async fn emit(
        &mut self,
        stream_name: String,
        records: Vec<String>,
    ) -> wasmtime::Result<Result<EmitSummary, String>> {
        Ok(match self.store.append_stream(&stream_name, &records) {
            Ok((accepted, rejected)) => Ok(EmitSummary { accepted, rejected }),
            Err(e) => Err(format!("the host could not store the records: {e}")),
        })
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
