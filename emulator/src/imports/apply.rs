//! Applying one row of an import file to the account (cordial-api.md §5.2).
//!
//! Each row becomes the body a `POST /v2/contacts` would carry and goes through
//! the same validation ([`crate::account::contact_body`]), so an import and the contacts
//! API agree on emails (trimmed, lower-cased), attribute typing, geo sub-fields,
//! list keys and unknown keys; a row the contacts API would answer 422 is
//! `rejected`, with the same messages as the reason. What is particular to imports:
//!
//! - Columns: `channels.email.address` (required in every row),
//!   `channels.email.subscribeStatus`, an attribute key, a `geo_key.sub_field`, or
//!   a list name or list id whose cell is `1`/`0` (also `true`/`false`). An empty
//!   column key (`""` in `columns`) skips the column, and columns of other channels
//!   (`channels.sms.address`, ...) are ignored as the contacts API ignores other
//!   channels. Any other key rejects the row as not part of the schema.
//! - Cells are text. A number or date attribute takes the text of a number or an
//!   ISO-8601 date; an array attribute takes a JSON array (`["a","b"]`) and a geo
//!   attribute a JSON object, which is how the integration writes them.
//! - A cell equal to `nullMarker` leaves that field as it is. An empty attribute
//!   cell clears the attribute (the contacts API's `null`); an empty list cell
//!   leaves the membership as it is.
//! - `lists.addTo` / `lists.removeFrom` apply to every row and override a file
//!   column of the same list.
//! - Subscribe status: a row without one (no column, or an empty cell) asks for
//!   `subscribed`, unlike the contacts API. With `"subscribe": false` such a row
//!   leaves an existing contact's status alone and makes a new contact `none`; a
//!   status the file does give is still applied. Unsubscribe is sticky: an import
//!   never moves an `unsubscribed` contact anywhere (no `forceSubscribe` here).
//! - A row with more cells than the file has columns is rejected; missing
//!   trailing cells leave their fields as they are.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::account::contact_body::{self, Mode};
use crate::config::AttributeType;
use crate::http::errors::{ApiError, not_in_schema};
use crate::imports::request::Strategy;
use crate::model::store::{Contact, Store, SubscribeStatus};

pub const EMAIL_COLUMN: &str = "channels.email.address";
pub const STATUS_COLUMN: &str = "channels.email.subscribeStatus";

/// Keys [`contact_body`] reads as request options rather than contact fields; as
/// file columns they are not part of the schema.
const OPTION_KEYS: &[&str] = &[
    "channels",
    "attributes",
    "forceSubscribe",
    "suppressTriggers",
    "identifyBy",
];

/// What an import does with every row.
#[derive(Debug, Clone)]
pub struct Plan {
    pub columns: Vec<String>,
    pub add_to: Vec<u64>,
    pub remove_from: Vec<u64>,
    pub null_marker: Option<String>,
    pub subscribe: bool,
    pub strategy: Strategy,
}

/// What became of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Ignored,
    Rejected(String),
}

/// The status cell of a row.
enum StatusCell {
    /// No column, an empty cell or a missing trailing cell.
    Absent,
    /// The null marker: leave the status as it is.
    Unchanged,
    Given(String),
}

