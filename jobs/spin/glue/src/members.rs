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

use crate::keyvalue::store::Bucket;
use crate::kv;
use serde_json::{Value, json};

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
    /// A batch's numbers are reserved (`seq` written) before its members are, and the batch
    /// is removed last: a call that dies part-way is redone by the next with fresh numbers,
    /// which at worst exports a contact's same state twice.
    pub fn sequence(&self) -> Result<usize, String> {
        let mut count = 0;
        for key in kv::keys_under(&self.bucket, &self.key("in/"))? {
            let Some(bytes) = self.bucket.get(&key).map_err(kv::error("read members"))? else {
                continue;
            };
            let batch = decode_batch(&bytes)?;
            let first = self.number("seq")? + 1;
            self.put_number("seq", first - 1 + batch.len() as u64)?;
            for (seq, member) in (first..).zip(&batch) {
                self.put(&self.key(&format!("m/{seq:020}")), &encode(member))?;
                let contact = self.key(&format!("c/{}", member.contact));
                let older = self
                    .bucket
                    .get(&contact)
                    .map_err(kv::error("read a contact"))?;
                self.put(&contact, &json!(seq))?;
                let older = older
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.trim().parse::<u64>().ok());
                if let Some(older) = older {
                    self.delete(&self.key(&format!("m/{older:020}")))?;
                }
            }
            self.delete(&key)?;
            count += batch.len();
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
        for seq in after.max(self.number("acked")?) + 1..=up_to {
            if page.len() >= limit {
                break;
            }
            if let Some(member) = self.member(seq)? {
                page.push(Waiting {
                    seq,
                    entered: member.entered,
                    user: member.user,
                });
            }
        }
        Ok(page)
    }

    /// Forgets the members with `seq <= up_to`; returns how many there were.
    pub fn acknowledge(&self, up_to: u64) -> Result<u64, String> {
        let mut forgotten = 0;
        for seq in self.number("acked")? + 1..=up_to {
            let Some(member) = self.member(seq)? else {
                continue;
            };
            let contact = self.key(&format!("c/{}", member.contact));
            let current = self
                .bucket
                .get(&contact)
                .map_err(kv::error("read a contact"))?;
            if current.as_deref() == Some(seq.to_string().as_bytes()) {
                self.delete(&contact)?;
            }
            self.delete(&self.key(&format!("m/{seq:020}")))?;
            forgotten += 1;
        }
        self.put_number("acked", up_to.max(self.number("acked")?))?;
        Ok(forgotten)
    }

    fn member(&self, seq: u64) -> Result<Option<Received>, String> {
        let key = self.key(&format!("m/{seq:020}"));
        match self.bucket.get(&key).map_err(kv::error("read a member"))? {
            Some(bytes) => {
                let value: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("member {seq} is not JSON: {e}"))?;
                decode(&value).map(Some)
            }
            None => Ok(None),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn number(&self, name: &str) -> Result<u64, String> {
        kv::number(&self.bucket, &self.key(name))
    }

    fn put_number(&self, name: &str, value: u64) -> Result<(), String> {
        kv::set_number(&self.bucket, &self.key(name), value)
    }

    fn put(&self, key: &str, value: &Value) -> Result<(), String> {
        self.bucket
            .set(key, value.to_string().as_bytes())
            .map_err(kv::error("write members"))
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        self.bucket.delete(key).map_err(kv::error("remove members"))
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
