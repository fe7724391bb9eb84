//! The account's own resources: `/v2/contacts`, `/v2/accountlists` and
//! `/v2/accountcontactattributes`, with Cordial's rules for a contact body
//! ([`contact_body`]) and for attribute values ([`values`]).
//!
//! Contact imports and activity exports apply the same rules, so `imports/` and
//! `exports/` depend on this folder, never the other way round.

pub mod attributes;
pub mod contact_body;
pub mod contacts;
pub mod lists;
pub mod values;
