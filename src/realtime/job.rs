//! The real-time export's whole call: a batch of audience events becomes contact upserts,
//! sent with many requests in flight while each contact's events keep their order.

use super::rounds::deliver_in_rounds;
use super::{AttributeTypes, Membership, Undeliverable, contact_for_event, typed_targets};
use crate::cordial::{
    ContactUpsert, CordialClient, attribute_types, audience_list_name, ensure_list,
};
use crate::job::Outcome;
use crate::ports::Env;
use crate::settings::{self, ExportSettings, JobKind};

/// One audience event the runtime hands over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceEvent {
    /// The runtime's queue id.
    pub event_id: u64,
    /// The audience's slug.
    pub audience: String,
    pub kind: Membership,
    /// The user's fields as the platform sent them: one JSON object.
    pub user: String,
    /// When the platform says it happened, RFC 3339.
    pub occurred_at: Option<String>,
}

/// One outcome per event, in order. The list (configured, else `Lytics_{audience}`) is made
/// sure of and the attribute types read (both remembered in the job's state) before any
/// event is sent; when either fails, every event shares that failure. See
/// [`deliver_in_rounds`] for how the upserts go out.
pub fn deliver(env: &mut Env<'_>, events: &[AudienceEvent]) -> Vec<Outcome> {
    let settings: ExportSettings = match settings::read(JobKind::ExportRealtime, env.config) {
        Ok(s) => s,
        Err(e) => return every(events, settings::unreadable_outcome(e)),
    };
    let list = settings
        .list
        .clone()
        .unwrap_or_else(|| audience_list_name(&settings.audience));
    let mut client = CordialClient::new(&env.ctx.cordial_base_url, &mut *env.http);
    if let Err(e) = ensure_list(&mut client, env.state, env.log, &list) {
        return every(events, Outcome::from_cordial(&e));
    }
    let needed = typed_targets(&settings);
    let types = match attribute_types(&mut client, env.state, &env.ctx.started_at, &needed) {
        Ok(t) => t,
        Err(e) => return every(events, Outcome::from_cordial(&e)),
    };
    let planned: Vec<_> = events
        .iter()
        .map(|event| plan(&settings, &types, &list, event))
        .collect();
    deliver_in_rounds(&env.ctx.cordial_base_url, &planned, env.http)
}

/// The upsert for one event, or why there can be none.
fn plan(
    settings: &ExportSettings,
    types: &AttributeTypes,
    list: &str,
    event: &AudienceEvent,
) -> Result<ContactUpsert, Undeliverable> {
    let user: serde_json::Value = serde_json::from_str(&event.user)
        .map_err(|e| Undeliverable(format!("the user is not a JSON object: {e}")))?;
    contact_for_event(settings, types, list, event.kind, &user)
}

/// The same outcome for every event.
fn every(events: &[AudienceEvent], outcome: Outcome) -> Vec<Outcome> {
    vec![outcome; events.len()]
}

#[cfg(test)]
mod tests;