/// Applies one row; the store is changed only if the row is inserted or updated.
pub fn apply_row(store: &mut Store, plan: &Plan, cells: &[String], now: DateTime<Utc>) -> Outcome {
    if cells.len() > plan.columns.len() {
        return Outcome::Rejected(format!(
            "The row has {} cells but the file has {} columns.",
            cells.len(),
            plan.columns.len()
        ));
    }
    let is_marker = |cell: &str| plan.null_marker.as_deref() == Some(cell);
    let mut email: Option<String> = None;
    let mut status = StatusCell::Absent;
    let mut body = Map::new();
    for (key, cell) in plan.columns.iter().zip(cells) {
        let cell = cell.as_str();
        match key.as_str() {
            "" => {}
            EMAIL_COLUMN => {
                if !is_marker(cell) && !cell.trim().is_empty() {
                    email = Some(cell.to_owned());
                }
            }
            STATUS_COLUMN => {
                status = if is_marker(cell) {
                    StatusCell::Unchanged
                } else if cell.trim().is_empty() {
                    StatusCell::Absent
                } else {
                    StatusCell::Given(cell.trim().to_owned())
                };
            }
            other_channel if other_channel.starts_with("channels.") => {}
            key if OPTION_KEYS.contains(&key) => return Outcome::Rejected(not_in_schema(key)),
            key => {
                if is_marker(cell) {
                    continue;
                }
                let (key, value) = field_value(store, key, cell);
                if let Some(value) = value {
                    body.insert(key, value);
                }
            }
        }
    }
    for (ids, member) in [(&plan.add_to, true), (&plan.remove_from, false)] {
        for id in ids {
            if let Some(list) = store.lists.get(id) {
                body.insert(list.name.clone(), Value::Bool(member));
            }
        }
    }
    let mut channel = Map::new();
    if let Some(email) = email {
        channel.insert("address".into(), Value::String(email));
    }
    if let StatusCell::Given(s) = &status {
        channel.insert("subscribeStatus".into(), Value::String(s.clone()));
    }
    body.insert("channels".into(), json!({ "email": channel }));

    let mut patch = match contact_body::parse(&Value::Object(body), store, Mode::Post) {
        Ok(p) => p,
        Err(ApiError::Validation(errors)) => {
            let reasons: Vec<String> = errors.into_values().flatten().collect();
            return Outcome::Rejected(reasons.join(" "));
        }
        Err(other) => {
            return Outcome::Rejected(
                other.body()["message"]
                    .as_str()
                    .unwrap_or("The row is invalid.")
                    .to_owned(),
            );
        }
    };
    let email = patch.email.clone().unwrap_or_default();
    let existing = store.find_email(&email);
    match (plan.strategy, existing) {
        (Strategy::InsertOnly, Some(_)) | (Strategy::UpdateOnly, None) => return Outcome::Ignored,
        _ => {}
    }
    patch.force_subscribe = false;
    if patch.status.is_none() {
        patch.status = match (status, existing) {
            (StatusCell::Unchanged, Some(_)) => None,
            _ if plan.subscribe => Some(SubscribeStatus::Subscribed),
            (_, Some(_)) => None,
            (_, None) => Some(SubscribeStatus::None),
        };
    }
    match existing {
        Some(seq) => {
            store.update_contact(seq, |c| patch.apply(c, now));
            Outcome::Updated
        }
        None => {
            let mut contact = Contact::new(email, now);
            patch.apply(&mut contact, now);
            store.insert_contact(contact);
            Outcome::Inserted
        }
    }
}

/// The contact-body key and value for a cell of column `key`, or no value when
/// the cell leaves the field as it is.
fn field_value(store: &Store, key: &str, cell: &str) -> (String, Option<Value>) {
    let blank = cell.trim().is_empty();
    // A list id column stands for the list's name (unless a name takes that key).
    let list = store.list_by_name(key).or_else(|| {
        key.parse::<u64>()
            .ok()
            .filter(|_| store.attribute(key).is_none())
            .and_then(|id| store.lists.get(&id))
    });
    if let Some(list) = list {
        let value = (!blank).then(|| Value::String(cell.trim().to_owned()));
        return (list.name.clone(), value);
    }
    let value = if blank {
        Value::Null
    } else if let Some(attr) = store.attribute(key) {
        match attr.r#type {
            AttributeType::Array | AttributeType::Geo => json_or_text(cell),
            _ => Value::String(cell.to_owned()),
        }
    } else if key.ends_with(".loc") {
        json_or_text(cell)
    } else {
        Value::String(cell.to_owned())
    };
    (key.to_owned(), Some(value))
}

