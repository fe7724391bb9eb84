//! The account's contact activity (events), which `POST /v2/contactactivityexport`
//! exports.
//!
//! Records have the fields cordial-api.md §6.2 gathers from Cordial's "Events"
//! page and Lytics' mapping of the export: `_id` and `cID` (24-hex ObjectIds),
//! `email`, `action`, `time` (Cordial's `2024-07-12T09:58:14+0000` form, whole
//! seconds), and on message events `mcID`, `bmID` (batch messages only), `mdtID`,
//! `first` (opens and clicks), `message_name` and `message_sent`, plus
//! `properties` where the action has some. Keys are written in that order.
//!
//! Events come from [`crate::EmulatorConfig::events`] and
//! [`crate::EmulatorHandle::add_events`] (JSON objects, kept as given apart from
//! `time`, which is normalised, and `_id`, which is added when missing), or from
//! [`crate::EmulatorHandle::generate_events`]: synthetic events over every action
//! kind, deterministic from a seed. A synthetic event is a 48-byte struct whose
//! strings (ids, email, message fields, properties) are derived from small numbers
//! only when a record is rendered, so a million of them take about 50 MB and are
//! made in well under a second.
//!
//! The store keeps events sorted by time behind an [`Arc`]: an export takes a
//! snapshot in O(1) and reads it without holding any lock, while later additions
//! build a new vector.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::time;

/// Cordial's reserved message events (cordial-api.md §6.2).
pub const MESSAGE_ACTIONS: [&str; 7] = [
    "message-sent",
    "open",
    "click",
    "optout",
    "bounce",
    "complaint",
    "message-stopped",
];

/// Reserved actions that are not message events.
const OTHER_RESERVED_ACTIONS: [&str; 1] = ["pageview"];

/// Whether `action` is a custom event: not reserved and not a `crdl_` system event.
/// `selected_action_name: "custom"` selects these.
pub fn is_custom_action(action: &str) -> bool {
    !MESSAGE_ACTIONS.contains(&action)
        && !OTHER_RESERVED_ACTIONS.contains(&action)
        && !action.starts_with("crdl_")
}

/// Every action [`generate`](EventStore::generate) produces, with its relative
/// frequency: the seven message events, `pageview`, a system event and three
/// custom events.
pub const GENERATED_ACTIONS: [(&str, u32); 12] = [
    ("message-sent", 40),
    ("open", 20),
    ("click", 8),
    ("optout", 1),
    ("bounce", 2),
    ("complaint", 1),
    ("message-stopped", 1),
    ("pageview", 8),
    ("crdl_subscribeStatusChange", 1),
    ("browse", 10),
    ("cart", 5),
    ("custom-purchase", 3),
];

/// The account id at the start of synthetic `mcID`s and `bmID`s.
const ACCOUNT_ID: u32 = 1200;

/// Synthetic messages: name, and whether it is a batch message (with a `bmID`)
/// rather than an automation.
const MESSAGES: [(&str, bool); 8] = [
    ("Weekly Newsletter", true),
    ("Spring Sale", true),
    ("Welcome Series 1", false),
    ("Abandoned Cart Reminder", false),
    ("Back in Stock", false),
    ("Product Launch", true),
    ("Order Confirmation", false),
    ("Monthly Digest", true),
];

/// Most synthetic contacts: the pool is an eighth of the events, within this.
const MAX_SYNTHETIC_CONTACTS: u64 = 200_000;

/// `message` of a synthetic event that is not a message event.
const NO_MESSAGE: u32 = u32::MAX;

/// The fields of a record, in the order they are written; a given event's other
/// fields follow them. An export without `columnHeaders` writes these columns.
pub const RECORD_FIELDS: [&str; 12] = [
    "_id",
    "cID",
    "email",
    "action",
    "time",
    "mcID",
    "bmID",
    "mdtID",
    "first",
    "message_name",
    "message_sent",
    "properties",
];

/// One rendered record: keys in output order.
pub type Record = Vec<(Cow<'static, str>, Value)>;

/// SplitMix64: a tiny, good-enough deterministic generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-high.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// SplitMix64's finaliser: a bijection on `u64`, so distinct inputs give
/// distinct outputs (which makes derived ids unique).
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One stored event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub time: i64,
    id: [u8; 12],
    /// Index into the store's action names.
    action: u32,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Synthetic(Synthetic),
    /// Every field but `_id`, `action` and `time`, in output order.
    Given(Box<[(String, Value)]>),
}

