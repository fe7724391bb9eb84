//! The body of a contact upsert (`POST /v2/contacts`), built the documented way: attributes
//! and list memberships as top-level keys, the email channel under `channels.email`.

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

/// One contact to create or update.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactUpsert {
    /// The email address; Cordial's primary key for the email channel.
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
        let mut email = Map::new();
        email.insert("address".into(), Value::String(self.email.clone()));
        if let Some(status) = self.subscribe_status {
            email.insert("subscribeStatus".into(), status.as_str().into());
        }
        let mut body = Map::new();
        body.insert("channels".into(), json!({ "email": email }));
        for (key, value) in &self.attributes {
            body.insert(key.clone(), value.clone());
        }
        for (list, member) in &self.lists {
            body.insert(list.clone(), Value::Bool(*member));
        }
        if self.force_subscribe {
            body.insert("forceSubscribe".into(), Value::Bool(true));
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
}
