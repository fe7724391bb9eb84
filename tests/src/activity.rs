//! What the Import Activity tests share: a real sshd with an emulator holding the test's
//! events, the `activity` job's config, and Cordial-shaped events with readable `_id`s.

use crate::harness::Harness;
use crate::sftp::{SAVED_KEY, harness_for, sftp_auth};
use chrono::{DateTime, Utc};
use cordial_host::db::Db;
use cordial_host::runtime::RunOutcome;
use cordial_sftp::sshd::LocalSshd;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The stream Import Activity writes.
pub const STREAM: &str = "cordial_activity";

/// A real sshd, and an emulator that knows its client key and holds the test's events.
pub struct Activity {
    pub sshd: LocalSshd,
    pub h: Harness,
}

impl Activity {
    pub async fn start() -> Activity {
        let sshd = LocalSshd::start().unwrap();
        let h = harness_for(&sshd).await;
        Activity { sshd, h }
    }

    /// An account holding `events`.
    pub async fn with_events(events: Vec<Value>) -> Activity {
        let a = Activity::start().await;
        a.h.emulator.handle().add_events(events).unwrap();
        a
    }

    /// The `activity` job exporting over SFTP with the saved key, with `extra` settings.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "{sftp}\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
             sftp_saved_key = \"{SAVED_KEY}\"\ncustom_actions = [\"custom-purchase\"]\n{extra}\n",
            sftp = sftp_auth(&self.sshd),
        )
    }

    /// One run of the job configured by `config`.
    pub async fn run(&self, config: &str) -> RunOutcome {
        self.h.run(config, "activity").await.unwrap()
    }

    /// The `_id`s of the stream's records.
    pub fn stream_ids(&self) -> BTreeSet<String> {
        stream_ids(&self.h.store())
    }
}

/// A 24-hex ObjectId made from a short readable label, as Cordial's `_id`s are.
pub fn oid(label: &str) -> String {
    let hex: String = label.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0<24}")
}

/// An event as Cordial's activity export writes it.
pub fn event(label: &str, action: &str, time: DateTime<Utc>) -> Value {
    let id = oid(label);
    json!({
        "_id": id, "cID": format!("c-{id}"), "action": action, "first": 1,
        "time": time.format("%Y-%m-%dT%H:%M:%S+0000").to_string(),
        "mcID": format!("45:abc:d261122:c-{id}:1"), "message_name": "Welcome",
        "message_sent": time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "email": format!("{id}@x.io"),
    })
}

/// `event` as a Cordial webhook pushes it: `{"contact": {...}, "event": {...}}`, the
/// contact's id and email on the contact, the event's action and time under their short
/// names `a` and `ats`.
pub fn pushed(event: &Value) -> Value {
    let mut e = event.as_object().unwrap().clone();
    let cid = e.remove("cID").unwrap();
    let email = e.remove("email").unwrap();
    let action = e.remove("action").unwrap();
    let time = e.remove("time").unwrap();
    e.insert("a".into(), action);
    e.insert("ats".into(), time);
    json!({
        "contact": {"cID": cid, "channels": {"email": {"address": email, "subscribeStatus": "subscribed"}}},
        "event": e,
    })
}

/// The stream's records, oldest first.
pub fn stream_records(store: &Db) -> Vec<Value> {
    store
        .stream_tail(STREAM, u32::MAX)
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect()
}

/// The `_id`s of the stream's records.
pub fn stream_ids(store: &Db) -> BTreeSet<String> {
    stream_records(store).iter().map(event_id).collect()
}

/// The Cordial `_id` a stream record came from.
pub fn event_id(record: &Value) -> String {
    record["cr_system_event_id"].as_str().unwrap().to_owned()
}

/// Stream record `i` as Import Activity stores it (about 300 bytes), its
/// `cr_system_event_id` the 24-hex form of `i`: what the forwarding tests and benchmark fill
/// a store with.
pub fn stream_record(i: usize) -> String {
    json!({
        "cr_contact_id": format!("c{i}"), "cr_first": i.is_multiple_of(3),
        "cr_system_event_id": format!("{i:024x}"),
        "cr_message_contact_id": format!("45:65a0:d261122:c{i}:1"),
        "cr_message_name": "Winter sale", "cr_message_sent_timestamp": "2026-12-01T09:00:00Z",
        "cr_event_action": if i.is_multiple_of(2) { "open" } else { "click" },
        "cr_event_timestamp": "2026-12-01T10:00:00Z",
    })
    .to_string()
}

/// Appends `records` (stream records' JSON text) to the activity stream in one transaction,
/// each keyed by its `cr_system_event_id`, as Import Activity stores them.
pub fn append_records(store: &Db, records: &[String]) {
    let keyed: Vec<(Option<String>, String)> = records
        .iter()
        .map(|r| {
            let record: Value = serde_json::from_str(r).unwrap();
            (Some(event_id(&record)), r.clone())
        })
        .collect();
    store.append_stream(STREAM, &keyed).unwrap();
}