#[derive(Debug, Clone, Copy)]
struct Synthetic {
    contact: u32,
    /// Index into [`MESSAGES`], or [`NO_MESSAGE`].
    message: u32,
    /// Seconds between the send and this event.
    sent_before: u32,
    first: Option<bool>,
    /// Seeds the properties.
    variant: u32,
}

/// The events of the account, sorted by time (insertion order among equal times).
#[derive(Debug, Clone, Default)]
pub struct EventStore {
    events: Arc<Vec<Event>>,
    actions: Arc<Vec<String>>,
    action_index: HashMap<String, u32>,
    /// Numbers the ids the store makes; never reused.
    serial: u64,
    /// Synthetic contacts `0..synthetic_contacts` may appear in events.
    synthetic_contacts: u64,
}

/// A consistent, lock-free view of the store at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub events: Arc<Vec<Event>>,
    actions: Arc<Vec<String>>,
}

impl EventStore {
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            events: self.events.clone(),
            actions: self.actions.clone(),
        }
    }

    fn intern(&mut self, action: &str) -> u32 {
        if let Some(&i) = self.action_index.get(action) {
            return i;
        }
        let actions = Arc::make_mut(&mut self.actions);
        let i = u32::try_from(actions.len()).expect("fewer than 2^32 action names");
        actions.push(action.to_owned());
        self.action_index.insert(action.to_owned(), i);
        i
    }

    /// A new ObjectId for an event at `time`: the time, then a bijective mix of
    /// the store's serial, so ids never repeat within a store.
    fn next_id(&mut self, time: i64) -> [u8; 12] {
        let serial = self.serial;
        self.serial += 1;
        let mut id = [0u8; 12];
        id[..4].copy_from_slice(&(time.clamp(0, i64::from(u32::MAX)) as u32).to_be_bytes());
        id[4..].copy_from_slice(&mix(serial ^ 0x0c0d_1a1e_e7e7_0000).to_be_bytes());
        id
    }

    /// Adds events given as JSON objects. Each needs an `action` (or `a`) and a
    /// `time` (or `ats`) in any ISO-8601 form Cordial accepts; `_id` is made when
    /// absent. Nothing is added if any event is invalid.
    pub fn add(&mut self, given: Vec<Value>) -> Result<(), String> {
        let mut parsed = Vec::with_capacity(given.len());
        for (i, value) in given.into_iter().enumerate() {
            parsed.push(parse_given(value).map_err(|e| format!("event {i}: {e}"))?);
        }
        let mut new = Vec::with_capacity(parsed.len());
        for (time, id, action, fields) in parsed {
            let id = match id {
                Some(id) => id,
                None => self.next_id(time),
            };
            let action = self.intern(&action);
            new.push(Event {
                time,
                id,
                action,
                body: Body::Given(fields.into_boxed_slice()),
            });
        }
        new.sort_by_key(|e| e.time);
        self.merge(new);
        Ok(())
    }

    /// Adds `n` synthetic events with times spread over `[start, end)` (whole
    /// seconds), deterministic from `seed`. When `n` is at least the number of
    /// [`GENERATED_ACTIONS`], each of them occurs at least once, at positions spread
    /// over the range; the rest are drawn by weight.
    ///
    /// # Panics
    /// If `[start, end)` holds no whole second.
    pub fn generate(&mut self, n: usize, seed: u64, start: DateTime<Utc>, end: DateTime<Utc>) {
        let first = ceil_seconds(start);
        let span = ceil_seconds(end) - first;
        assert!(
            span > 0,
            "generate_events needs start < end with a whole second between them ({start} .. {end})"
        );
        let actions: Vec<u32> = GENERATED_ACTIONS
            .iter()
            .map(|(a, _)| self.intern(a))
            .collect();
        let total_weight: u32 = GENERATED_ACTIONS.iter().map(|(_, w)| w).sum();
        // Where each action is guaranteed to appear (distinct when n >= the count).
        let k = GENERATED_ACTIONS.len();
        let forced: Vec<usize> = if n >= k {
            (0..k).map(|j| j * n / k).collect()
        } else {
            (0..n).collect()
        };
        let contacts = (n as u64 / 8).clamp(1, MAX_SYNTHETIC_CONTACTS);
        self.synthetic_contacts = self.synthetic_contacts.max(contacts);
        let mut rng = SplitMix64::new(seed);
        let mut forced_next = 0;
        let mut new = Vec::with_capacity(n);
        let scale = (n as u128) << 32;
        for i in 0..n {
            // Stratified: event i lies in the i-th n-th of the range, so times
            // come out sorted without sorting.
            let jitter = u128::from(rng.next_u64() >> 32);
            let offset = (((i as u128) << 32 | jitter) * span as u128 / scale) as i64;
            let time = first + offset;
            let kind = if forced.get(forced_next) == Some(&i) {
                forced_next += 1;
                forced_next - 1
            } else {
                let mut pick = rng.below(u64::from(total_weight)) as u32;
                GENERATED_ACTIONS
                    .iter()
                    .position(|(_, w)| {
                        if pick < *w {
                            true
                        } else {
                            pick -= w;
                            false
                        }
                    })
                    .unwrap_or(0)
            };
            let name = GENERATED_ACTIONS[kind].0;
            let is_message = MESSAGE_ACTIONS.contains(&name);
            let r = rng.next_u64();
            let synthetic = Synthetic {
                contact: rng.below(contacts) as u32,
                message: if is_message {
                    (r % MESSAGES.len() as u64) as u32
                } else {
                    NO_MESSAGE
                },
                sent_before: if matches!(name, "message-sent" | "message-stopped") {
                    0
                } else if is_message {
                    60 + ((r >> 8) % (3 * 86_400)) as u32
                } else {
                    0
                },
                first: matches!(name, "open" | "click").then_some((r >> 40) & 1 == 1),
                variant: (r >> 32) as u32,
            };
            let id = self.next_id(time);
            new.push(Event {
                time,
                id,
                action: actions[kind],
                body: Body::Synthetic(synthetic),
            });
        }
        self.merge(new);
    }

    /// Whether an event belongs to the contact with this cID or email (emails
    /// compared in lower case). A synthetic contact counts once its pool exists.
    pub fn has_contact(&self, contact: &str) -> bool {
        let lower = contact.to_lowercase();
        if let Some(k) = lower
            .strip_prefix("user")
            .and_then(|r| r.strip_suffix("@example.com"))
            .and_then(|k| k.parse::<u64>().ok())
            && k < self.synthetic_contacts
        {
            return true;
        }
        if contact.starts_with(SYNTHETIC_CID_PREFIX)
            && (0..self.synthetic_contacts).any(|k| contact_id(k as u32) == contact)
        {
            return true;
        }
        self.events.iter().any(|e| match &e.body {
            Body::Given(fields) => fields.iter().any(|(k, v)| match (k.as_str(), v) {
                ("cID", Value::String(c)) => c == contact,
                ("email", Value::String(m)) => m.to_lowercase() == lower,
                _ => false,
            }),
            Body::Synthetic(_) => false,
        })
    }

    /// Merges `new` (sorted by time) into the sorted store; equal times keep the
    /// older events first.
    fn merge(&mut self, new: Vec<Event>) {
        if new.is_empty() {
            return;
        }
        if self
            .events
            .last()
            .is_none_or(|last| last.time <= new[0].time)
        {
            Arc::make_mut(&mut self.events).extend(new);
            return;
        }
        let old = &self.events;
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let mut new = new.into_iter().peekable();
        for e in old.iter() {
            while let Some(n) = new.next_if(|n| n.time < e.time) {
                merged.push(n);
            }
            merged.push(e.clone());
        }
        merged.extend(new);
        self.events = Arc::new(merged);
    }
}

