//! A scheduled run's place, saved in the job's state under one key, so a run that stops
//! anywhere is resumed, not repeated: the activity import's window, the bulk export's batch.

use crate::job::JobError;
use crate::ports::KeyValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub trait Checkpoint: Serialize + DeserializeOwned {
    /// The state key it lives under.
    const KEY: &'static str;
    /// What it is, for messages (`the window under way`).
    const WHAT: &'static str;

    /// The one a run left, if any.
    fn load(state: &mut dyn KeyValue) -> Result<Option<Self>, JobError> {
        let saved = state
            .get(Self::KEY)
            .map_err(|e| JobError::from_port(&format!("reading {}", Self::WHAT), e))?;
        saved
            .map(|bytes| Self::from_bytes(&bytes).map_err(JobError::Permanent))
            .transpose()
    }

    /// Saves it, durably, before the run goes on.
    fn save(&self, state: &mut dyn KeyValue) -> Result<(), JobError> {
        state
            .set(Self::KEY, &self.to_bytes())
            .map_err(|e| JobError::from_port(&format!("saving {}", Self::WHAT), e))
    }

    /// Forgets it: the run is over, or must start afresh.
    fn forget(state: &mut dyn KeyValue) -> Result<(), JobError> {
        state
            .delete(Self::KEY)
            .map_err(|e| JobError::from_port(&format!("closing {}", Self::WHAT), e))
    }

    fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a checkpoint serialises")
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes)
            .map_err(|e| format!("{} saved in the job's state is unreadable: {e}", Self::WHAT))
    }
}
