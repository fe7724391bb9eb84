//! The Audience Trigger webhook parser ([`cordial_jobs::webhook::parse_trigger_payload`]).
//!
//! Promises checked: a body that is not JSON is refused, as a whole or at the element where
//! reading stopped (a batch is read one element at a time and the first bad one is named,
//! which may come before the broken text); any other refusal names a place that exists in
//! the body (or the body as a whole); an accepted body gives at most one
//! event per JSON object in it, each user without its `segment_events`.

use crate::json_path::names_a_place;
use cordial_jobs::webhook::parse_trigger_payload;
use serde_json::Value;

pub fn run(data: &[u8]) {
    let parsed = parse_trigger_payload(data);
    let json = serde_json::from_slice::<Value>(data);
    match (parsed, json) {
        (Ok(events), Ok(_)) => {
            let objects = data.iter().filter(|&&b| b == b'{').count();
            assert!(
                events.len() <= objects,
                "{} events from a body with {objects} objects",
                events.len()
            );
            for event in &events {
                assert!(
                    !event.user.contains_key("segment_events"),
                    "the user kept its segment_events: {event:?}"
                );
            }
        }
        (Ok(events), Err(e)) => panic!("a body that is not JSON ({e}) gave {events:?}"),
        (Err(e), Err(_)) => assert!(
            (e.path.is_empty() && e.message.starts_with("the body is not JSON"))
                || (e.path.starts_with('[') && !e.message.is_empty()),
            "a body that is not JSON was refused as {e:?}"
        ),
        (Err(e), Ok(body)) => {
            assert!(!e.message.is_empty(), "a refusal without a message");
            assert!(
                e.path.is_empty() || names_a_place(&body, &e.path),
                "the refusal `{e}` names no place in {body}"
            );
        }
    }
}
