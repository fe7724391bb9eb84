//! The in-memory account: attribute schema, lists and contacts.
//!
//! Everything lives behind one `Mutex` in [`crate::http::app::App`]; handlers lock it,
//! validate, mutate and render without awaiting, so no lock is held across I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::config::{AttributeType, Seed};
use crate::model::ids;
use crate::time;

/// Contact keys that are not attributes. A list or attribute may not take one of
/// these names, or a contact body using it would be ambiguous.
pub const RESERVED_KEYS: &[&str] = &[
    "_id",
    "attributes",
    "cart",
    "channels",
    "cID",
    "createdAt",
    "email",
    "forceSubscribe",
    "identifyBy",
    "lastModified",
    "lastUpdateSource",
    "listJoinDate",
    "lists",
    "suppressTriggers",
];

/// A contact attribute definition.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub key: String,
    pub name: String,
    pub r#type: AttributeType,
    pub index: bool,
    pub validators: Map<String, Value>,
    pub options: Map<String, Value>,
    pub update_unauthenticated: bool,
    pub retain_on_destroy: Option<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

impl Attribute {
    pub fn new(key: String, name: String, r#type: AttributeType, now: DateTime<Utc>) -> Self {
        Self {
            key,
            name,
            r#type,
            index: false,
            validators: Map::new(),
            options: Map::new(),
            update_unauthenticated: false,
            retain_on_destroy: None,
            created: now,
            modified: now,
        }
    }

    /// The Swagger's `AttributeShow`. `retainOnDestroy` is left out while unset
    /// because the Swagger types it as a string, so `null` would not validate.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "key": self.key,
            "name": self.name,
            "type": self.r#type.as_str(),
            "index": self.index,
            "unique": false,
            "validators": self.validators,
            "schema": {},
            "ct": time::format(self.created),
            "lm": time::format(self.modified),
            "updateUnauthenticated": self.update_unauthenticated,
        });
        if !self.options.is_empty() {
            v["options"] = Value::Object(self.options.clone());
        }
        if let Some(r) = &self.retain_on_destroy {
            v["retainOnDestroy"] = Value::String(r.clone());
        }
        v
    }
}

/// An account list. Membership lives on the contacts.
#[derive(Debug, Clone)]
pub struct AccountList {
    pub id: u64,
    pub name: String,
    pub enhanced: bool,
}

impl AccountList {
    /// The Swagger's `ListShow`.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "enhanced": self.enhanced})
    }
}

/// A channel's subscribe status. `pendingDOI` (a double opt-in not yet confirmed) exists
/// on the SMS channel only (cordial-api.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeStatus {
    None,
    Subscribed,
    Unsubscribed,
    PendingDoi,
}

impl SubscribeStatus {
    /// An email channel status.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "subscribed" => Some(Self::Subscribed),
            "unsubscribed" => Some(Self::Unsubscribed),
            _ => None,
        }
    }

    /// An SMS channel status: the email ones and `pendingDOI`.
    pub fn parse_sms(s: &str) -> Option<Self> {
        match s {
            "pendingDOI" => Some(Self::PendingDoi),
            _ => Self::parse(s),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Subscribed => "subscribed",
            Self::Unsubscribed => "unsubscribed",
            Self::PendingDoi => "pendingDOI",
        }
    }
}

/// Where one channel of a contact stands: its status and when it last became
/// subscribed or unsubscribed. The email and SMS channels follow the same rules.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub status: SubscribeStatus,
    pub subscribed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

impl Subscription {
    /// A channel that was never subscribed or unsubscribed.
    pub fn none() -> Self {
        Self {
            status: SubscribeStatus::None,
            subscribed_at: None,
            unsubscribed_at: None,
        }
    }

    /// Moves the channel to `requested`. Unsubscribe is sticky: only
    /// `forceSubscribe:true` moves an unsubscribed channel anywhere else, and
    /// otherwise the request is silently ignored (cordial-api.md §2.2 [INF]).
    pub fn set(&mut self, requested: SubscribeStatus, force: bool, now: DateTime<Utc>) {
        if self.status == requested || (self.status == SubscribeStatus::Unsubscribed && !force) {
            return;
        }
        self.status = requested;
        match requested {
            SubscribeStatus::Subscribed => self.subscribed_at = Some(now),
            SubscribeStatus::Unsubscribed => self.unsubscribed_at = Some(now),
            SubscribeStatus::None | SubscribeStatus::PendingDoi => {}
        }
    }

