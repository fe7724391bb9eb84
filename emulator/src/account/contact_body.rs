//! Reading a `POST`/`PUT /v2/contacts` body into a change to apply.
//!
//! The whole body is validated before anything is written, and every problem is
//! collected, so a 422 leaves the contact untouched and names all bad keys at
//! once, as Laravel's validator does.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::account::values;
use crate::config::AttributeType;
use crate::http::errors::{ApiError, ValidationErrors, not_in_schema};
use crate::model::store::{Contact, SmsChannel, Store, SubscribeStatus};

const EMAIL_FIELD: &str = "channels.email.address";
const STATUS_FIELD: &str = "channels.email.subscribeStatus";
pub const SMS_FIELD: &str = "channels.sms.address";
const SMS_STATUS_FIELD: &str = "channels.sms.subscribeStatus";

/// A validated contact change.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ContactPatch {
    /// Lower-cased email address.
    pub email: Option<String>,
    pub status: Option<SubscribeStatus>,
    pub force_subscribe: bool,
    /// Whole attribute values; `Null` removes the value.
    pub attributes: Vec<(String, Value)>,
    /// `geo_key.sub_field` writes; `Null` removes the sub-field.
    pub geo_fields: Vec<(String, String, Value)>,
    /// List id → member or not.
    pub lists: Vec<(u64, bool)>,
    /// The SMS number (E.164) and the SMS channel's status.
    pub sms: Option<String>,
    pub sms_status: Option<SubscribeStatus>,
    /// `identifyBy`: the keys an upsert finds its contact by.
    pub identify_by: Vec<String>,
}

impl ContactPatch {
    /// A POST without an email that `identifyBy` says to find by its SMS number.
    pub fn identified_by_sms(&self) -> bool {
        self.sms.is_some() && self.identify_by.iter().any(|k| k == SMS_FIELD)
    }

    /// Writes the change into `c`.
    pub fn apply(self, c: &mut Contact, now: DateTime<Utc>) {
        if let Some(email) = self.email {
            c.email = email;
        }
        if let Some(status) = self.status {
            c.subscription.set(status, self.force_subscribe, now);
        }
        if let Some(address) = self.sms {
            match c.sms.as_mut() {
                Some(sms) => sms.address = address,
                None => c.sms = Some(SmsChannel::new(address)),
            }
        }
        if let (Some(status), Some(sms)) = (self.sms_status, c.sms.as_mut()) {
            sms.subscription.set(status, self.force_subscribe, now);
        }
        for (key, value) in self.attributes {
            if value.is_null() {
                c.attributes.remove(&key);
            } else {
                c.attributes.insert(key, value);
            }
        }
        for (key, sub, value) in self.geo_fields {
            let slot = c
                .attributes
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(fields) = slot {
                if value.is_null() {
                    fields.remove(&sub);
                } else {
                    fields.insert(sub, value);
                }
            }
        }
        for (id, member) in self.lists {
            if member && !c.in_list(id) {
                c.lists.push((id, now));
            } else if !member {
                c.lists.retain(|(l, _)| *l != id);
            }
        }
        c.modified = now;
    }
}

/// Whether a request creates (POST) or updates (PUT) — POST requires the email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Post,
    Put,
}

/// Validates a contact body against the account's schema.
pub fn parse(body: &Value, store: &Store, mode: Mode) -> Result<ContactPatch, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::invalid_field(
            "body",
            "The request body must be a JSON object.",
        ));
    };
    let mut p = Parser {
        store,
        patch: ContactPatch::default(),
        errors: ValidationErrors::new(),
    };
    for (key, value) in fields {
        p.top_level(key, value);
    }
    if mode == Mode::Post
        && p.patch.email.is_none()
        && !p.patch.identified_by_sms()
        && !p.errors.contains_key(EMAIL_FIELD)
    {
        p.error(EMAIL_FIELD, format!("The {EMAIL_FIELD} field is required."));
    }
    if p.errors.is_empty() {
        Ok(p.patch)
    } else {
        Err(ApiError::Validation(p.errors))
    }
}

struct Parser<'a> {
    store: &'a Store,
    patch: ContactPatch,
    errors: ValidationErrors,
}

