//! How an emulator is started: its key, its address, the account it begins with and
//! its rate limit.

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use crate::http::rate_limit::RateLimit;

/// Settings of one emulator instance.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The only API key accepted (as the Basic-auth user name, empty password).
    pub api_key: String,
    /// Where to listen; port 0 picks a free port, which is what parallel tests need.
    pub addr: SocketAddr,
    /// The account's attribute schema and lists at start.
    pub seed: Seed,
    /// SFTP private keys "saved in the Cordial account": a contact import whose
    /// `source.savedKey` names one logs in to the customer's server with that key
    /// file (an unencrypted OpenSSH private key), and so does a contact activity
    /// export whose `destination.savedKey` names one. An unknown name is a 406
    /// (import) or a 400 (export).
    pub saved_sftp_keys: HashMap<String, PathBuf>,
    /// Contact activity at start, for `POST /v2/contactactivityexport`: JSON
    /// objects as [`crate::EmulatorHandle::add_events`] takes them. An invalid
    /// event makes [`crate::start`] fail.
    pub events: Vec<serde_json::Value>,
    /// A rate limit per endpoint from the first request, as
    /// [`crate::EmulatorHandle::set_rate_limit`] sets one later; `None` for no limit.
    /// Here so that the binary's `--rate-limit` and a benchmark that never touches the
    /// handle can have one.
    pub rate_limit: Option<RateLimit>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            api_key: "emulator-key".into(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: Seed::default(),
            saved_sftp_keys: HashMap::new(),
            events: Vec::new(),
            rate_limit: None,
        }
    }
}

/// The five contact attribute types of Cordial (`/v2/accountcontactattributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    String,
    Number,
    Date,
    Geo,
    Array,
}

impl AttributeType {
    /// Every type, in the order the Swagger lists them.
    pub const ALL: [AttributeType; 5] = [
        Self::String,
        Self::Number,
        Self::Date,
        Self::Geo,
        Self::Array,
    ];

    /// The wire name (`"string"`, `"number"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Date => "date",
            Self::Geo => "geo",
            Self::Array => "array",
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AttributeType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown attribute type {s:?}"))
    }
}

/// One attribute defined before the emulator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeSeed {
    pub key: String,
    pub name: String,
    pub r#type: AttributeType,
}

impl AttributeSeed {
    pub fn new(key: impl Into<String>, name: impl Into<String>, r#type: AttributeType) -> Self {
        Self {
            key: key.into(),
            name: name.into(),
            r#type,
        }
    }
}

/// The account the emulator starts with. Contacts always start empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seed {
    pub attributes: Vec<AttributeSeed>,
    /// List names. Seeded lists are `enhanced` (they record join dates) so that a
    /// demo shows `listJoinDate` without extra setup.
    pub lists: Vec<String>,
}

impl Seed {
    /// A small account for the zero-account demo: one attribute of each type and a
    /// `newsletter` list.
    pub fn demo() -> Self {
        use AttributeType::*;
        Self {
            attributes: vec![
                AttributeSeed::new("first_name", "First Name", String),
                AttributeSeed::new("last_name", "Last Name", String),
                AttributeSeed::new("age", "Age", Number),
                AttributeSeed::new("birthday", "Birthday", Date),
                AttributeSeed::new("interests", "Interests", Array),
                AttributeSeed::new("address", "Address", Geo),
            ],
            lists: vec!["newsletter".into()],
        }
    }
}