    /// The channel in the GET shape: address, status and the time of the current status.
    fn render(&self, address: &str) -> Value {
        let mut channel = json!({"address": address, "subscribeStatus": self.status.as_str()});
        match (self.status, self.subscribed_at, self.unsubscribed_at) {
            (SubscribeStatus::Subscribed, Some(t), _) => {
                channel["subscribedAt"] = time::format(t).into();
            }
            (SubscribeStatus::Unsubscribed, _, Some(t)) => {
                channel["unsubscribedAt"] = time::format(t).into();
            }
            _ => {}
        }
        channel
    }
}

/// A contact's SMS channel.
#[derive(Debug, Clone)]
pub struct SmsChannel {
    /// E.164, `+15551234567`; unique in the account.
    pub address: String,
    pub subscription: Subscription,
}

impl SmsChannel {
    pub fn new(address: String) -> Self {
        Self {
            address,
            subscription: Subscription::none(),
        }
    }
}

/// A contact.
#[derive(Debug, Clone)]
pub struct Contact {
    pub cid: String,
    /// Lower-cased email address, the account's primary key. Empty for a contact created
    /// by its SMS number alone (`identifyBy: ["channels.sms.address"]`).
    pub email: String,
    /// The email channel's status.
    pub subscription: Subscription,
    /// Attribute values by key, already normalised (dates in Cordial's format).
    pub attributes: Map<String, Value>,
    /// List memberships in join order, with the join time.
    pub lists: Vec<(u64, DateTime<Utc>)>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub sms: Option<SmsChannel>,
}

impl Contact {
    pub fn new(email: String, now: DateTime<Utc>) -> Self {
        Self {
            cid: ids::object_id(),
            email,
            subscription: Subscription::none(),
            attributes: Map::new(),
            lists: Vec::new(),
            created: now,
            modified: now,
            sms: None,
        }
    }

    fn sms_address(&self) -> Option<&str> {
        self.sms.as_ref().map(|s| s.address.as_str())
    }

    pub fn in_list(&self, id: u64) -> bool {
        self.lists.iter().any(|(l, _)| *l == id)
    }
}

/// The account state.
#[derive(Debug, Default)]
pub struct Store {
    contacts: BTreeMap<u64, Contact>,
    next_seq: u64,
    by_email: HashMap<String, u64>,
    by_cid: HashMap<String, u64>,
    by_sms: HashMap<String, u64>,
    pub lists: BTreeMap<u64, AccountList>,
    next_list_id: u64,
    /// In creation order, which is the order `GET` lists them in.
    pub attributes: Vec<Attribute>,
}