impl Snapshot {
    /// The events with `start <= time < end` (seconds), as a slice of the sorted store.
    pub fn between(&self, start: i64, end: i64) -> &[Event] {
        let from = self.events.partition_point(|e| e.time < start);
        let to = self.events.partition_point(|e| e.time < end).max(from);
        &self.events[from..to]
    }

    /// The action names, indexed as [`Event::action_index`] gives.
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// The record of `e` as the export writes it.
    pub fn record(&self, e: &Event) -> Record {
        let mut r: Record = Vec::with_capacity(12);
        r.push(("_id".into(), hex(&e.id).into()));
        let action = self.actions[e.action as usize].clone();
        match &e.body {
            Body::Synthetic(s) => {
                let cid = contact_id(s.contact);
                r.push(("cID".into(), cid.clone().into()));
                r.push((
                    "email".into(),
                    format!("user{}@example.com", s.contact).into(),
                ));
                r.push(("action".into(), action.into()));
                r.push(("time".into(), Stamp(e.time).to_string().into()));
                if let Some(&(name, batch)) = MESSAGES.get(s.message as usize) {
                    let sent = e.time - i64::from(s.sent_before);
                    let batch_id = BatchId(s.message, sent).to_string();
                    r.push(("mcID".into(), format!("{batch_id}:{cid}:{sent}").into()));
                    if batch {
                        r.push(("bmID".into(), batch_id.into()));
                    }
                    r.push(("mdtID".into(), message_template_id(s.message).into()));
                    if let Some(first) = s.first {
                        r.push(("first".into(), first.into()));
                    }
                    r.push(("message_name".into(), name.into()));
                    r.push(("message_sent".into(), Stamp(sent).to_string().into()));
                }
                if let Some(p) = properties(&self.actions[e.action as usize], s.variant) {
                    r.push(("properties".into(), p));
                }
            }
            Body::Given(fields) => {
                let (head, tail): (Vec<_>, Vec<_>) =
                    fields.iter().partition(|(k, _)| k == "cID" || k == "email");
                r.extend(head.into_iter().map(|(k, v)| (k.clone().into(), v.clone())));
                r.push(("action".into(), action.into()));
                r.push(("time".into(), Stamp(e.time).to_string().into()));
                r.extend(tail.into_iter().map(|(k, v)| (k.clone().into(), v.clone())));
            }
        }
        r
    }

