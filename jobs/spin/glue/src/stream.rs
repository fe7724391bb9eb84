//! A job's streams in Spin's key-value store: what the bundled host keeps in its `streams`
//! tables. The activity store adapter appends to them (`cordial:jobs/streams`); the entry
//! reads them back for the platform (`GET /streams/<job>/<stream>`).
//!
//! Keys, under `stream/<job>/<stream>/`: `seq` (the last number given), `r/<seq>` (a
//! record's JSON body), `k/<key>` (the seq of a keyed record, so a record whose key the
//! stream holds is skipped) and `q/<ms>-<random>` (a batch of quarantined records).
//!
//! An append is one `wasi:keyvalue/batch` `set-many` (the records, their keys and the new
//! `seq`): one transaction in Spin's SQLite store, one `MSET` in Redis, so a call that dies
//! leaves all of a batch or none of it. (One write per record made a 72,000-record import take minutes: each was a
//! transaction of its own, with its own fsync.) Only the holder of the job's run lease
//! appends, so numbers are never given twice.

use crate::keyvalue::batch;
use crate::keyvalue::store::Bucket;
use crate::kv;
use cordial_jobs::ports::flat::is_flat_record;
use serde_json::{Value, json};
use std::collections::HashSet;

/// One record to append: its key (deduplicated when present) and its flat JSON body.
pub struct Record<'a> {
    pub key: Option<&'a str>,
    pub body: &'a str,
}

/// How many records an append took, skipped and refused (not a flat JSON object): the
/// jobs' own summary.
pub use cordial_jobs::ports::EmitSummary as Appended;

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

    /// Where the number of the record with `key` is kept.
    fn pointer(&self, key: &str) -> String {
        self.key(&format!("k/{key}"))
    }

    /// Appends `records` in order; durable when this returns.
    pub fn append(&self, records: &[Record<'_>]) -> Result<Appended, String> {
        let named: Vec<String> = records
            .iter()
            .filter_map(|r| r.key)
            .map(|k| self.pointer(k))
            .collect();
        let held: HashSet<String> = kv::get_each(&self.bucket, &named)?
            .into_iter()
            .filter(|(_, value)| value.is_some())
            .map(|(key, _)| key)
            .collect();
        let mut counts = Appended::default();
        let mut taken = HashSet::new();
        let mut fresh = Vec::new();
        for record in records {
            if !is_flat_record(record.body) {
                counts.rejected += 1;
            } else if record
                .key
                .is_some_and(|k| held.contains(&self.pointer(k)) || !taken.insert(k))
            {
                counts.duplicates += 1;
            } else {
                fresh.push(record);
            }
        }
        let first = kv::number(&self.bucket, &self.key("seq"))? + 1;
        let mut writes = Vec::with_capacity(2 * fresh.len() + 1);
        for (seq, record) in (first..).zip(&fresh) {
            writes.push((
                self.key(&format!("r/{seq:020}")),
                record.body.as_bytes().to_vec(),
            ));
            if let Some(key) = record.key {
                writes.push((self.pointer(key), seq.to_string().into_bytes()));
            }
        }
        let last = first - 1 + fresh.len() as u64;
        writes.push((self.key("seq"), last.to_string().into_bytes()));
        batch::set_many(&self.bucket, &writes).map_err(kv::error("append stream records"))?;
        counts.accepted = fresh.len() as u32;
        Ok(counts)
    }

    /// Up to `limit` records numbered after `after`, with their numbers, and the last number
    /// given (to read on from).
    pub fn read(&self, after: u64, limit: u64) -> Result<(Vec<(u64, String)>, u64), String> {
        let last = kv::number(&self.bucket, &self.key("seq"))?;
        let numbers = after.saturating_add(1)..=last.min(after.saturating_add(limit));
        let keys: Vec<String> = numbers
            .map(|seq| self.key(&format!("r/{seq:020}")))
            .collect();
        let mut records: Vec<(u64, String)> = kv::get_each(&self.bucket, &keys)?
            .into_iter()
            .filter_map(|(key, body)| {
                let seq = key.rsplit('/').next()?.parse().ok()?;
                Some((seq, String::from_utf8(body?).ok()?))
            })
            .collect();
        records.sort_by_key(|(seq, _)| *seq);
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
