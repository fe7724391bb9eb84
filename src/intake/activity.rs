//! Reading Cordial's webhook pushes of contact activity: one `{"contact": {...}, "event":
//! {...}}` per request (Cordial's *single* mode) or an array of them (*batched* mode), each
//! event mapped exactly as the 6-hourly export's records are, so an event that arrives both
//! ways is one record in the stream (keyed by its `_id`).
//!
//! A push event carries the export's fields (`_id`, `cID`, `action`, `time`, `first`,
//! `mcID`, …); where the event leaves out what the export puts on each record, the pushed
//! contact and the event's short names fill it in: `cID` from `contact.cID`, `email` from the
//! contact's email channel, `action` from `a`, `time` from `ats`. Cordial lets an account
//! reshape its payload; an element that is the bare event (an object with `_id` and no
//! `event`) is read as one.

use super::elements::{ElementsError, each_element};
use crate::activity::record::{RecordMapper, StreamRecord};
use serde_json::{Map, Value};

/// What is wrong with a push, and where: `[3].event`, `event._id`, `(body)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPush {
    pub path: String,
    pub message: String,
}

/// Every event of the body as a stream record; or the first problem. Nothing is stored for a
/// body with a problem, so the sender can fix and resend the whole of it.
pub fn activity_records(mapper: &RecordMapper, body: &[u8]) -> Result<Vec<StreamRecord>, BadPush> {
    let mut records = Vec::new();
    each_element(body, |index, item| {
        let record = match (index, item) {
            (Some(i), item) => one(mapper, item, &format!("[{i}]"))?,
            (None, item @ Value::Object(_)) => one(mapper, item, "")?,
            (None, _) => {
                return Err(BadPush {
                    path: "(body)".into(),
                    message: "send one {\"contact\", \"event\"} object, or an array of them"
                        .into(),
                });
            }
        };
        records.push(record);
        Ok(())
    })
    .map_err(|e| match e {
        ElementsError::Element(bad) => bad,
        ElementsError::NotJson(e) => BadPush {
            path: "(body)".into(),
            message: format!(
                "not valid JSON ({e}); send one {{\"contact\", \"event\"}} object, or an array of them"
            ),
        },
    })?;
    Ok(records)
}

/// One element, `at` its place in the body (empty for a single event).
fn one(mapper: &RecordMapper, item: Value, at: &str) -> Result<StreamRecord, BadPush> {
    let place = |field: &str| match (at, field) {
        ("", "") => "(body)".to_owned(),
        ("", f) => f.to_owned(),
        (a, "") => a.to_owned(),
        (a, f) => format!("{a}.{f}"),
    };
    let Value::Object(mut item) = item else {
        return Err(BadPush {
            path: place(""),
            message: "each event must be a JSON object".into(),
        });
    };
    let (mut event, contact, at_event) = match item.remove("event") {
        Some(Value::Object(event)) => (event, item.remove("contact"), place("event")),
        Some(_) => {
            return Err(BadPush {
                path: place("event"),
                message: "`event` must be a JSON object".into(),
            });
        }
        None if item.contains_key("_id") => (item, None, place("")),
        None => {
            return Err(BadPush {
                path: place("event"),
                message: "missing; each element is {\"contact\": {...}, \"event\": {...}}".into(),
            });
        }
    };
    fill_in(&mut event, contact.as_ref());
    let text = Value::Object(event).to_string();
    mapper.map(&text).map_err(|message| BadPush {
        path: at_event,
        message,
    })
}