    /// Appends the complete record of a synthetic event as one JSON line, the
    /// same bytes as rendering [`record`](Self::record) gives, several times
    /// faster (no intermediate values: every string of a synthetic record is
    /// known to need no escaping). `false`, with nothing written, for other events.
    pub fn write_synthetic_json(&self, e: &Event, out: &mut Vec<u8>) -> bool {
        use std::io::Write as _;
        let Body::Synthetic(s) = &e.body else {
            return false;
        };
        let cid = ContactId(s.contact);
        let action = &self.actions[e.action as usize];
        let mut w = || -> std::io::Result<()> {
            write!(
                out,
                "{{\"_id\":\"{}\",\"cID\":\"{cid}\",\"email\":\"user{}@example.com\",\"action\":\"{action}\",\"time\":\"{}\"",
                Hex(&e.id),
                s.contact,
                Stamp(e.time)
            )?;
            if let Some(&(name, batch)) = MESSAGES.get(s.message as usize) {
                let sent = e.time - i64::from(s.sent_before);
                let batch_id = BatchId(s.message, sent);
                write!(out, ",\"mcID\":\"{batch_id}:{cid}:{sent}\"")?;
                if batch {
                    write!(out, ",\"bmID\":\"{batch_id}\"")?;
                }
                write!(out, ",\"mdtID\":\"{}\"", message_template_id(s.message))?;
                if let Some(first) = s.first {
                    write!(out, ",\"first\":{first}")?;
                }
                write!(
                    out,
                    ",\"message_name\":\"{name}\",\"message_sent\":\"{}\"",
                    Stamp(sent)
                )?;
            }
            let mark = out.len();
            out.extend_from_slice(b",\"properties\":");
            if !write_properties(action, s.variant, out) {
                out.truncate(mark);
            }
            out.extend_from_slice(b"}\n");
            Ok(())
        };
        w().expect("writing into memory");
        true
    }

    /// The record as a JSON object (key order is serde_json's).
    pub fn to_json(&self, e: &Event) -> Value {
        Value::Object(
            self.record(e)
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v))
                .collect::<Map<String, Value>>(),
        )
    }
}

impl Event {
    /// Index of the action name in [`Snapshot::actions`].
    pub fn action_index(&self) -> usize {
        self.action as usize
    }
}

/// `ceil(t)` in whole seconds: `t_secs >= t` exactly when `t_secs >= ceil_seconds(t)`.
pub fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

fn hex(bytes: &[u8; 12]) -> String {
    Hex(bytes).to_string()
}

/// An ObjectId's 24 hex digits.
struct Hex<'a>(&'a [u8; 12]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, rest @ ..] = *self.0;
        write!(
            f,
            "{:08x}{:016x}",
            u32::from_be_bytes([a, b, c, d]),
            u64::from_be_bytes(rest)
        )
    }
}

