//! What the two scheduled sequences (Import Activity and the bulk export) share: following a
//! Cordial job one poll per call, Cordial requests that wait out rate limits on the run's
//! clock, and tidying the files Cordial is done with.

mod calls;
mod following;

pub use calls::{base_url, call_json, patient, remove_files};
pub use following::Following;
