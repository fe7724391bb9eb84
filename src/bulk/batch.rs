//! A bulk run's progress, kept in job state so a run that dies anywhere is resumed, not
//! repeated: which members it covers (up to a pending `seq`), the files written so far, and
//! each file's import. A file is registered with Cordial at most once: the run marks it
//! `registering` before the request and looks the import up by name if it died in between.

use crate::cordial::jobs::ImportCounts;
use crate::scheduled::{Checkpoint, Following};
use serde::{Deserialize, Serialize};

/// The job-state key the batch lives under.
pub const STATE_KEY: &str = "bulk-batch";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Unique per batch; part of every file and import name.
    pub id: String,
    /// The pending members this batch exports: `seq <= up_to`.
    pub up_to: u64,
    pub files: Vec<BatchFile>,
    /// All members up to `up_to` are in `files`.
    pub written: bool,
    /// Members that could not be written (no usable email, a value of the wrong type).
    pub rejected: u64,
    /// How long the imports have been followed while Cordial works on them.
    #[serde(default)]
    pub following: Following,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFile {
    /// The file name in the SFTP folder; the import is named after it.
    pub name: String,
    pub rows: u64,
    /// The last member `seq` in this file: the next file starts after it.
    pub last_seq: u64,
    /// The import request was (perhaps) sent.
    pub registering: bool,
    pub job_id: Option<String>,
    pub outcome: Option<FileOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileOutcome {
    Done(ImportCounts),
    Failed { message: String },
}

impl Checkpoint for Batch {
    const KEY: &'static str = STATE_KEY;
    const WHAT: &'static str = "the batch under way";
}

impl Batch {
    pub fn new(id: String, up_to: u64) -> Batch {
        Batch {
            id,
            up_to,
            files: Vec::new(),
            written: false,
            rejected: 0,
            following: Following::default(),
        }
    }

    /// Where the next file starts: after the last member already written.
    pub fn resume_after(&self) -> u64 {
        self.files.last().map_or(0, |f| f.last_seq)
    }

    /// The name of the batch's `n`-th file (from 1) for the job `job`.
    pub fn file_name(&self, job: &str, n: usize) -> String {
        format!(
            "{}-{}-{n:04}.csv",
            crate::file_names::file_safe(job),
            self.id
        )
    }

    pub fn finished(&self) -> bool {
        self.written && self.files.iter().all(|f| f.outcome.is_some())
    }
}

/// The import's name for a file: the file name without `.csv`.
pub fn import_name(file_name: &str) -> &str {
    file_name.strip_suffix(".csv").unwrap_or(file_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_round_trips_and_resumes_after_its_last_file() {
        let mut b = Batch::new("20261122T0300".into(), 90);
        assert_eq!(b.resume_after(), 0);
        b.files.push(BatchFile {
            name: b.file_name("bulk vip", 1),
            rows: 30_000,
            last_seq: 42,
            registering: true,
            job_id: Some("j1".into()),
            outcome: Some(FileOutcome::Done(ImportCounts {
                total: 3,
                inserted: 3,
                ..Default::default()
            })),
        });
        assert_eq!(b.files[0].name, "bulk_vip-20261122T0300-0001.csv");
        assert_eq!(import_name(&b.files[0].name), "bulk_vip-20261122T0300-0001");
        assert_eq!(b.resume_after(), 42);
        assert!(!b.finished());
        b.written = true;
        assert!(b.finished());
        assert_eq!(Batch::from_bytes(&b.to_bytes()).unwrap(), b);
    }

    #[test]
    fn a_batch_saved_before_following_was_kept_still_reads() {
        let saved = br#"{"id":"b","up_to":9,"files":[],"written":true,"rejected":0}"#;
        let batch = Batch::from_bytes(saved).unwrap();
        assert_eq!(batch.following, Following::default());
        assert!(batch.written);
    }
}