/// `(year, month, day)` of a day number (days since 1970-01-01), proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Seconds since the epoch in Cordial's form, `2024-07-12T09:58:14+0000`: what
/// [`time::format`] gives, without chrono's format parsing per call.
struct Stamp(i64);

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = civil(self.0.div_euclid(86_400));
        let s = self.0.rem_euclid(86_400);
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}+0000",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

/// A synthetic batch id: `<account>:<message hash>:d<YYMMDD of the send>`.
struct BatchId(u32, i64);

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = civil(self.1.div_euclid(86_400));
        write!(
            f,
            "{ACCOUNT_ID}:{}:d{:02}{mo:02}{d:02}",
            message_hash(self.0),
            y.rem_euclid(100)
        )
    }
}

/// A synthetic contact's cID.
struct ContactId(u32);

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SYNTHETIC_CID_PREFIX}{:016x}",
            mix(u64::from(self.0) ^ 0x00c0_fface)
        )
    }
}

/// The first 8 hex digits of every synthetic cID.
const SYNTHETIC_CID_PREFIX: &str = "5f1e6a00";

/// The cID of synthetic contact `k` (the same in every store and for every seed).
fn contact_id(k: u32) -> String {
    ContactId(k).to_string()
}

/// The 32-hex hash in a synthetic message's `bmID`/`mcID`.
fn message_hash(m: u32) -> String {
    format!(
        "{:016x}{:016x}",
        mix(u64::from(m) ^ 0x6d65_7373),
        mix(u64::from(m) ^ 0x6167_6573)
    )
}

fn message_template_id(m: u32) -> String {
    format!("5c3b0f00{:016x}", mix(u64::from(m) ^ 0x6d64_7449))
}

/// The `properties` of a synthetic event, from its action and variant.
fn properties(action: &str, v: u32) -> Option<Value> {
    let mut text = Vec::new();
    write_properties(action, v, &mut text)
        .then(|| serde_json::from_slice(&text).expect("synthetic properties are JSON"))
}

