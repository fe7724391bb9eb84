//! Export Audiences (Real Time): audience events from the durable queue → Cordial contacts
//! and list membership.

use super::{Descriptor, Trigger, convert};
use crate::runtime::RunState;
use crate::runtime::bindings::types;
use cordial_jobs::job::Outcome;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::JobKind;
use wasmtime::Store;

mod bindings {
    crate::runtime::bindings::job_world_bindings!("export-realtime", {
        "cordial:jobs/outcomes": crate::runtime::bindings::outcomes,
        "cordial:jobs/items": crate::runtime::bindings::items,
    });
}

pub const DESCRIPTOR: Descriptor = Descriptor::new(
    JobKind::ExportRealtime,
    &[Trigger::AudienceEvents],
    "realtime",
    &[],
);

super::linked_driver!(bindings::ExportRealtimePre<crate::runtime::RunState>);

impl Driver {
    pub async fn deliver(
        &self,
        store: &mut Store<RunState>,
        ctx: &types::RunContext,
        events: Vec<AudienceEvent>,
    ) -> wasmtime::Result<Vec<Outcome>> {
        let events: Vec<_> = events.into_iter().map(convert::audience_event).collect();
        let outcomes = super::instantiate!(self.0, store)
            .cordial_jobs_realtime()
            .call_deliver(&mut *store, ctx, &events)
            .await?;
        Ok(outcomes.into_iter().map(convert::outcome).collect())
    }
}
