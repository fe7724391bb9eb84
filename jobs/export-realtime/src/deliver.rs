//! Delivering a batch of audience events: many requests in flight, each contact in order.

use crate::exports::cordial::jobs::realtime::{AudienceEvent, Membership as WitMembership};
use cordial_guest::outcomes::{Outcome, Rejection, RetryLater};
use cordial_guest::types::RunContext;
use cordial_guest::{WasiHttp, cordial_error_outcome, state};
use cordial_jobs::cordial::{CordialClient, CordialError, audience_list_name};
use cordial_jobs::realtime::rounds::{EventOutcome, deliver_in_rounds};
use cordial_jobs::realtime::{
    AttributeTypes, Membership, Undeliverable, attribute_cache, contact_for_event, typed_targets,
};
use cordial_jobs::settings::ExportSettings;

/// One outcome per event, in order. See `cordial_jobs::realtime::rounds` for how requests
/// are sent side by side while each contact's events keep their order.
pub fn deliver(ctx: &RunContext, config: &str, events: Vec<AudienceEvent>) -> Vec<Outcome> {
    let settings: ExportSettings = match cordial_guest::parse_settings(config) {
        Ok(s) => s,
        Err(e) => return all(&events, dead_letter(format!("unusable job settings: {e}"))),
    };
    let mut client = cordial_guest::cordial_client(ctx);
    let list = settings
        .list
        .clone()
        .unwrap_or_else(|| audience_list_name(&settings.audience));
    if let Err(e) = ensure_list(&mut client, &list) {
        return all(&events, cordial_error_outcome(&e));
    }
    let types = match attribute_types(&mut client, ctx, &settings) {
        Ok(t) => t,
        Err(e) => return all(&events, cordial_error_outcome(&e)),
    };
    let planned: Vec<_> = events
        .iter()
        .map(|event| plan(&settings, &types, &list, event))
        .collect();
    deliver_in_rounds(&ctx.cordial_base_url, &planned, &mut WasiHttp)
        .into_iter()
        .map(to_wit)
        .collect()
}

fn plan(
    settings: &ExportSettings,
    types: &AttributeTypes,
    list: &str,
    event: &AudienceEvent,
) -> Result<cordial_jobs::cordial::ContactUpsert, Undeliverable> {
    let user: serde_json::Value = serde_json::from_str(&event.user)
        .map_err(|e| Undeliverable(format!("the user is not a JSON object: {e}")))?;
    let membership = match event.kind {
        WitMembership::Enter => Membership::Enter,
        WitMembership::Exit => Membership::Exit,
        WitMembership::Change => Membership::Change,
    };
    contact_for_event(settings, types, list, membership, &user)
}

fn to_wit(outcome: EventOutcome) -> Outcome {
    match outcome {
        EventOutcome::Delivered => Outcome::Delivered,
        EventOutcome::Retry {
            after,
            reason,
            attempted,
        } => Outcome::Retry(RetryLater {
            after_ms: after.map(|d| d.as_millis() as u64),
            reason,
            attempted,
        }),
        EventOutcome::DeadLetter { status, reason } => {
            Outcome::DeadLetter(Rejection { status, reason })
        }
    }
}

/// The types of the mapped attributes, from the state cache or, when stale, from Cordial.
fn attribute_types(
    client: &mut CordialClient<WasiHttp>,
    ctx: &RunContext,
    settings: &ExportSettings,
) -> Result<AttributeTypes, CordialError> {
    let needed = typed_targets(settings);
    if needed.is_empty() {
        return Ok(AttributeTypes::new());
    }
    let cached = state::get(attribute_cache::KEY);
    if let Some(types) = attribute_cache::read(cached.as_deref(), &ctx.started_at, &needed) {
        return Ok(types);
    }
    let types: AttributeTypes = client
        .contact_attributes()?
        .into_iter()
        .map(|a| (a.key, a.kind))
        .collect();
    state::set(
        attribute_cache::KEY,
        &attribute_cache::write(&types, &ctx.started_at),
    );
    Ok(types)
}

/// Makes sure the list exists, creating it once; remembered in the job's state.
fn ensure_list(client: &mut CordialClient<WasiHttp>, list: &str) -> Result<(), CordialError> {
    let key = format!("list-ready:{list}");
    if state::get(&key).is_some() {
        return Ok(());
    }
    if !client.account_lists()?.iter().any(|l| l.name == list) {
        match client.create_list(list) {
            Ok(id) => cordial_guest::info(&format!("created Cordial list `{list}` (id {id})")),
            // Another worker created it between our read and our create.
            Err(CordialError::Rejected {
                status: 422,
                ref message,
                ..
            }) if message.contains("unique") => {}
            Err(e) => return Err(e),
        }
    }
    state::set(&key, b"1");
    Ok(())
}

fn dead_letter(reason: String) -> Outcome {
    Outcome::DeadLetter(Rejection {
        status: None,
        reason,
    })
}

fn all(events: &[AudienceEvent], outcome: Outcome) -> Vec<Outcome> {
    events.iter().map(|_| outcome.clone()).collect()
}
