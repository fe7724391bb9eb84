//! The label sets of the metric families, and the operation each queued item counts under.

use crate::db::QueuedItem;
use crate::queue::ItemKind;
use prometheus_client::encoding::EncodeLabelSet;
use std::collections::HashMap;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabel {
    pub job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecordLabels {
    pub job: String,
    pub op: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub job: String,
    pub endpoint: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    pub job: String,
    pub outcome: &'static str,
}

/// The operation of each item of a batch, by queue id, taken before the batch is handed to
/// the job (settling drains it): an audience event's `enter`, `exit` or `change`, or
/// `submission` for a capture job's item.
pub struct ItemOps(HashMap<i64, String>);

impl ItemOps {
    pub fn of(kind: ItemKind, batch: &[QueuedItem]) -> ItemOps {
        ItemOps(
            batch
                .iter()
                .map(|item| {
                    let op = match kind {
                        ItemKind::AudienceEvents => crate::queue::audience::kind(&item.item),
                        ItemKind::Submissions => "submission".to_owned(),
                    };
                    (item.id, op)
                })
                .collect(),
        )
    }

    /// The operation of item `id`; `unknown` for one that was not in the batch.
    pub fn get(&self, id: i64) -> &str {
        self.0.get(&id).map_or("unknown", String::as_str)
    }
}
