//! The durable outbox of an event-driven job on Spin, in Spin's key-value store.
//!
//! Spin runs no work after a response and keeps nothing between requests, so the bundled
//! host's queue becomes: every accepted request is written here as one batch *before* it is
//! answered `202` (a failed write is a `503`, which the sender retries), then the oldest
//! pending items are handed to the job under a lease. Whatever the job delivered or
//! dead-lettered leaves the batch; whatever it must retry stays, in order, for the next
//! request or the scheduled `/run/<job>` call. A process that dies mid-delivery leaves its
//! items in place and its lease runs out, so they are delivered again (Cordial's upserts
//! are idempotent): at least once, never lost.
//!
//! Keys, under `outbox/<job>/`: `batch/<ms>-<random>` (a JSON array of items, arrival
//! order), `dead/<batch>-<index>`, `hold` (no delivery before this time, from a 429's
//! `Retry-After`) and `lease` (who is delivering, until when; taken by compare-and-swap so
//! two Spin processes on one shared store never deliver the same items side by side).

use crate::keyvalue::store::Bucket;
use crate::kv::{self, now_ms, until};
use crate::lease::Lease;
use serde_json::{Value, json};

/// One item waiting to be delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Items of one contact are delivered in order.
    pub contact: String,
    /// What the job is handed (an audience event, a submission).
    pub item: Value,
    /// Deliveries tried so far.
    pub attempts: u32,
}

/// What became of an item handed to the job.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Delivered,
    Retry {
        after_ms: Option<u64>,
        attempted: bool,
        reason: String,
    },
    DeadLetter {
        reason: String,
    },
}

/// How a drain behaves.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub now_ms: u64,
    /// How long a lease lasts: a dead process's items wait this long before redelivery.
    pub lease_ms: u64,
    /// Items handed to the job per drain (Spin bounds a request's time).
    pub max_items: usize,
    /// Attempts before an item is dead-lettered.
    pub max_attempts: u32,
}

/// What a drain did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Drained {
    pub delivered: usize,
    pub dead_lettered: usize,
    pub retrying: usize,
    /// Batches not looked at this time (over `max_items`).
    pub batches_left: usize,
    /// Why nothing was delivered, when nothing was tried.
    pub skipped: Option<String>,
}

impl Drained {
    pub fn to_json(&self) -> Value {
        json!({
            "delivered": self.delivered,
            "dead_lettered": self.dead_lettered,
            "retrying": self.retrying,
            "batches_left": self.batches_left,
            "skipped": self.skipped,
        })
    }
}

/// The outbox of one job.
pub struct Outbox {
    bucket: Bucket,
    prefix: String,
}

impl Outbox {
    /// The outbox of `job` in the `default` store.
    pub fn open(job: &str) -> Result<Outbox, String> {
        Ok(Outbox {
            bucket: kv::open()?,
            prefix: format!("outbox/{job}/"),
        })
    }

    /// Stores the items of one request as one batch. Once this returns, they are durable.
    pub fn append(&self, items: &[Item], now_ms: u64) -> Result<(), String> {
        let key = format!("{}batch/{now_ms:013}-{}", self.prefix, kv::random_token());
        self.bucket
            .set(&key, encode(items).as_bytes())
            .map_err(kv::error("write a batch"))
    }

    /// Hands the oldest pending items to `deliver` (one call, in arrival order) and records
    /// what became of each; skips when another process holds the lease or a 429 said wait.
    pub fn drain(
        &self,
        policy: Policy,
        deliver: impl FnOnce(&[&Item]) -> Vec<Verdict>,
    ) -> Result<Drained, String> {
        let lease = Lease::take(
            &self.bucket,
            self.key("lease"),
            policy.now_ms,
            policy.lease_ms,
        )?;
        let Some(lease) = lease else {
            return Ok(Drained {
                skipped: Some("another delivery holds the lease".into()),
                ..Drained::default()
            });
        };
        let result = self.drain_leased(policy, deliver);
        lease.give_back();
        result
    }

