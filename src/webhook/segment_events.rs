//! The `segment_events` of one user: which audiences the payload is about.

use super::PayloadError;
use super::fields::{child, optional_string, wrong_type};
use crate::realtime::Membership;
use serde_json::{Map, Value};

/// The values of `segment_events[].event` we understand, in the order error messages list
/// them. The name is also the key of the event's timestamp (`"enter": "<ts>"`).
const EVENTS: [(&str, Membership); 3] = [
    ("enter", Membership::Enter),
    ("exit", Membership::Exit),
    ("change", Membership::Change),
];

/// One `segment_events` entry, checked but not yet joined with its user.
pub(super) struct SegmentEvent {
    pub(super) id: Option<String>,
    pub(super) slug: Option<String>,
    pub(super) kind: Membership,
    pub(super) at: Option<String>,
}

/// Removes and returns the user's `segment_events`. Without them there is no way to know
/// which audience the event is about, and the usual cause is a trigger whose Export Fields
/// were chosen by hand without `segment_events`, so the message says how to fix it.
pub(super) fn take_segment_events(
    user: &mut Map<String, Value>,
    data_path: &str,
) -> Result<Vec<Value>, PayloadError> {
    let path = child(data_path, "segment_events");
    match user.remove("segment_events") {
        Some(Value::Array(events)) if !events.is_empty() => Ok(events),
        Some(Value::Array(_)) => Err(PayloadError::new(
            path,
            "is empty: expected at least one audience event",
        )),
        None | Some(Value::Null) => Err(PayloadError::new(
            path,
            "missing: add `segment_events` to the trigger's Export Fields \
             (Lytics only sends the fields selected there)",
        )),
        Some(other) => Err(wrong_type(path, "an array", &other)),
    }
}

/// One entry of `segment_events`: `{"id", "event", "slug", "enter"|"exit"}`, where the
/// timestamp's key is the event's own name and a `change` has none.
pub(super) fn parse_segment_event(event: &Value, path: &str) -> Result<SegmentEvent, PayloadError> {
    let Value::Object(event) = event else {
        return Err(wrong_type(path.to_owned(), "an object", event));
    };
    let (kind, name) = membership(event, path)?;
    Ok(SegmentEvent {
        id: optional_string(event, "id", path)?,
        slug: optional_string(event, "slug", path)?,
        kind,
        at: optional_string(event, name, path)?,
    })
}

/// The required `event` field, with its name as sent (which is also the timestamp's key).
fn membership(
    event: &Map<String, Value>,
    path: &str,
) -> Result<(Membership, &'static str), PayloadError> {
    let event_path = child(path, "event");
    let name = match event.get("event") {
        Some(Value::String(name)) => name,
        None => {
            return Err(PayloadError::new(
                event_path,
                format!("missing: expected one of {}", accepted_events()),
            ));
        }
        Some(other) => return Err(wrong_type(event_path, "a string", other)),
    };
    EVENTS
        .iter()
        .find(|(accepted, _)| accepted == name)
        .map(|&(accepted, kind)| (kind, accepted))
        .ok_or_else(|| {
            PayloadError::new(
                event_path,
                format!(
                    "unknown event `{name}`: expected one of {}",
                    accepted_events()
                ),
            )
        })
}

fn accepted_events() -> String {
    EVENTS.map(|(name, _)| format!("\"{name}\"")).join(", ")
}
