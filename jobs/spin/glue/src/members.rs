//! The members waiting for a bulk export, in Spin's key-value store: what the bundled host
//! keeps in its `bulk_members` table (the latest state per contact, with a rising sequence
//! number), kept here so that receiving never races with sequencing.
//!
//! A webhook request's members are stored as one `in/` batch before it is answered `202`
//! (one write: durable, or a `503` the sender retries). Only the holder of the job's run
//! lease gives them sequence numbers ([`Members::sequence`], at the start of each
//! `/run/<job>` call), so members arriving during a run simply wait for the next one, and a
//! run that exports "everything up to seq N" and acknowledges up to N never drops a
//! change.
//!
//! Keys, under `members/<job>/`: `in/<ms>-<random>` (a request's members, arrival order),
//! `seq` (the last number given), `m/<seq>` (a waiting member), `c/<contact>` (the seq of
//! the contact's waiting member) and `acked` (everything up to it is in Cordial).

use crate::keyvalue::batch;
use crate::keyvalue::store::Bucket;
use crate::kv;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Members read or forgotten per `get-many` / `delete-many`.
const WINDOW: u64 = 2000;

/// A member as received: whose, in or out of the audience, the user's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub contact: String,
    pub entered: bool,
    /// One JSON object.
    pub user: String,
}

/// A waiting member, as the job reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub seq: u64,
    pub entered: bool,
    pub user: String,
}

/// One job's waiting members.
pub struct Members {
    bucket: Bucket,
    prefix: String,
}

impl Members {
    pub fn open(job: &str) -> Result<Members, String> {
        Ok(Members {
            bucket: kv::open()?,
            prefix: format!("members/{job}/"),
        })
    }

    /// Stores one request's members. Once this returns, they are durable.
    pub fn receive(&self, members: &[Received], now_ms: u64) -> Result<(), String> {
        let batch: Vec<Value> = members.iter().map(encode).collect();
        let key = self.key(&format!("in/{now_ms:013}-{}", kv::random_token()));
        self.bucket
            .set(&key, Value::Array(batch).to_string().as_bytes())
            .map_err(kv::error("store the members"))
    }

    /// Gives the received members their sequence numbers, replacing each contact's older
    /// waiting state; returns how many. Call it only while holding the job's run lease.
    ///
    /// Each batch is one `set-many` (its members, their contacts' pointers and the new
    /// `seq`: one transaction in SQLite, one `MSET` in Redis), then the contacts' older
    /// states and the batch itself are removed. A call that dies part-way is redone by the
    /// next with fresh numbers, which at worst exports a contact's older state before its
    /// newer one in the same file.
    pub fn sequence(&self) -> Result<usize, String> {
        let mut count = 0;
        for key in kv::keys_under(&self.bucket, &self.key("in/"))? {
            let Some(bytes) = self.bucket.get(&key).map_err(kv::error("read members"))? else {
                continue;
            };
            let received = decode_batch(&bytes)?;
            let pointers: Vec<String> = received.iter().map(|m| self.pointer(&m.contact)).collect();
            let older: Vec<String> = kv::get_each(&self.bucket, &pointers)?
                .into_iter()
                .filter_map(|(_, seq)| String::from_utf8(seq?).ok()?.trim().parse::<u64>().ok())
                .map(|seq| self.member_key(seq))
                .collect();
            let first = self.number("seq")? + 1;
            // A contact twice in one batch: its later state is the one that waits.
            let latest: HashMap<&str, u64> = (first..)
                .zip(&received)
                .map(|(seq, m)| (m.contact.as_str(), seq))
                .collect();
            let mut writes = Vec::with_capacity(2 * latest.len() + 1);
            for (seq, member) in (first..).zip(&received) {
                if latest[member.contact.as_str()] == seq {
                    writes.push((
                        self.member_key(seq),
                        encode(member).to_string().into_bytes(),
                    ));
                    writes.push((self.pointer(&member.contact), seq.to_string().into_bytes()));
                }
            }
            let last = first - 1 + received.len() as u64;
            writes.push((self.key("seq"), last.to_string().into_bytes()));
            batch::set_many(&self.bucket, &writes).map_err(kv::error("number members"))?;
            batch::delete_many(&self.bucket, &older).map_err(kv::error("replace members"))?;
            self.bucket
                .delete(&key)
                .map_err(kv::error("remove members"))?;
            count += received.len();
        }
        Ok(count)
    }