impl Store {
    pub fn from_seed(seed: &Seed) -> Self {
        let now = time::now();
        let mut store = Self::default();
        for a in &seed.attributes {
            store
                .attributes
                .push(Attribute::new(a.key.clone(), a.name.clone(), a.r#type, now));
        }
        for name in &seed.lists {
            store.add_list(name.clone(), true);
        }
        store
    }

    // ---- attributes -------------------------------------------------------

    pub fn attribute(&self, key: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.key == key)
    }

    pub fn attribute_mut(&mut self, key: &str) -> Option<&mut Attribute> {
        self.attributes.iter_mut().find(|a| a.key == key)
    }

    /// Removes an attribute definition and its values on every contact.
    pub fn remove_attribute(&mut self, key: &str) -> bool {
        let before = self.attributes.len();
        self.attributes.retain(|a| a.key != key);
        if self.attributes.len() == before {
            return false;
        }
        for c in self.contacts.values_mut() {
            c.attributes.remove(key);
        }
        true
    }

    /// Whether `name` is taken in the namespace that list names and attribute
    /// keys share ("List names must be unique from other list names as well as
    /// contact attribute names"), ignoring the list `except`.
    pub fn name_taken(&self, name: &str, except_list: Option<u64>) -> bool {
        RESERVED_KEYS.contains(&name)
            || self.attribute(name).is_some()
            || self
                .lists
                .values()
                .any(|l| l.name == name && Some(l.id) != except_list)
    }

    // ---- lists --------------------------------------------------------------

    pub fn add_list(&mut self, name: String, enhanced: bool) -> u64 {
        self.next_list_id += 1;
        let id = self.next_list_id;
        self.lists.insert(id, AccountList { id, name, enhanced });
        id
    }

    pub fn list_by_name(&self, name: &str) -> Option<&AccountList> {
        self.lists.values().find(|l| l.name == name)
    }

    pub fn list_count(&self, id: u64) -> usize {
        self.contacts.values().filter(|c| c.in_list(id)).count()
    }

    /// Takes every contact off list `id`.
    pub fn clear_list(&mut self, id: u64) {
        for c in self.contacts.values_mut() {
            c.lists.retain(|(l, _)| *l != id);
        }
    }

    pub fn remove_list(&mut self, id: u64) -> bool {
        let found = self.lists.remove(&id).is_some();
        if found {
            self.clear_list(id);
        }
        found
    }

    // ---- contacts -----------------------------------------------------------

    pub fn contact_count(&self) -> usize {
        self.contacts.len()
    }

    /// Finds a contact by any of the path forms of `{primary_key}`: a cID, the
    /// email (the primary key value) or `key:value` with key `email`, `cID`,
    /// `_id`, `channels.email.address` or an attribute key.
    pub fn find(&self, pk: &str) -> Option<u64> {
        if let Some(&seq) = self.by_cid.get(pk) {
            return Some(seq);
        }
        match pk.split_once(':') {
            Some((key, value)) => match key {
                "email" | "channels.email.address" => self.find_email(value),
                "channels.sms.address" => self.find_sms(value),
                "cID" | "cid" | "_id" => self.by_cid.get(value).copied(),
                attribute => self
                    .contacts
                    .iter()
                    .find(|(_, c)| {
                        c.attributes.get(attribute).is_some_and(|v| match v {
                            Value::String(s) => s == value,
                            Value::Number(n) => n.to_string() == value,
                            _ => false,
                        })
                    })
                    .map(|(seq, _)| *seq),
            },
            None => self.find_email(pk),
        }
    }

    pub fn find_email(&self, email: &str) -> Option<u64> {
        self.by_email.get(&email.to_lowercase()).copied()
    }

    /// The contact whose SMS channel has this number (E.164).
    pub fn find_sms(&self, address: &str) -> Option<u64> {
        self.by_sms.get(address.trim()).copied()
    }

    pub fn contact(&self, seq: u64) -> Option<&Contact> {
        self.contacts.get(&seq)
    }

    /// Applies `f` to the contact, keeping the email index right if it changes.
    pub fn update_contact(&mut self, seq: u64, f: impl FnOnce(&mut Contact)) {
        let Some(c) = self.contacts.get_mut(&seq) else {
            return;
        };
        let old_email = c.email.clone();
        let old_sms = c.sms_address().map(str::to_owned);
        f(c);
        if c.email != old_email {
            self.by_email.remove(&old_email);
            if !c.email.is_empty() {
                self.by_email.insert(c.email.clone(), seq);
            }
        }
        if c.sms_address() != old_sms.as_deref() {
            if let Some(old) = old_sms {
                self.by_sms.remove(&old);
            }
            if let Some(new) = c.sms_address() {
                self.by_sms.insert(new.to_owned(), seq);
            }
        }
    }

    pub fn insert_contact(&mut self, contact: Contact) -> u64 {
        self.next_seq += 1;
        let seq = self.next_seq;
        if !contact.email.is_empty() {
            self.by_email.insert(contact.email.clone(), seq);
        }
        if let Some(sms) = contact.sms_address() {
            self.by_sms.insert(sms.to_owned(), seq);
        }
        self.by_cid.insert(contact.cid.clone(), seq);
        self.contacts.insert(seq, contact);
        seq
    }

    pub fn remove_contact(&mut self, seq: u64) -> bool {
        match self.contacts.remove(&seq) {
            Some(c) => {
                self.by_email.remove(&c.email);
                if let Some(sms) = c.sms_address() {
                    self.by_sms.remove(sms);
                }
                self.by_cid.remove(&c.cid);
                true
            }
            None => false,
        }
    }

    /// Contacts in creation order.
    pub fn contacts(&self) -> impl DoubleEndedIterator<Item = &Contact> {
        self.contacts.values()
    }

    /// The v2 GET shape (cordial-api.md §2.4): attributes nested under
    /// `attributes` with the system keys, `lists` (names, always present) and
    /// `listJoinDate` (enhanced lists only, present when non-empty) beside them.
    pub fn render(&self, c: &Contact) -> Value {
        let mut attributes = c.attributes.clone();
        attributes.insert("createdAt".into(), time::format(c.created).into());
        attributes.insert("lastModified".into(), time::format(c.modified).into());
        attributes.insert("lastUpdateSource".into(), "api".into());
        attributes.insert("cID".into(), c.cid.clone().into());

        let mut channels = Map::new();
        if !c.email.is_empty() {
            channels.insert("email".into(), c.subscription.render(&c.email));
        }
        if let Some(sms) = &c.sms {
            channels.insert("sms".into(), sms.subscription.render(&sms.address));
        }

        let mut names = Vec::new();
        let mut joined = Map::new();
        for (id, at) in &c.lists {
            if let Some(list) = self.lists.get(id) {
                names.push(Value::String(list.name.clone()));
                if list.enhanced {
                    joined.insert(list.name.clone(), time::format(*at).into());
                }
            }
        }
        let mut v = json!({
            "_id": c.cid,
            "attributes": attributes,
            "channels": channels,
            "lists": names,
        });
        if !joined.is_empty() {
            v["listJoinDate"] = Value::Object(joined);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_is_sticky_without_force() {
        let t0 = time::now();
        let mut c = Contact::new("a@x.io".into(), t0);
        let email = &mut c.subscription;
        email.set(SubscribeStatus::Unsubscribed, false, t0);
        email.set(SubscribeStatus::Subscribed, false, t0);
        assert_eq!(email.status, SubscribeStatus::Unsubscribed);
        email.set(SubscribeStatus::None, false, t0);
        assert_eq!(email.status, SubscribeStatus::Unsubscribed);
        email.set(SubscribeStatus::Subscribed, true, t0);
        assert_eq!(email.status, SubscribeStatus::Subscribed);
        assert!(email.subscribed_at.is_some());
    }

    #[test]
    fn finds_by_every_primary_key_form() {
        let mut s = Store::from_seed(&Seed::demo());
        let mut c = Contact::new("jane@example.com".into(), time::now());
        c.attributes.insert("first_name".into(), "Jane".into());
        let cid = c.cid.clone();
        let seq = s.insert_contact(c);
        for pk in [
            cid.as_str(),
            "jane@example.com",
            "JANE@example.com",
            "email:jane@example.com",
            &format!("cID:{cid}"),
            "first_name:Jane",
        ] {
            assert_eq!(s.find(pk), Some(seq), "{pk}");
        }
        assert_eq!(s.find("email:john@example.com"), None);
    }

    #[test]
    fn an_sms_channel_is_found_by_its_number_and_rendered_beside_email() {
        let mut s = Store::from_seed(&Seed::demo());
        let t0 = time::now();
        let mut c = Contact::new(String::new(), t0);
        c.sms = Some(SmsChannel::new("+15551234567".into()));
        let seq = s.insert_contact(c);
        assert_eq!(s.find("channels.sms.address:+15551234567"), Some(seq));
        assert_eq!(
            s.find_email(""),
            None,
            "an sms-only contact has no email key"
        );
        let v = s.render(s.contact(seq).unwrap());
        assert!(v["channels"].get("email").is_none());
        assert_eq!(v["channels"]["sms"]["subscribeStatus"], "none");
        s.update_contact(seq, |c| {
            let sms = c.sms.as_mut().unwrap();
            let subscription = &mut sms.subscription;
            subscription.set(SubscribeStatus::Unsubscribed, false, t0);
            subscription.set(SubscribeStatus::Subscribed, false, t0);
            sms.address = "+15550000000".into();
        });
        let v = s.render(s.contact(seq).unwrap());
        assert_eq!(v["channels"]["sms"]["subscribeStatus"], "unsubscribed");
        assert_eq!(s.find("channels.sms.address:+15551234567"), None);
        assert_eq!(s.find("channels.sms.address:+15550000000"), Some(seq));
    }

    #[test]
    fn removing_a_list_drops_memberships() {
        let mut s = Store::from_seed(&Seed::demo());
        let id = s.list_by_name("newsletter").unwrap().id;
        let mut c = Contact::new("a@x.io".into(), time::now());
        c.lists.push((id, time::now()));
        let seq = s.insert_contact(c);
        assert_eq!(s.list_count(id), 1);
        assert!(s.remove_list(id));
        assert!(s.contact(seq).unwrap().lists.is_empty());
    }
}