/// The JSON a cell holds, or the cell as text (which the type check then refuses).
fn json_or_text(cell: &str) -> Value {
    serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Seed;
    use crate::time;

    fn plan(columns: &[&str]) -> Plan {
        Plan {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            add_to: Vec::new(),
            remove_from: Vec::new(),
            null_marker: Some("\\N".into()),
            subscribe: true,
            strategy: Strategy::Upsert,
        }
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    fn contact(s: &Store, email: &str) -> Value {
        s.render(s.contact(s.find(email).unwrap()).unwrap())
    }

    #[test]
    fn rows_upsert_typed_values_and_lists() {
        let mut s = Store::from_seed(&Seed::demo());
        let p = plan(&[
            EMAIL_COLUMN,
            "first_name",
            "age",
            "birthday",
            "interests",
            "address.city",
            "newsletter",
            "",
        ]);
        let now = time::now();
        let cells = row(&[
            " Ann@X.io ",
            "Ann",
            "33",
            "1990-05-01",
            r#"["a","b"]"#,
            "SD",
            "1",
            "skipped",
        ]);
        assert_eq!(apply_row(&mut s, &p, &cells, now), Outcome::Inserted);
        let c = contact(&s, "ann@x.io");
        assert_eq!(c["attributes"]["first_name"], "Ann");
        assert_eq!(c["attributes"]["age"], 33);
        assert_eq!(c["attributes"]["birthday"], "1990-05-01T00:00:00+0000");
        assert_eq!(c["attributes"]["interests"], json!(["a", "b"]));
        assert_eq!(c["attributes"]["address"], json!({"city": "SD"}));
        assert_eq!(c["lists"], json!(["newsletter"]));
        assert_eq!(c["channels"]["email"]["subscribeStatus"], "subscribed");
        // Marker leaves, empty clears, 0 removes from the list.
        let cells = row(&["ann@x.io", "\\N", "", "\\N", "\\N", "\\N", "0", ""]);
        assert_eq!(apply_row(&mut s, &p, &cells, now), Outcome::Updated);
        let c = contact(&s, "ann@x.io");
        assert_eq!(c["attributes"]["first_name"], "Ann");
        assert!(c["attributes"].get("age").is_none());
        assert_eq!(c["lists"], json!([]));
    }

    #[test]
    fn bad_rows_are_rejected_with_the_contacts_api_reason() {
        let mut s = Store::from_seed(&Seed::demo());
        let p = plan(&[EMAIL_COLUMN, "age", "nickname"]);
        let now = time::now();
        let reject = |s: &mut Store, cells: &[&str]| match apply_row(s, &p, &row(cells), now) {
            Outcome::Rejected(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reject(&mut s, &["not-an-email", "", ""]),
            "The channels.email.address must be a valid email address. key nickname is not part of the schema for this resource"
        );
        assert!(reject(&mut s, &["", "", ""]).contains("channels.email.address field is required"));
        let p2 = plan(&[EMAIL_COLUMN, "age"]);
        let Outcome::Rejected(r) = apply_row(&mut s, &p2, &row(&["a@x.io", "old"]), now) else {
            panic!()
        };
        assert_eq!(r, "The age must be a number.");
        let Outcome::Rejected(r) = apply_row(&mut s, &p2, &row(&["a@x.io", "1", "2"]), now) else {
            panic!()
        };
        assert!(r.contains("3 cells"), "{r}");
        assert_eq!(s.contact_count(), 0);
    }

    #[test]
    fn subscribe_status_defaults_stickiness_and_subscribe_false() {
        let mut s = Store::from_seed(&Seed::demo());
        let now = time::now();
        let p = plan(&[EMAIL_COLUMN, STATUS_COLUMN]);
        let status =
            |s: &Store, e: &str| contact(s, e)["channels"]["email"]["subscribeStatus"].clone();
        apply_row(&mut s, &p, &row(&["a@x.io", ""]), now);
        assert_eq!(status(&s, "a@x.io"), "subscribed");
        apply_row(&mut s, &p, &row(&["a@x.io", "unsubscribed"]), now);
        apply_row(&mut s, &p, &row(&["a@x.io", "subscribed"]), now);
        apply_row(&mut s, &p, &row(&["a@x.io", ""]), now);
        assert_eq!(status(&s, "a@x.io"), "unsubscribed");

        let quiet = Plan {
            subscribe: false,
            ..p.clone()
        };
        apply_row(&mut s, &quiet, &row(&["new@x.io", ""]), now);
        assert_eq!(status(&s, "new@x.io"), "none");
        apply_row(&mut s, &p, &row(&["b@x.io", "none"]), now);
        apply_row(&mut s, &quiet, &row(&["b@x.io"]), now);
        assert_eq!(status(&s, "b@x.io"), "none");
        apply_row(&mut s, &quiet, &row(&["b@x.io", "subscribed"]), now);
        assert_eq!(status(&s, "b@x.io"), "subscribed");
        // The marker leaves an existing status alone even when subscribe is true.
        apply_row(&mut s, &p, &row(&["c@x.io", "none"]), now);
        apply_row(&mut s, &p, &row(&["c@x.io", "\\N"]), now);
        assert_eq!(status(&s, "c@x.io"), "none");
    }

    #[test]
    fn list_overrides_ids_and_strategy() {
        let mut s = Store::from_seed(&Seed::demo());
        let vip = s.add_list("vip".into(), false);
        let news = s.list_by_name("newsletter").unwrap().id;
        let now = time::now();
        let p = Plan {
            add_to: vec![vip],
            remove_from: vec![news],
            ..plan(&[EMAIL_COLUMN, &news.to_string(), "vip"])
        };
        apply_row(&mut s, &p, &row(&["a@x.io", "1", "0"]), now);
        assert_eq!(contact(&s, "a@x.io")["lists"], json!(["vip"]));
        let insert_only = Plan {
            strategy: Strategy::InsertOnly,
            ..p.clone()
        };
        assert_eq!(
            apply_row(&mut s, &insert_only, &row(&["a@x.io"]), now),
            Outcome::Ignored
        );
        let update_only = Plan {
            strategy: Strategy::UpdateOnly,
            ..p
        };
        assert_eq!(
            apply_row(&mut s, &update_only, &row(&["z@x.io"]), now),
            Outcome::Ignored
        );
        assert_eq!(s.contact_count(), 1);
    }
}