/// The export's fields an event leaves out, from the contact and the event's short names.
fn fill_in(event: &mut Map<String, Value>, contact: Option<&Value>) {
    let contact = contact.filter(|c| c.is_object());
    let fallbacks = [
        ("cID", contact.and_then(|c| c.get("cID")).cloned()),
        (
            "email",
            contact
                .and_then(|c| c.pointer("/channels/email/address"))
                .cloned(),
        ),
        ("action", event.get("a").cloned()),
        ("time", event.get("ats").cloned()),
    ];
    for (field, value) in fallbacks {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            event.entry(field).or_insert(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn read(body: Value, extra: &BTreeMap<String, String>) -> Result<Vec<Value>, BadPush> {
        let mapper = RecordMapper::new(extra);
        activity_records(&mapper, body.to_string().as_bytes()).map(|records| {
            records
                .into_iter()
                .map(|r| {
                    let v: Value = serde_json::from_str(&r.json).unwrap();
                    assert_eq!(v["cr_system_event_id"], r.key.as_str());
                    v
                })
                .collect()
        })
    }

    /// A push as Cordial sends one (RudderStack's Cordial source shows the shape).
    fn push(id: &str) -> Value {
        json!({
            "contact": {"cID": "c1", "channels": {"email": {"address": "a@x.io"}}},
            "event": {"_id": id, "a": "browse", "ats": "2026-12-01T10:00:00+0000",
                      "first": 0, "properties": {"url": "https://x.io/p"}}
        })
    }

    #[test]
    fn a_single_push_and_a_batch_map_as_export_records_do() {
        let extra = BTreeMap::from([
            ("email".to_owned(), "email".to_owned()),
            ("properties.url".to_owned(), "url".to_owned()),
        ]);
        let one = read(push("e1"), &extra).unwrap();
        assert_eq!(
            one,
            [json!({
                "cr_contact_id": "c1", "cr_first": false, "cr_system_event_id": "e1",
                "cr_event_action": "browse", "cr_event_timestamp": "2026-12-01T10:00:00Z",
                "email": "a@x.io", "url": "https://x.io/p"
            })]
        );
        let batch = read(json!([push("e1"), push("e2")]), &extra).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0], one[0]);
        assert_eq!(batch[1]["cr_system_event_id"], "e2");
        assert!(read(json!([]), &extra).unwrap().is_empty());
    }

    #[test]
    fn the_events_own_fields_win_over_the_contact_and_the_short_names() {
        let body = json!({"contact": {"cID": "other"}, "event": {
            "_id": "e1", "cID": "c9", "a": "x", "action": "open",
            "ats": "2026-12-01T10:00:00+0000", "time": "2026-12-01T11:00:00+0000"}});
        let r = &read(body, &BTreeMap::new()).unwrap()[0];
        assert_eq!(r["cr_contact_id"], "c9");
        assert_eq!(r["cr_event_action"], "open");
        assert_eq!(r["cr_event_timestamp"], "2026-12-01T11:00:00Z");
    }

    #[test]
    fn a_bare_event_is_read_as_one() {
        let r = read(
            json!({"_id": "e1", "cID": "c1", "action": "open"}),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(r[0]["cr_contact_id"], "c1");
    }

    #[test]
    fn each_problem_names_the_element_at_fault() {
        let none = BTreeMap::new();
        let problem = |body: Value| read(body, &none).unwrap_err();
        let bad = |e: BadPush| (e.path, e.message);
        let (path, message) = bad(problem(json!([push("e1"), {"contact": {}}])));
        assert_eq!(path, "[1].event");
        assert!(message.contains("missing"), "{message}");
        let no_id = json!([push("e1"), push("e2"), {"event": {"cID": "c1"}}]);
        let (path, message) = bad(problem(no_id));
        assert_eq!(
            (path.as_str(), message.as_str()),
            ("[2].event", "the record has no `_id`")
        );
        let bad_time = json!({"event": {"_id": "e1", "time": "yesterday"}});
        let (path, message) = bad(problem(bad_time));
        assert_eq!(path, "event");
        assert!(message.contains("`time`"), "{message}");
        assert_eq!(bad(problem(json!([1]))).0, "[0]");
        assert_eq!(bad(problem(json!({"event": "x"}))).0, "event");
        assert_eq!(bad(problem(json!("x"))).0, "(body)");
        let mapper = RecordMapper::new(&none);
        let e = activity_records(&mapper, b"{not json").unwrap_err();
        assert_eq!(e.path, "(body)");
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
    }
}
