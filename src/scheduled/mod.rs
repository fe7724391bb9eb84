//! What the two scheduled sequences (Import Activity and the bulk export) share: following a
//! Cordial job one poll per call, the run's place kept in the job's state, Cordial requests that wait out rate limits on the run's
//! clock, and tidying the files Cordial is done with.

mod calls;
mod checkpoint;
mod following;

pub use calls::{base_url, call_json, patient, remove_files};
pub use checkpoint::Checkpoint;
pub use following::Following;
