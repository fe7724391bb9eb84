//! Delivering a batch of audience events: many requests in flight, each contact in order.

use crate::exports::cordial::jobs::realtime::{AudienceEvent, Membership as WitMembership};
use cordial_guest::outcomes::{Outcome, Rejection, RetryLater};
use cordial_guest::types::RunContext;
use cordial_guest::{WasiHttp, cordial_error_outcome};
use cordial_jobs::cordial::audience_list_name;
use cordial_jobs::realtime::rounds::{EventOutcome, deliver_in_rounds};
use cordial_jobs::realtime::{AttributeTypes, Membership, Undeliverable, contact_for_event};
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
    if let Err(e) = cordial_guest::ensure_list(&mut client, &list) {
        return all(&events, cordial_error_outcome(&e));
    }
    let types = match cordial_guest::attribute_types(&mut client, ctx, &settings) {
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

fn dead_letter(reason: String) -> Outcome {
    Outcome::DeadLetter(Rejection {
        status: None,
        reason,
    })
}

fn all(events: &[AudienceEvent], outcome: Outcome) -> Vec<Outcome> {
    events.iter().map(|_| outcome.clone()).collect()
}
