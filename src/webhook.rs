//! Parsing the platform's Audience Trigger webhook payloads into audience events.
//!
//! Lytics POSTs one of three shapes (reference: `lytics-platform.md` §1):
//! - the default format `{"id", "data": {…, "segment_events": […]}, "meta": {…}}`;
//! - the CloudEvents format (`specversion` present), whose `data` is the user itself and which
//!   has no `meta`;
//! - with Batch Events on, a JSON array whose elements are either of the above.
//!
//! A payload is accepted whole or not at all. Lytics retries non-2xx answers, so the receiver
//! must never half-apply a batch and then ask for it again; it either takes every event or
//! rejects the request with an error that names the offending element precisely enough for
//! someone to fix the trigger's configuration from the job log alone.

mod fields;
mod segment_events;

use crate::realtime::Membership;
use fields::{child, optional_string, type_name, wrong_type};
use segment_events::{SegmentEvent, parse_segment_event, take_segment_events};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

pub(crate) use fields::type_name as json_type_name;

/// One audience event taken from a trigger payload.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerEvent {
    /// The payload's `id`: a per-event id the platform may use again when it retries, which
    /// makes it the natural key for de-duplication. Numbers are turned into their decimal text.
    pub platform_id: Option<String>,
    /// `segment_events[].slug`: the audience's slug.
    pub audience_slug: Option<String>,
    /// `segment_events[].id`: the 32-hex segment id.
    pub audience_id: Option<String>,
    /// `segment_events[].event`.
    pub kind: Membership,
    /// The user's fields (`data` without `segment_events`). Fields are kept as sent: the platform
    /// sends booleans as `"t"`/`"f"`, counts as maps, and only the selected Export Fields.
    pub user: Map<String, Value>,
    /// When the event happened, kept exactly as sent (RFC 3339, nanoseconds, any offset): the
    /// segment event's `enter`/`exit` timestamp, else `meta.timestamp` (default format) or
    /// `time` (CloudEvents).
    pub occurred_at: Option<String>,
}

/// Why a payload was rejected, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    /// Where in the body, e.g. `[2].data.segment_events[0].event`; empty for the body as a whole.
    pub path: String,
    pub message: String,
}

impl PayloadError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PayloadError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PayloadError {
    /// `path: message`, or just the message when it is about the body as a whole (an empty
    /// path would only print a stray colon).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for PayloadError {}

/// Parses a trigger webhook body into its audience events, in payload order: one event per
/// entry of each user's `segment_events`.
pub fn parse_trigger_payload(body: &[u8]) -> Result<Vec<TriggerEvent>, PayloadError> {
    // serde_json's message already ends with "at line L column C".
    let not_json = |path: &str, e: serde_json::Error| {
        PayloadError::new(path, format!("the body is not JSON: {e}"))
    };
    // A batch's elements are first only located (borrowed raw text, 16 bytes each), then
    // parsed one at a time, each tree dropped once its events are taken: the tree of a whole
    // 32 MiB batch of tiny events took 1.1 GiB, 35 times the body.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| not_json("", e))?;
        return parse_batch(items);
    }
    let root: Value = serde_json::from_slice(body).map_err(|e| not_json("", e))?;
    match root {
        Value::Object(object) => parse_envelope(object, ""),
        other => Err(PayloadError::new(
            "",
            format!(
                "expected a JSON object or an array of them, found {}",
                type_name(&other)
            ),
        )),
    }
}

/// The most users one batch may carry. Reading a user costs a receiver several times its
/// JSON (a map per object), so a 32 MiB body of tiny users (441,505 of 75 bytes) would cost
/// it about 450 MiB, and each sender at once as much again; 50,000 users of 32 MiB are 670
/// bytes each, the size of a real user with a few Export Fields.
pub const MAX_BATCH_USERS: usize = 50_000;

/// A batch (Batch Events on): each element is one user in either format.
fn parse_batch(items: Vec<&RawValue>) -> Result<Vec<TriggerEvent>, PayloadError> {
    if items.is_empty() {
        return Err(PayloadError::new(
            "",
            "the batch is an empty array: expected at least one user",
        ));
    }
    if items.len() > MAX_BATCH_USERS {
        return Err(PayloadError::new(
            "",
            format!(
                "the batch has {} users; at most {MAX_BATCH_USERS} are taken in one request: \
                 send smaller batches",
                items.len()
            ),
        ));
    }
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let path = format!("[{index}]");
        let item: Value = serde_json::from_str(item.get())
            .map_err(|e| PayloadError::new(&path, format!("the element is not JSON: {e}")))?;
        match item {
            Value::Object(object) => events.extend(parse_envelope(object, &path)?),
            other => {
                return Err(PayloadError::new(
                    path,
                    format!(
                        "each element of a batch must be an object, found {}",
                        type_name(&other)
                    ),
                ));
            }
        }
    }
    Ok(events)
}

