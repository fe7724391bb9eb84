//! What each item of a batch does — an audience event's enter, exit or change, or a capture
//! job's submission — read before the batch goes to the job (settling takes the items out
//! of it). The run history counts delivered items by it and the metrics label them with it.

use super::ItemKind;
use crate::db::QueuedItem;
use cordial_jobs::realtime::Membership;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOp {
    Enter,
    Exit,
    Change,
    Submission,
}

impl ItemOp {
    /// The word the metrics label it with.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemOp::Enter => "enter",
            ItemOp::Exit => "exit",
            ItemOp::Change => "change",
            ItemOp::Submission => "submission",
        }
    }
}

/// Each item's operation by queue id.
pub struct BatchOps(Vec<(i64, ItemOp)>);

impl BatchOps {
    pub fn of(kind: ItemKind, batch: &[QueuedItem]) -> BatchOps {
        let mut ops: Vec<(i64, ItemOp)> = batch
            .iter()
            .map(|item| {
                let op = match kind {
                    ItemKind::Submissions => ItemOp::Submission,
                    ItemKind::AudienceEvents => match super::audience::membership(&item.item) {
                        Membership::Enter => ItemOp::Enter,
                        Membership::Exit => ItemOp::Exit,
                        Membership::Change => ItemOp::Change,
                    },
                };
                (item.id, op)
            })
            .collect();
        ops.sort_unstable_by_key(|(id, _)| *id);
        BatchOps(ops)
    }

    /// The operation of item `id`, if it was in the batch.
    pub fn get(&self, id: i64) -> Option<ItemOp> {
        self.0
            .binary_search_by_key(&id, |(id, _)| *id)
            .ok()
            .map(|i| self.0[i].1)
    }

    /// [`BatchOps::get`] as the metrics label it: `unknown` for an item not in the batch.
    pub fn label(&self, id: i64) -> &'static str {
        self.get(id).map_or("unknown", ItemOp::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::audience::queued;

    #[test]
    fn each_item_has_its_operation_by_id() {
        let batch = [queued(3, "exit"), queued(1, "enter"), queued(2, "change")];
        let ops = BatchOps::of(ItemKind::AudienceEvents, &batch);
        assert_eq!(
            [ops.get(1), ops.get(2), ops.get(3), ops.get(4)],
            [
                Some(ItemOp::Enter),
                Some(ItemOp::Change),
                Some(ItemOp::Exit),
                None
            ]
        );
        assert_eq!(ops.label(4), "unknown", "an id that was not in the batch");
        let ops = BatchOps::of(ItemKind::Submissions, &[queued(7, "enter")]);
        assert_eq!(ops.label(7), "submission");
    }
}