    /// The highest sequence number waiting, 0 when none is.
    pub fn high_water(&self) -> Result<u64, String> {
        let (seq, acked) = (self.number("seq")?, self.number("acked")?);
        Ok(if seq > acked { seq } else { 0 })
    }

    /// Waiting members with `after < seq <= up_to`, in order, at most `limit`.
    pub fn page(&self, after: u64, up_to: u64, limit: usize) -> Result<Vec<Waiting>, String> {
        let mut page = Vec::new();
        let mut from = after.max(self.number("acked")?) + 1;
        while from <= up_to && page.len() < limit {
            let to = up_to.min(from + WINDOW - 1);
            for (seq, member) in self.members(from, to)? {
                if page.len() < limit {
                    page.push(Waiting {
                        seq,
                        entered: member.entered,
                        user: member.user,
                    });
                }
            }
            from = to + 1;
        }
        Ok(page)
    }

    /// Forgets the members with `seq <= up_to`; returns how many there were.
    pub fn acknowledge(&self, up_to: u64) -> Result<u64, String> {
        let mut forgotten = 0;
        let mut from = self.number("acked")? + 1;
        while from <= up_to {
            let to = up_to.min(from + WINDOW - 1);
            let members = self.members(from, to)?;
            let pointers: Vec<String> = members
                .iter()
                .map(|(_, m)| self.pointer(&m.contact))
                .collect();
            // A pointer goes only if it still names this member (not a newer state).
            let mut gone: Vec<String> = kv::get_each(&self.bucket, &pointers)?
                .into_iter()
                .filter(|(_, seq)| {
                    seq.as_deref()
                        .and_then(|b| std::str::from_utf8(b).ok())
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .is_some_and(|seq| (from..=to).contains(&seq))
                })
                .map(|(key, _)| key)
                .collect();
            gone.extend(members.iter().map(|(seq, _)| self.member_key(*seq)));
            batch::delete_many(&self.bucket, &gone).map_err(kv::error("forget members"))?;
            forgotten += members.len() as u64;
            from = to + 1;
        }
        kv::set_number(
            &self.bucket,
            &self.key("acked"),
            up_to.max(self.number("acked")?),
        )?;
        Ok(forgotten)
    }

    /// The waiting members numbered `from..=to`, in order, read at once.
    fn members(&self, from: u64, to: u64) -> Result<Vec<(u64, Received)>, String> {
        let keys: Vec<String> = (from..=to).map(|seq| self.member_key(seq)).collect();
        let mut members = Vec::new();
        for (key, value) in kv::get_each(&self.bucket, &keys)? {
            let (Some(bytes), Some(seq)) =
                (value, key.rsplit('/').next().and_then(|s| s.parse().ok()))
            else {
                continue;
            };
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|e| format!("member {seq} is not JSON: {e}"))?;
            members.push((seq, decode(&value)?));
        }
        members.sort_by_key(|(seq, _)| *seq);
        Ok(members)
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Where the waiting member numbered `seq` is kept.
    fn member_key(&self, seq: u64) -> String {
        self.key(&format!("m/{seq:020}"))
    }

    /// Where the number of `contact`'s waiting member is kept.
    fn pointer(&self, contact: &str) -> String {
        self.key(&format!("c/{contact}"))
    }

    fn number(&self, name: &str) -> Result<u64, String> {
        kv::number(&self.bucket, &self.key(name))
    }
}

fn encode(member: &Received) -> Value {
    json!({ "contact": member.contact, "entered": member.entered, "user": member.user })
}

fn decode(value: &Value) -> Result<Received, String> {
    Ok(Received {
        contact: value["contact"]
            .as_str()
            .ok_or("a stored member has no contact")?
            .to_owned(),
        entered: value["entered"].as_bool().unwrap_or(true),
        user: value["user"].as_str().unwrap_or("{}").to_owned(),
    })
}

fn decode_batch(bytes: &[u8]) -> Result<Vec<Received>, String> {
    let values: Vec<Value> = serde_json::from_slice(bytes)
        .map_err(|e| format!("a batch of members is not JSON: {e}"))?;
    values.iter().map(decode).collect()
}