impl Parser<'_> {
    fn error(&mut self, field: &str, message: String) {
        self.errors.entry(field.into()).or_default().push(message);
    }

    fn top_level(&mut self, key: &str, value: &Value) {
        match key {
            "channels" => self.channels(value),
            "forceSubscribe" => match values::lenient_bool(value) {
                Some(b) => self.patch.force_subscribe = b,
                None => self.error(key, format!("The {key} field must be true or false.")),
            },
            "suppressTriggers" => {
                if values::lenient_bool(value).is_none() {
                    self.error(key, "Incorrect value for suppressTriggers".into());
                }
            }
            "identifyBy" => match value.as_array() {
                Some(keys) if keys.iter().all(Value::is_string) => {
                    self.patch.identify_by = keys
                        .iter()
                        .filter_map(Value::as_str)
                        .map(Into::into)
                        .collect();
                }
                _ => self.error(key, "Search field is not correct".into()),
            },
            // The undocumented nested form the Zendesk app sends.
            "attributes" => match value {
                Value::Object(inner) => {
                    for (k, v) in inner {
                        self.field(k, v);
                    }
                }
                _ => self.error(key, format!("The {key} must be an object.")),
            },
            _ => self.field(key, value),
        }
    }

    /// An attribute value, a `geo.sub_field` value or a list membership.
    fn field(&mut self, key: &str, value: &Value) {
        let store = self.store;
        if let Some(attr) = store.attribute(key) {
            match values::check(attr, key, value) {
                Ok(v) => self.patch.attributes.push((key.into(), v)),
                Err(m) => self.error(key, m),
            }
        } else if let Some(list) = store.list_by_name(key) {
            match values::lenient_bool(value) {
                Some(member) => self.patch.lists.push((list.id, member)),
                None => self.error(key, format!("The {key} field must be true or false.")),
            }
        } else if let Some((geo, sub)) = key.split_once('.')
            && store
                .attribute(geo)
                .is_some_and(|a| a.r#type == AttributeType::Geo)
        {
            match values::check_geo_field(key, sub, value) {
                Ok(v) => self.patch.geo_fields.push((geo.into(), sub.into(), v)),
                Err(m) => self.error(key, m),
            }
        } else {
            self.error(key, not_in_schema(key));
        }
    }

    fn channels(&mut self, value: &Value) {
        let Value::Object(channels) = value else {
            self.error("channels", "The channels must be an object.".into());
            return;
        };
        // The email and SMS channels are emulated; other channel keys are accepted and
        // ignored rather than rejected, as the account may define them.
        if let Some(sms) = channels.get("sms").and_then(|v| self.channel("sms", v)) {
            self.sms_channel(sms);
        }
        if let Some(email) = channels.get("email").and_then(|v| self.channel("email", v)) {
            self.email_channel(email);
        }
    }

    /// The object `channels.<name>`; anything else is an error on that key.
    fn channel<'v>(&mut self, name: &str, value: &'v Value) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(fields) => Some(fields),
            _ => {
                let key = format!("channels.{name}");
                self.error(&key, format!("The {key} must be an object."));
                None
            }
        }
    }

    fn email_channel(&mut self, email: &Map<String, Value>) {
        match email.get("address") {
            None => {}
            Some(Value::String(a)) if is_email(a.trim()) => {
                self.patch.email = Some(a.trim().to_lowercase());
            }
            Some(_) => self.error(
                EMAIL_FIELD,
                format!("The {EMAIL_FIELD} must be a valid email address."),
            ),
        }
        if let Some(status) = self.subscribe_status(email, STATUS_FIELD, SubscribeStatus::parse) {
            self.patch.status = Some(status);
        }
    }

    fn sms_channel(&mut self, sms: &Map<String, Value>) {
        match sms.get("address") {
            None | Some(Value::Null) => {}
            Some(Value::String(a)) if is_e164(a.trim()) => {
                self.patch.sms = Some(a.trim().to_owned());
            }
            Some(_) => self.error(
                SMS_FIELD,
                format!("The {SMS_FIELD} must be a phone number in E.164 form (+15551234567)."),
            ),
        }
        if let Some(status) =
            self.subscribe_status(sms, SMS_STATUS_FIELD, SubscribeStatus::parse_sms)
        {
            self.patch.sms_status = Some(status);
        }
    }

    /// A channel's `subscribeStatus` (absent or `null`: none), read with `parse`,
    /// which knows the statuses of that channel; any other is an error on `field`.
    fn subscribe_status(
        &mut self,
        channel: &Map<String, Value>,
        field: &str,
        parse: fn(&str) -> Option<SubscribeStatus>,
    ) -> Option<SubscribeStatus> {
        match channel.get("subscribeStatus") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let status = v.as_str().and_then(parse);
                if status.is_none() {
                    self.error(field, format!("The selected {field} is invalid."));
                }
                status
            }
        }
    }
}

