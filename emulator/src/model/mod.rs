//! The records the emulated account keeps: contacts, lists and the attribute schema
//! ([`store`]), contact activity ([`events`]) and the import and export jobs
//! ([`job`]), with the ids Cordial gives them ([`ids`]).
//!
//! Plain data and the rules that keep it consistent, with no HTTP in it. The shared
//! state in `http/` holds these records and every endpoint and job reaches them
//! through it, so nothing here depends on more than [`crate::config`] and
//! [`crate::time`].

pub mod events;
pub mod ids;
pub mod job;
pub mod store;
