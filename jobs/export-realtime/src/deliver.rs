//! Delivering a batch of audience events, in order.

use crate::exports::cordial::jobs::realtime::{AudienceEvent, Membership as WitMembership};
use cordial_guest::outcomes::{Outcome, Rejection, RetryLater};
use cordial_guest::types::RunContext;
use cordial_guest::{WasiHttp, cordial_error_outcome, state};
use cordial_jobs::cordial::{CordialClient, CordialError, audience_list_name};
use cordial_jobs::realtime::{
    AttributeTypes, Membership, attribute_cache, contact_for_event, typed_targets,
};
use cordial_jobs::settings::ExportSettings;

/// One outcome per event, in order. After a failure that may pass later (429, 5xx, network)
/// the rest of the batch is handed back untouched, so a later event for the same contact
/// never overtakes an earlier one and a rate limit is not hammered.
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
    let mut outcomes = Vec::with_capacity(events.len());
    for event in &events {
        if let Some(Outcome::Retry(r)) = outcomes.last() {
            let held = RetryLater {
                after_ms: r.after_ms,
                reason: format!("held back behind an earlier event: {}", r.reason),
            };
            outcomes.push(Outcome::Retry(held));
            continue;
        }
        outcomes.push(deliver_one(&mut client, &settings, &types, &list, event));
    }
    outcomes
}

fn deliver_one(
    client: &mut CordialClient<WasiHttp>,
    settings: &ExportSettings,
    types: &AttributeTypes,
    list: &str,
    event: &AudienceEvent,
) -> Outcome {
    let user: serde_json::Value = match serde_json::from_str(&event.user) {
        Ok(u) => u,
        Err(e) => return dead_letter(format!("the user is not a JSON object: {e}")),
    };
    let membership = match event.kind {
        WitMembership::Enter => Membership::Enter,
        WitMembership::Exit => Membership::Exit,
        WitMembership::Change => Membership::Change,
    };
    let contact = match contact_for_event(settings, types, list, membership, &user) {
        Ok(c) => c,
        Err(why) => return dead_letter(why.0),
    };
    match client.upsert_contact(&contact) {
        Ok(_) => Outcome::Delivered,
        Err(e) => cordial_error_outcome(&e),
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