/// Writes the `properties` object of a synthetic event as JSON text, keys in
/// alphabetical order (the order a parsed [`Value`] has, so both renderings of a
/// record give the same bytes); `false` for an action without properties.
fn write_properties(action: &str, v: u32, out: &mut Vec<u8>) -> bool {
    use std::io::Write as _;
    const CATEGORIES: [&str; 5] = ["Shirts", "Shoes", "Hats", "Bags", "Socks"];
    let cents = |max: u32| f64::from(v % max) / 100.0;
    let written = match action {
        "message-sent" => write!(out, r#"{{"stp":"dyn"}}"#),
        "click" => write!(
            out,
            r#"{{"lKey":"link{}","url":"https://shop.example.com/p/{}"}}"#,
            v % 4,
            v % 500
        ),
        "bounce" if v.is_multiple_of(4) => write!(out, r#"{{"bounceType":"hard","code":550}}"#),
        "bounce" => write!(out, r#"{{"bounceType":"soft","code":421}}"#),
        "pageview" => write!(
            out,
            r#"{{"url":"https://shop.example.com/page/{}"}}"#,
            v % 100
        ),
        "crdl_subscribeStatusChange" => write!(
            out,
            r#"{{"channel":"email","subscribeStatus":"{}"}}"#,
            if v.is_multiple_of(2) {
                "subscribed"
            } else {
                "unsubscribed"
            }
        ),
        "browse" => write!(
            out,
            r#"{{"category":"{}","price":{},"url":"https://shop.example.com/p/{}"}}"#,
            CATEGORIES[(v % 5) as usize],
            cents(10_000),
            v % 500
        ),
        "cart" => write!(
            out,
            r#"{{"quantity":{},"sku":"sku-{}"}}"#,
            1 + v % 3,
            v % 1000
        ),
        "custom-purchase" => write!(
            out,
            r#"{{"currency":"USD","items":{},"orderID":"ord-{v:08x}","total":{}}}"#,
            1 + v % 5,
            cents(50_000)
        ),
        _ => return false,
    };
    written.expect("writing into memory");
    true
}

/// Output rank of a given event's field: its place in [`RECORD_FIELDS`], anything
/// else after them as given. (`_id`, `action` and `time` are taken out before.)
fn rank(key: &str) -> usize {
    RECORD_FIELDS
        .iter()
        .position(|k| *k == key)
        .unwrap_or(usize::MAX)
}

type Parsed = (i64, Option<[u8; 12]>, String, Vec<(String, Value)>);

fn parse_given(value: Value) -> Result<Parsed, String> {
    let Value::Object(mut map) = value else {
        return Err("an event must be a JSON object".into());
    };
    let action = match map.remove("action").or_else(|| map.remove("a")) {
        Some(Value::String(a)) if !a.trim().is_empty() => a,
        _ => return Err("`action` (or `a`) must be a non-empty string".into()),
    };
    let time = match map.remove("time").or_else(|| map.remove("ats")) {
        Some(Value::String(t)) => time::parse_iso8601(&t)
            .ok_or_else(|| format!("`time` {t:?} is not an ISO-8601 timestamp"))?
            .timestamp(),
        _ => return Err("`time` (or `ats`) must be an ISO-8601 timestamp string".into()),
    };
    let id = match map.remove("_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            parse_object_id(&s).ok_or_else(|| format!("`_id` {s:?} is not a 24-hex ObjectId"))?,
        ),
        Some(other) => return Err(format!("`_id` {other} is not a 24-hex ObjectId")),
    };
    if let Some(Value::String(sent)) = map.get_mut("message_sent")
        && let Some(t) = time::parse_iso8601(sent)
    {
        *sent = time::format(t);
    }
    let mut fields: Vec<(String, Value)> = map.into_iter().collect();
    fields.sort_by_key(|(k, _)| rank(k));
    Ok((time, id, action, fields))
}

fn parse_object_id(s: &str) -> Option<[u8; 12]> {
    if s.len() != 24 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut id = [0u8; 12];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        time::parse_iso8601(s).unwrap()
    }

    #[test]
    fn events_are_small() {
        assert!(
            std::mem::size_of::<Event>() <= 48,
            "{}",
            std::mem::size_of::<Event>()
        );
    }

    #[test]
    fn generation_is_deterministic_sorted_bounded_and_covers_every_action() {
        let (start, end) = (at("2024-07-01T00:00:00Z"), at("2024-07-02T00:00:00Z"));
        let mut a = EventStore::default();
        a.generate(5_000, 7, start, end);
        let mut b = EventStore::default();
        b.generate(5_000, 7, start, end);
        let (sa, sb) = (a.snapshot(), b.snapshot());
        let ra: Vec<Value> = sa.events.iter().map(|e| sa.to_json(e)).collect();
        let rb: Vec<Value> = sb.events.iter().map(|e| sb.to_json(e)).collect();
        assert_eq!(ra, rb);
        let mut c = EventStore::default();
        c.generate(5_000, 8, start, end);
        let sc = c.snapshot();
        assert_ne!(ra[10], sc.to_json(&sc.events[10]));

        assert!(sa.events.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(
            sa.events
                .iter()
                .all(|e| e.time >= start.timestamp() && e.time < end.timestamp())
        );
        let ids: HashSet<&str> = ra.iter().map(|r| r["_id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 5_000);
        assert!(ids.iter().all(|id| parse_object_id(id).is_some()));
        let actions: HashSet<&str> = ra.iter().map(|r| r["action"].as_str().unwrap()).collect();
        for (a, _) in GENERATED_ACTIONS {
            assert!(actions.contains(a), "{a} missing");
        }
        // Spread: both halves of the day have events.
        let noon = at("2024-07-01T12:00:00Z").timestamp();
        let early = sa.events.iter().filter(|e| e.time < noon).count();
        assert!((2_000..3_000).contains(&early), "{early}");
    }

    #[test]
    fn message_events_carry_message_fields() {
        let mut s = EventStore::default();
        s.generate(
            2_000,
            1,
            at("2024-07-01T00:00:00Z"),
            at("2024-07-08T00:00:00Z"),
        );
        let snap = s.snapshot();
        let records: Vec<Value> = snap.events.iter().map(|e| snap.to_json(e)).collect();
        let sent = records
            .iter()
            .find(|r| r["action"] == "message-sent")
            .unwrap();
        assert_eq!(sent["message_sent"], sent["time"]);
        let open = records.iter().find(|r| r["action"] == "open").unwrap();
        assert!(open["first"].is_boolean());
        assert!(open["message_name"].is_string());
        let mcid = open["mcID"].as_str().unwrap();
        let parts: Vec<&str> = mcid.split(':').collect();
        assert_eq!(parts.len(), 5, "{mcid}");
        assert_eq!(parts[3], open["cID"]);
        if let Some(bm) = open["bmID"].as_str() {
            assert!(mcid.starts_with(bm));
        }
        let time = open["time"].as_str().unwrap();
        assert!(time.ends_with("+0000") && time.len() == 24, "{time}");
        let purchase = records
            .iter()
            .find(|r| r["action"] == "custom-purchase")
            .unwrap();
        assert!(purchase.get("mcID").is_none());
        assert_eq!(purchase["properties"]["currency"], "USD");
        assert!(is_custom_action("custom-purchase") && !is_custom_action("open"));
        assert!(!is_custom_action("crdl_subscribeStatusChange") && !is_custom_action("pageview"));
    }

    #[test]
    fn given_events_are_normalised_and_merged_in_time_order() {
        let mut s = EventStore::default();
        s.generate(
            100,
            3,
            at("2024-07-01T00:00:00Z"),
            at("2024-07-02T00:00:00Z"),
        );
        s.add(vec![
            json!({"action": "browse", "time": "2024-07-01T12:00:00.750Z", "cID": "c1",
                   "email": "a@x.io", "properties": {"x": 1}, "zeta": true}),
            json!({"a": "open", "ats": "2024-06-30T23:59:59", "_id": "0123456789abcdef01234567",
                   "message_sent": "2024-06-30T20:00:00Z"}),
        ])
        .unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.events.len(), 102);
        assert!(snap.events.windows(2).all(|w| w[0].time <= w[1].time));
        let first = snap.record(&snap.events[0]);
        let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["_id", "action", "time", "message_sent"]);
        assert_eq!(first[0].1, "0123456789abcdef01234567");
        assert_eq!(first[2].1, "2024-06-30T23:59:59+0000");
        assert_eq!(first[3].1, "2024-06-30T20:00:00+0000");
        let browse = snap
            .events
            .iter()
            .map(|e| snap.record(e))
            .find(|r| r.iter().any(|(k, v)| k == "cID" && v == "c1"))
            .unwrap();
        let keys: Vec<&str> = browse.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(
            keys,
            [
                "_id",
                "cID",
                "email",
                "action",
                "time",
                "properties",
                "zeta"
            ]
        );
        assert_eq!(browse[4].1, "2024-07-01T12:00:00+0000");

        assert!(
            s.add(vec![json!({"time": "2024-07-01T00:00:00Z"})])
                .is_err()
        );
        assert!(s.add(vec![json!({"action": "x", "time": "soon"})]).is_err());
        assert!(
            s.add(vec![
                json!({"action": "x", "time": "2024-07-01", "_id": "nope"})
            ])
            .is_err()
        );
        assert_eq!(s.len(), 102);
    }

    #[test]
    fn between_is_start_inclusive_end_exclusive() {
        let mut s = EventStore::default();
        s.add(
            ["00:00:00", "00:00:01", "00:00:02", "00:00:02", "00:00:03"]
                .iter()
                .map(|t| json!({"action": "a", "time": format!("2024-07-01T{t}Z")}))
                .collect(),
        )
        .unwrap();
        let snap = s.snapshot();
        let t = |x: &str| ceil_seconds(at(&format!("2024-07-01T{x}Z")));
        assert_eq!(snap.between(t("00:00:01"), t("00:00:03")).len(), 3);
        assert_eq!(snap.between(t("00:00:01.5"), t("00:00:02.5")).len(), 2);
        assert_eq!(snap.between(t("00:00:03"), t("00:00:01")).len(), 0);
    }

    #[test]
    fn a_million_events_are_quick() {
        let started = std::time::Instant::now();
        let mut s = EventStore::default();
        s.generate(
            1_000_000,
            42,
            at("2024-01-01T00:00:00Z"),
            at("2024-07-01T00:00:00Z"),
        );
        assert_eq!(s.len(), 1_000_000);
        // Generous for an unoptimised build on a loaded machine.
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    #[test]
    fn stamps_match_the_cordial_format() {
        let mut rng = SplitMix64::new(9);
        let mut times: Vec<i64> = vec![0, -1, 86_399, 86_400, 951_782_400, 4_107_542_399];
        times.extend((0..20_000).map(|_| rng.below(8_000_000_000) as i64 - 2_000_000_000));
        for t in times {
            let want = time::format(DateTime::from_timestamp(t, 0).unwrap());
            assert_eq!(Stamp(t).to_string(), want, "{t}");
        }
        // 2000-02-29 (a leap day) as a batch date.
        assert!(BatchId(0, 951_782_400).to_string().ends_with(":d000229"));
    }
}
