//! Reading what the platform, the experiences and Cordial send to an event-driven job: the
//! checks and the answers every runtime gives alike (the bundled host's `/hooks`, `/capture`
//! and `/cordial-events` routes, the Spin entries). Storing what was read is the runtime's
//! business.

mod activity;
mod audience;
mod elements;
mod secret;
mod submissions;

pub use activity::{BadPush, activity_records};
pub use audience::{AudienceItem, audience_items, member_item};
pub use secret::{SECRET_ADVICE, presented};
pub use submissions::{SubmissionItem, submission_items};

/// How much a route reads, and what to do instead of sending more.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub max_bytes: usize,
    /// Completes "the request is larger than N MiB; …".
    pub advice: &'static str,
}

/// Audience Trigger payloads (batches of up to a few thousand events).
pub const HOOKS_LIMIT: BodyLimit = BodyLimit {
    max_bytes: 32 << 20,
    advice: "send smaller batches",
};

/// Cordial's webhook pushes of contact activity (batched mode sends up to the account's
/// configured maximum payload size).
pub const EVENTS_LIMIT: BodyLimit = BodyLimit {
    max_bytes: 16 << 20,
    advice: "lower the maximum payload size of the webhook in Cordial",
};

/// Experience submissions.
pub const CAPTURE_LIMIT: BodyLimit = BodyLimit {
    max_bytes: 4 << 20,
    advice: "send fewer submissions at a time",
};

impl BodyLimit {
    /// The 413's message.
    pub fn refusal(&self) -> String {
        format!(
            "the request is larger than {} MiB; {}",
            self.max_bytes >> 20,
            self.advice
        )
    }
}
