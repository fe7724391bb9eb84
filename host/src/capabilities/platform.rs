//! `cordial:jobs/platform` → streams and audience members in the SQLite store.

use crate::runtime::RunState;
use crate::runtime::bindings::platform::{EmitSummary, Host, MemberPage};

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

    async fn scan_audience(
        &mut self,
        audience: String,
        cursor: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<MemberPage, String>> {
        let cursor = match cursor.as_deref().map(str::parse::<i64>) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => {
                return Ok(Err(format!(
                    "cursor {cursor:?} did not come from this host"
                )));
            }
        };
        Ok(
            match self
                .store
                .audience_page(&audience, cursor, limit.min(10_000))
            {
                Ok((members, next)) => Ok(MemberPage {
                    members,
                    next_cursor: next.map(|n| n.to_string()),
                }),
                Err(e) => Err(format!("the host could not read the audience: {e}")),
            },
        )
    }
}
