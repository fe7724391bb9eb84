//! Export Audiences (Real Time): audience events from the durable queue → Cordial contacts
//! and list membership.

use super::{Descriptor, Trigger, convert};
use crate::runtime::RunState;
use crate::runtime::bindings::items::{AudienceEvent, Membership as WitMembership};
use crate::runtime::bindings::types;
use cordial_jobs::job::Outcome;
use cordial_jobs::realtime::Membership;
use cordial_jobs::settings::JobKind;
use wasmtime::Store;

mod bindings {
    crate::runtime::bindings::job_world_bindings!("export-realtime", {
        "cordial:jobs/outcomes": crate::runtime::bindings::outcomes,
        "cordial:jobs/items": crate::runtime::bindings::items,
    });
}

pub const DESCRIPTOR: Descriptor =
    Descriptor::new(JobKind::ExportRealtime, &[Trigger::AudienceEvents], false);

super::linked_driver!(bindings::ExportRealtimePre<crate::runtime::RunState>);

impl Driver {
    pub async fn deliver(
        &self,
        store: &mut Store<RunState>,
        ctx: &types::RunContext,
        events: &[cordial_jobs::realtime::job::AudienceEvent],
    ) -> wasmtime::Result<Vec<Outcome>> {
        let events: Vec<AudienceEvent> = events.iter().map(to_wit).collect();
        let instance = self.0.instantiate_async(&mut *store).await?;
        store.data_mut().instantiated_at = Some(std::time::Instant::now());
        let outcomes = instance
            .cordial_jobs_realtime()
            .call_deliver(&mut *store, ctx, &events)
            .await?;
        Ok(outcomes.into_iter().map(convert::outcome).collect())
    }
}

fn to_wit(e: &cordial_jobs::realtime::job::AudienceEvent) -> AudienceEvent {
    AudienceEvent {
        event_id: e.event_id,
        audience: e.audience.clone(),
        kind: match e.kind {
            Membership::Enter => WitMembership::Enter,
            Membership::Exit => WitMembership::Exit,
            Membership::Change => WitMembership::Change,
        },
        user: e.user.clone(),
        occurred_at: e.occurred_at.clone(),
    }
}