/// `+` and 8 to 15 digits, the first not 0.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
    })
}

/// A plausibility check, like Laravel's `email` rule: one `@`, both sides
/// non-empty, a dot in the domain, no whitespace.
pub fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Seed;
    use crate::time;
    use serde_json::json;

    fn store() -> Store {
        Store::from_seed(&Seed::demo())
    }

    #[test]
    fn reads_top_level_and_nested_attributes_and_lists() {
        let s = store();
        let p = parse(
            &json!({
                "channels": {"email": {"address": "Jane@Example.com", "subscribeStatus": "subscribed"}},
                "first_name": "Jane",
                "attributes": {"age": "33"},
                "address.city": "San Diego",
                "newsletter": true,
                "forceSubscribe": true,
                "suppressTriggers": true,
                "identifyBy": ["email"]
            }),
            &s,
            Mode::Post,
        )
        .unwrap();
        assert_eq!(p.email.as_deref(), Some("jane@example.com"));
        assert_eq!(p.status, Some(SubscribeStatus::Subscribed));
        assert!(p.force_subscribe);
        assert!(p.attributes.contains(&("first_name".into(), json!("Jane"))));
        assert!(p.attributes.contains(&("age".into(), json!(33))));
        assert_eq!(
            p.geo_fields,
            vec![("address".into(), "city".into(), json!("San Diego"))]
        );
        assert_eq!(p.lists.len(), 1);
    }

    #[test]
    fn collects_every_error() {
        let s = store();
        let Err(ApiError::Validation(e)) = parse(
            &json!({"nickname": "J", "age": "old", "newsletter": "maybe", "weekly": true}),
            &s,
            Mode::Post,
        ) else {
            panic!("expected a validation error");
        };
        assert_eq!(e["nickname"], vec![not_in_schema("nickname")]);
        assert_eq!(e["weekly"], vec![not_in_schema("weekly")]);
        assert_eq!(e["age"], vec!["The age must be a number.".to_string()]);
        assert!(e.contains_key("newsletter"));
        assert!(e.contains_key(EMAIL_FIELD));
    }

    #[test]
    fn an_sms_only_post_needs_identify_by_and_a_valid_number() {
        let s = store();
        let body = json!({
            "channels": {"sms": {"address": "+15551234567", "subscribeStatus": "pendingDOI"}},
            "identifyBy": ["channels.sms.address"]
        });
        let p = parse(&body, &s, Mode::Post).unwrap();
        assert!(p.identified_by_sms());
        assert_eq!(p.sms.as_deref(), Some("+15551234567"));
        assert_eq!(p.sms_status, Some(SubscribeStatus::PendingDoi));
        let Err(ApiError::Validation(e)) = parse(
            &json!({"channels": {"sms": {"address": "+15551234567"}}}),
            &s,
            Mode::Post,
        ) else {
            panic!("without identifyBy the email is required");
        };
        assert!(e.contains_key(EMAIL_FIELD));
        let Err(ApiError::Validation(e)) = parse(
            &json!({"channels": {"email": {"address": "a@x.io", "subscribeStatus": "pendingDOI"},
                                 "sms": {"address": "5551234567"}}}),
            &s,
            Mode::Post,
        ) else {
            panic!("a bad number and an email pendingDOI are refused");
        };
        assert!(e.contains_key(SMS_FIELD) && e.contains_key(STATUS_FIELD));
    }

    #[test]
    fn put_does_not_need_the_email() {
        assert!(parse(&json!({"first_name": "J"}), &store(), Mode::Put).is_ok());
        assert!(parse(&json!([]), &store(), Mode::Put).is_err());
    }

    #[test]
    fn apply_merges_geo_fields_and_keeps_join_dates() {
        let s = store();
        let list = s.list_by_name("newsletter").unwrap().id;
        let t0 = time::now();
        let mut c = Contact::new("a@x.io".into(), t0);
        ContactPatch {
            geo_fields: vec![("address".into(), "city".into(), json!("SD"))],
            lists: vec![(list, true)],
            ..Default::default()
        }
        .apply(&mut c, t0);
        let later = t0 + chrono::Duration::seconds(5);
        ContactPatch {
            geo_fields: vec![("address".into(), "state".into(), json!("CA"))],
            lists: vec![(list, true)],
            ..Default::default()
        }
        .apply(&mut c, later);
        assert_eq!(
            c.attributes["address"],
            json!({"city": "SD", "state": "CA"})
        );
        assert_eq!(c.lists, vec![(list, t0)]);
        assert_eq!(c.modified, later);
    }
}