/// One user, in the default or the CloudEvents format; `path` is where it sits in the body.
fn parse_envelope(
    mut envelope: Map<String, Value>,
    path: &str,
) -> Result<Vec<TriggerEvent>, PayloadError> {
    let fallback_time = if is_cloudevent(&envelope, path)? {
        optional_string(&envelope, "time", path)?
    } else {
        meta_timestamp(&envelope, path)?
    };
    let platform_id = platform_id(&envelope, path)?;
    let mut user = take_data(&mut envelope, path)?;
    let data_path = child(path, "data");
    let segment_events = take_segment_events(&mut user, &data_path)?;
    let events_path = child(&data_path, "segment_events");
    let parsed = segment_events
        .iter()
        .enumerate()
        .map(|(i, event)| parse_segment_event(event, &format!("{events_path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(fan_out(parsed, user, platform_id, fallback_time))
}

/// Turns a user's segment events into trigger events, giving each its own copy of the user
/// (the last one takes the original, saving a clone in the common one-event case).
fn fan_out(
    segment_events: Vec<SegmentEvent>,
    user: Map<String, Value>,
    platform_id: Option<String>,
    fallback_time: Option<String>,
) -> Vec<TriggerEvent> {
    let count = segment_events.len();
    let mut user = Some(user);
    segment_events
        .into_iter()
        .enumerate()
        .map(|(i, event)| TriggerEvent {
            platform_id: platform_id.clone(),
            audience_slug: event.slug,
            audience_id: event.id,
            kind: event.kind,
            user: if i + 1 == count {
                user.take().unwrap_or_default()
            } else {
                user.clone().unwrap_or_default()
            },
            occurred_at: event.at.or_else(|| fallback_time.clone()),
        })
        .collect()
}

/// Whether the element is a CloudEvent. Only `specversion` tells the formats apart; the one
/// version that exists is "1.0", and a different one would mean a shape we have never seen.
fn is_cloudevent(envelope: &Map<String, Value>, path: &str) -> Result<bool, PayloadError> {
    match envelope.get("specversion") {
        None => Ok(false),
        Some(Value::String(v)) if v == "1.0" => Ok(true),
        Some(Value::String(v)) => Err(PayloadError::new(
            child(path, "specversion"),
            format!("unsupported CloudEvents version `{v}`: only \"1.0\" is accepted"),
        )),
        Some(other) => Err(wrong_type(child(path, "specversion"), "a string", other)),
    }
}

/// `meta.timestamp` of the default format. `meta` itself is optional: only the timestamp is
/// used, and a missing one just leaves the event without a time.
fn meta_timestamp(
    envelope: &Map<String, Value>,
    path: &str,
) -> Result<Option<String>, PayloadError> {
    let meta_path = child(path, "meta");
    match envelope.get("meta") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(meta)) => optional_string(meta, "timestamp", &meta_path),
        Some(other) => Err(wrong_type(meta_path, "an object", other)),
    }
}

/// The payload `id`: documented as a decimal string shaped like a uint64, but a number is
/// accepted too in case a template or proxy re-encodes it. Fractions are refused because an
/// id that has been through a float is no longer the platform's id.
fn platform_id(envelope: &Map<String, Value>, path: &str) -> Result<Option<String>, PayloadError> {
    match envelope.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(other) => Err(wrong_type(
            child(path, "id"),
            "a string or an integer",
            other,
        )),
    }
}

/// Removes and returns the user object (`data`).
fn take_data(
    envelope: &mut Map<String, Value>,
    path: &str,
) -> Result<Map<String, Value>, PayloadError> {
    let data_path = child(path, "data");
    match envelope.remove("data") {
        Some(Value::Object(data)) => Ok(data),
        None => Err(PayloadError::new(
            data_path,
            "missing: expected the user object under `data`",
        )),
        Some(other) => Err(wrong_type(data_path, "an object", &other)),
    }
}

#[cfg(test)]
mod tests;
