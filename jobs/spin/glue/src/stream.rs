//! A job's streams in Spin's key-value store: what the bundled host keeps in its `streams`
//! tables. The activity store adapter appends to them (`cordial:jobs/streams`); the entry
//! reads them back for the platform (`GET /streams/<job>/<stream>`).
//!
//! Keys, under `stream/<job>/<stream>/`: `seq` (the last number given), `r/<seq>` (a
//! record's JSON body), `k/<key>` (the seq of a keyed record, so a record whose key the
//! stream holds is skipped) and `q/<ms>-<random>` (a batch of quarantined records).
//!
//! Spin's store has no transactions, so an append is ordered to lose nothing: the batch's
//! numbers are reserved (`seq`) first, then the records are written, then their keys. A call
//! that dies part-way leaves at worst empty numbers (readers skip them) or records without
//! their keys (the retried batch stores them again: a duplicate, never a loss). Only the
//! holder of the job's run lease appends, so numbers are never given twice.

use crate::keyvalue::store::Bucket;
use crate::kv;
use cordial_jobs::ports::flat::is_flat_record;
use serde_json::{Value, json};

/// One record to append: its key (deduplicated when present) and its flat JSON body.
pub struct Record<'a> {
    pub key: Option<&'a str>,
    pub body: &'a str,
}

/// How many records an append took, skipped and refused.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub accepted: u32,
    pub duplicates: u32,
    /// Not a flat JSON object.
    pub rejected: u32,
}

/// One stream of one job.
pub struct Stream {
    bucket: Bucket,
    prefix: String,
}

impl Stream {
    pub fn open(job: &str, name: &str) -> Result<Stream, String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{name}` is not a stream name (letters, digits and `_`)"
            ));
        }
        Ok(Stream {
            bucket: kv::open()?,
            prefix: format!("stream/{job}/{name}/"),
        })
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Appends `records` in order; durable when this returns.
    pub fn append(&self, records: &[Record<'_>]) -> Result<Appended, String> {
        let mut counts = Appended::default();
        let mut fresh = Vec::new();
        for record in records {
            if !is_flat_record(record.body) {
                counts.rejected += 1;
            } else if self.holds(record.key, &fresh)? {
                counts.duplicates += 1;
            } else {
                fresh.push(record);
            }
        }
        let first = kv::number(&self.bucket, &self.key("seq"))? + 1;
        kv::set_number(
            &self.bucket,
            &self.key("seq"),
            first - 1 + fresh.len() as u64,
        )?;
        for (seq, record) in (first..).zip(&fresh) {
            self.bucket
                .set(&self.key(&format!("r/{seq:020}")), record.body.as_bytes())
                .map_err(kv::error("write a stream record"))?;
        }
        for (seq, record) in (first..).zip(&fresh) {
            if let Some(key) = record.key {
                kv::set_number(&self.bucket, &self.key(&format!("k/{key}")), seq)?;
            }
        }
        counts.accepted = fresh.len() as u32;
        Ok(counts)
    }

    /// Whether the stream, or the part of this batch already taken, holds `key`.
    fn holds(&self, key: Option<&str>, taken: &[&Record<'_>]) -> Result<bool, String> {
        let Some(key) = key else { return Ok(false) };
        if taken.iter().any(|r| r.key == Some(key)) {
            return Ok(true);
        }
        self.bucket
            .exists(&self.key(&format!("k/{key}")))
            .map_err(kv::error("look up a record key"))
    }

    /// Up to `limit` records numbered after `after`, with their numbers, and the last number
    /// given (to read on from).
    pub fn read(&self, after: u64, limit: u64) -> Result<(Vec<(u64, String)>, u64), String> {
        let last = kv::number(&self.bucket, &self.key("seq"))?;
        let mut records = Vec::new();
        for seq in after.saturating_add(1)..=last.min(after.saturating_add(limit)) {
            let body = self
                .bucket
                .get(&self.key(&format!("r/{seq:020}")))
                .map_err(kv::error("read a stream record"))?;
            if let Some(body) = body.and_then(|b| String::from_utf8(b).ok()) {
                records.push((seq, body));
            }
        }
        Ok((records, last))
    }

    /// Keeps unusable records aside, one batch per call.
    pub fn quarantine(&self, entries: &[Value], now_ms: u64) -> Result<(), String> {
        let key = self.key(&format!("q/{now_ms:013}-{}", kv::random_token()));
        self.bucket
            .set(&key, Value::Array(entries.to_vec()).to_string().as_bytes())
            .map_err(kv::error("quarantine records"))
    }

    /// Every quarantined record, oldest first.
    pub fn quarantined(&self) -> Result<Vec<Value>, String> {
        let mut all = Vec::new();
        for key in kv::keys_under(&self.bucket, &self.key("q/"))? {
            let batch = self
                .bucket
                .get(&key)
                .map_err(kv::error("read quarantined records"))?
                .and_then(|b| serde_json::from_slice::<Vec<Value>>(&b).ok())
                .unwrap_or_else(|| vec![json!({ "unreadable": key })]);
            all.extend(batch);
        }
        Ok(all)
    }
}