    fn drain_leased(
        &self,
        policy: Policy,
        deliver: impl FnOnce(&[&Item]) -> Vec<Verdict>,
    ) -> Result<Drained, String> {
        let hold = self.until(&self.key("hold"))?;
        if hold > policy.now_ms {
            return Ok(Drained {
                skipped: Some(format!(
                    "Cordial asked to wait {} ms more (Retry-After)",
                    hold - policy.now_ms
                )),
                ..Drained::default()
            });
        }
        let mut batches = Vec::new();
        let mut taken = 0;
        let keys = self.batch_keys()?;
        for key in &keys {
            if taken >= policy.max_items {
                break;
            }
            let items = match self.bucket.get(key).map_err(kv::error("read a batch"))? {
                Some(bytes) => decode(&bytes)?,
                None => continue,
            };
            taken += items.len();
            batches.push((key.clone(), items));
        }
        let mut drained = Drained {
            batches_left: keys.len() - batches.len(),
            ..Drained::default()
        };
        if taken == 0 {
            return Ok(drained);
        }
        let all: Vec<&Item> = batches.iter().flat_map(|(_, items)| items).collect();
        let mut verdicts = deliver(&all);
        if verdicts.len() != all.len() {
            let reason = format!(
                "the job answered {} outcomes for {} items",
                verdicts.len(),
                all.len()
            );
            verdicts = vec![
                Verdict::Retry {
                    after_ms: None,
                    attempted: true,
                    reason
                };
                all.len()
            ];
        }
        let mut verdicts = verdicts.into_iter();
        let mut hold_until = 0;
        for (key, items) in batches {
            let mut left = Vec::new();
            for (index, mut item) in items.into_iter().enumerate() {
                match verdicts.next().expect("one verdict per item") {
                    Verdict::Delivered => drained.delivered += 1,
                    Verdict::DeadLetter { reason } => {
                        self.dead_letter(&key, index, &item, &reason)?;
                        drained.dead_lettered += 1;
                    }
                    Verdict::Retry {
                        after_ms,
                        attempted,
                        reason,
                    } => {
                        item.attempts += u32::from(attempted);
                        if item.attempts >= policy.max_attempts {
                            let reason =
                                format!("gave up after {} attempts: {reason}", item.attempts);
                            self.dead_letter(&key, index, &item, &reason)?;
                            drained.dead_lettered += 1;
                            continue;
                        }
                        if let Some(after) = after_ms {
                            // From now, when the answer has arrived, not from the start.
                            hold_until = hold_until.max(now_ms() + after);
                        }
                        drained.retrying += 1;
                        left.push(item);
                    }
                }
            }
            if left.is_empty() {
                self.bucket
                    .delete(&key)
                    .map_err(kv::error("remove a batch"))?;
            } else {
                self.bucket
                    .set(&key, encode(&left).as_bytes())
                    .map_err(kv::error("rewrite a batch"))?;
            }
        }
        if hold_until > 0 {
            self.bucket
                .set(&self.key("hold"), hold_until.to_string().as_bytes())
                .map_err(kv::error("write the hold"))?;
        }
        Ok(drained)
    }

    fn dead_letter(
        &self,
        batch: &str,
        index: usize,
        item: &Item,
        reason: &str,
    ) -> Result<(), String> {
        let stamp = batch.rsplit('/').next().unwrap_or(batch);
        let value = json!({
            "contact": item.contact,
            "item": item.item,
            "attempts": item.attempts,
            "reason": reason,
        });
        self.bucket
            .set(
                &self.key(&format!("dead/{stamp}-{index:05}")),
                value.to_string().as_bytes(),
            )
            .map_err(kv::error("write a dead letter"))
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The pending batches, oldest first (their keys sort in arrival order).
    fn batch_keys(&self) -> Result<Vec<String>, String> {
        kv::keys_under(&self.bucket, &self.key("batch/"))
    }

    /// The time stored under `key` (the hold), 0 when there is none.
    fn until(&self, key: &str) -> Result<u64, String> {
        Ok(until(
            self.bucket.get(key).map_err(kv::error("read the hold"))?,
        ))
    }
}

fn encode(items: &[Item]) -> String {
    Value::Array(
        items
            .iter()
            .map(|i| json!({ "contact": i.contact, "item": i.item, "attempts": i.attempts }))
            .collect(),
    )
    .to_string()
}

fn decode(bytes: &[u8]) -> Result<Vec<Item>, String> {
    let values: Vec<Value> =
        serde_json::from_slice(bytes).map_err(|e| format!("an outbox batch is not JSON: {e}"))?;
    values
        .into_iter()
        .map(|v| {
            Ok(Item {
                contact: v["contact"]
                    .as_str()
                    .ok_or("an outbox item has no contact")?
                    .to_owned(),
                item: v["item"].clone(),
                attempts: v["attempts"].as_u64().unwrap_or(0) as u32,
            })
        })
        .collect()
}
