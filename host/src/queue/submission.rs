//! Experience submissions as queue items: the submission object as it was received, keyed
//! by its contact, handed to the capture job under its id (`<job>-<n>`).

use crate::db::{NewItem, QueuedItem};
use cordial_jobs::capture::job::Submission;

/// `contact` is the email, else the SMS number (the audit names it); `body` one JSON object.
pub fn item(contact: impl Into<String>, body: impl Into<String>) -> NewItem {
    NewItem {
        key: contact.into(),
        item: body.into(),
        source: "capture",
    }
}

pub fn submission(queued: &QueuedItem) -> Submission {
    Submission {
        id: queued.name.clone(),
        body: queued.item.clone(),
    }
}
