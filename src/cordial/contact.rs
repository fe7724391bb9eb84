//! The body of a contact upsert (`POST /v2/contacts`), built the documented way: attributes
//! and list memberships as top-level keys, the email channel under `channels.email` (and the
//! SMS channel, when there is one, under `channels.sms`).

use serde_json::{Map, Value, json};

/// A channel's subscribe status as Cordial spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeStatus {
    None,
    Subscribed,
    Unsubscribed,
}

impl SubscribeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscribeStatus::None => "none",
            SubscribeStatus::Subscribed => "subscribed",
            SubscribeStatus::Unsubscribed => "unsubscribed",
        }
    }
}

/// A contact's SMS channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsChannel {
    /// The number in E.164 form (`+15551234567`).
    pub address: String,
    /// Leave `None` to keep the channel's current status.
    pub subscribe_status: Option<SubscribeStatus>,
}

/// One contact to create or update.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactUpsert {
    /// The email address; Cordial's primary key for the email channel. Empty only for a
    /// contact known by its SMS number alone, whose body then has no email channel.
    pub email: String,
    /// Leave `None` to keep the contact's current status (and `none` for a new contact).
    pub subscribe_status: Option<SubscribeStatus>,
    /// Needed to move an unsubscribed contact back to subscribed. Only set when the job's
    /// settings or an explicit opt-in ask for it.
    pub force_subscribe: bool,
    /// Contact attributes by Cordial attribute key, already coerced to their Cordial type.
    pub attributes: Map<String, Value>,
    /// List memberships to change: `(list name, member?)`.
    pub lists: Vec<(String, bool)>,
    /// The SMS channel; `None` leaves it out of the body.
    pub sms: Option<SmsChannel>,
    /// `identifyBy`: the keys Cordial finds an existing contact by, best first
    /// (`channels.sms.address`). Empty: not sent.
    pub identify_by: Vec<String>,
}

impl ContactUpsert {
    pub fn new(email: impl Into<String>) -> Self {
        ContactUpsert {
            email: email.into(),
            ..Default::default()
        }
    }

    /// The JSON body Cordial documents for `POST /v2/contacts`.
    pub fn to_json(&self) -> Value {
        let mut channels = Map::new();
        if !self.email.is_empty() {
            let mut email = Map::new();
            email.insert("address".into(), Value::String(self.email.clone()));
            if let Some(status) = self.subscribe_status {
                email.insert("subscribeStatus".into(), status.as_str().into());
            }
            channels.insert("email".into(), Value::Object(email));
        }
        if let Some(sms) = &self.sms {
            let mut channel = Map::new();
            channel.insert("address".into(), Value::String(sms.address.clone()));
            if let Some(status) = sms.subscribe_status {
                channel.insert("subscribeStatus".into(), status.as_str().into());
            }
            channels.insert("sms".into(), Value::Object(channel));
        }
        let mut body = Map::new();
        body.insert("channels".into(), Value::Object(channels));
        for (key, value) in &self.attributes {
            body.insert(key.clone(), value.clone());
        }
        for (list, member) in &self.lists {
            body.insert(list.clone(), Value::Bool(*member));
        }
        if self.force_subscribe {
            body.insert("forceSubscribe".into(), Value::Bool(true));
        }
        if !self.identify_by.is_empty() {
            body.insert("identifyBy".into(), json!(self.identify_by));
        }
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_puts_attributes_and_lists_at_top_level() {
        let mut c = ContactUpsert::new("jane@example.com");
        c.attributes.insert("first_name".into(), "Jane".into());
        c.lists.push(("newsletter".into(), true));
        c.lists.push(("old_list".into(), false));
        assert_eq!(
            c.to_json(),
            json!({
                "channels": {"email": {"address": "jane@example.com"}},
                "first_name": "Jane",
                "newsletter": true,
                "old_list": false
            })
        );
    }

    #[test]
    fn force_subscribe_is_sent_only_when_asked() {
        let mut c = ContactUpsert::new("a@b.co");
        c.subscribe_status = Some(SubscribeStatus::Subscribed);
        assert!(c.to_json().get("forceSubscribe").is_none());
        c.force_subscribe = true;
        assert_eq!(c.to_json()["forceSubscribe"], Value::Bool(true));
        assert_eq!(
            c.to_json()["channels"]["email"]["subscribeStatus"],
            "subscribed"
        );
    }

    #[test]
    fn the_sms_channel_sits_beside_email_or_alone() {
        let mut both = ContactUpsert::new("a@b.co");
        both.sms = Some(SmsChannel {
            address: "+15551234567".into(),
            subscribe_status: Some(SubscribeStatus::Subscribed),
        });
        assert_eq!(
            both.to_json(),
            json!({"channels": {
                "email": {"address": "a@b.co"},
                "sms": {"address": "+15551234567", "subscribeStatus": "subscribed"}
            }})
        );
        let sms_only = ContactUpsert {
            sms: Some(SmsChannel {
                address: "+15551234567".into(),
                subscribe_status: None,
            }),
            identify_by: vec!["channels.sms.address".into()],
            ..ContactUpsert::default()
        };
        assert_eq!(
            sms_only.to_json(),
            json!({
                "channels": {"sms": {"address": "+15551234567"}},
                "identifyBy": ["channels.sms.address"]
            })
        );
    }
}
