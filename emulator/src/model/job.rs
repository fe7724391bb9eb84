//! The records of asynchronous jobs, as `/v2/jobs` shows them (cordial-api.md §5.3).
//!
//! Two kinds of job exist in this emulator: contact imports
//! (`jobName: "ImportContacts"`) and contact activity exports
//! (`jobName: "ExportEvents"`). A job document has the Swagger's fields
//! (`status`, `jobName`, `totalItems`, `completedItems`, `times`, `result`,
//! `metadata`) plus its id as `_id`, which the Swagger does not show but
//! MongoDB-backed Cordial documents carry; a failed job says why in a top-level
//! `message`.
//!
//! - An import's `result` is filled in as rows are processed, so a `Processing`
//!   job shows partial counts; `metadata` is `{"importName", "fileName"}`.
//! - An export has no `result` (the Swagger's counts are an import's);
//!   `totalItems` is the number of records selected and `completedItems` the number
//!   written so far. `metadata` is `{"name", "exportType", "path", "fileName",
//!   "fileNames"}`: the Swagger's `name`, `exportType` and `fileName` (the first
//!   file's name, known from the start), plus, as the emulator's own addition
//!   (Cordial documents no way to learn an export's files), `path` (the
//!   destination folder) and `fileNames`, the files finished so far, in order,
//!   as names inside `path`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::time;

/// The `jobName` of a contact import.
pub const IMPORT_CONTACTS: &str = "ImportContacts";
/// The `jobName` of a contact activity export.
pub const EXPORT_EVENTS: &str = "ExportEvents";

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Processing,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Processing => "Processing",
            Self::Done => "Done",
            Self::Failed => "Failed",
        }
    }

    /// Whether the job will not change any more.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// The `result` counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub total_records: u64,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: u64,
    /// Unique-constraint errors; the emulator has no unique attributes, so always 0.
    pub error: u64,
    /// Rows skipped because of `strategy`.
    pub ignored: u64,
}

/// A row the import refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The data row, 1-based (the header row not counted).
    pub row: u64,
    /// The line of the file the row starts on (the header counted).
    pub line: u64,
    pub reason: String,
}

/// What an export job shows in `metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportMeta {
    pub name: String,
    /// `json`, `csv` or `txt`.
    pub export_type: &'static str,
    /// `destination.path`.
    pub path: String,
    /// The name of the first file, known before it is written.
    pub first_file: String,
    /// The files written so far, in order.
    pub files: Vec<String>,
}

/// One job: an import, or an export when `export` is set.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub status: JobStatus,
    pub import_name: Option<String>,
    pub file_name: String,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub total_items: u64,
    pub completed_items: u64,
    pub counts: ImportCounts,
    /// Why a failed job failed, in Cordial's words.
    pub message: Option<String>,
    /// The underlying error behind `message` (the SFTP client's), for test output.
    pub failure_detail: Option<String>,
    pub rejections: Vec<Rejection>,
    /// Set on export jobs.
    pub export: Option<ExportMeta>,
}

impl Job {
    pub fn new_import(id: String, import_name: Option<String>, file_name: String) -> Job {
        Job {
            id,
            status: JobStatus::Pending,
            import_name,
            file_name,
            started: None,
            ended: None,
            total_items: 0,
            completed_items: 0,
            counts: ImportCounts::default(),
            message: None,
            failure_detail: None,
            rejections: Vec::new(),
            export: None,
        }
    }

    pub fn new_export(
        id: String,
        name: String,
        export_type: &'static str,
        path: String,
        first_file: String,
    ) -> Job {
        Job {
            export: Some(ExportMeta {
                name,
                export_type,
                path,
                first_file,
                files: Vec::new(),
            }),
            ..Job::new_import(id, None, String::new())
        }
    }

    /// `ImportContacts` or `ExportEvents`.
    pub fn job_name(&self) -> &'static str {
        if self.export.is_some() {
            EXPORT_EVENTS
        } else {
            IMPORT_CONTACTS
        }
    }

    /// The document `GET /v2/jobs/{id}` answers. `times.start`/`times.end` appear
    /// once known (the Swagger types them as date-times, so not `null`).
    pub fn to_json(&self) -> Value {
        let mut times = Map::new();
        if let Some(t) = self.started {
            times.insert("start".into(), time::format(t).into());
        }
        if let Some(t) = self.ended {
            times.insert("end".into(), time::format(t).into());
        }
        let mut v = json!({
            "_id": self.id,
            "jobName": self.job_name(),
            "status": self.status.as_str(),
            "totalItems": self.total_items,
            "completedItems": self.completed_items,
            "times": times,
        });
        if let Some(e) = &self.export {
            v["metadata"] = json!({
                "name": e.name,
                "exportType": e.export_type,
                "path": e.path,
                "fileName": e.first_file,
                "fileNames": e.files,
            });
        } else {
            let c = &self.counts;
            v["result"] = json!({
                "totalRecords": c.total_records,
                "inserted": c.inserted,
                "updated": c.updated,
                "rejected": c.rejected,
                "error": c.error,
                "ignored": c.ignored,
            });
            v["metadata"] = json!({
                "importName": self.import_name,
                "fileName": self.file_name,
            });
        }
        if let Some(m) = &self.message {
            v["message"] = m.clone().into();
        }
        v
    }

    /// The document plus what only the emulator knows: for an import
    /// `rejectedRows` (`[{"row","line","reason"}]`), and for a failed job
    /// `failureDetail`.
    pub fn to_json_with_details(&self) -> Value {
        let mut v = self.to_json();
        if self.export.is_none() {
            v["rejectedRows"] = self
                .rejections
                .iter()
                .map(|r| json!({"row": r.row, "line": r.line, "reason": r.reason}))
                .collect();
        }
        if let Some(d) = &self.failure_detail {
            v["failureDetail"] = d.clone().into();
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_the_swagger_shape() {
        let mut job = Job::new_import("abc".into(), Some("nightly".into()), "/in/a.csv".into());
        let v = job.to_json();
        assert_eq!(v["status"], "Pending");
        assert_eq!(v["jobName"], "ImportContacts");
        assert_eq!(v["times"], json!({}));
        assert_eq!(
            v["metadata"],
            json!({"importName": "nightly", "fileName": "/in/a.csv"})
        );
        assert!(v.get("message").is_none());
        job.status = JobStatus::Failed;
        job.message = Some("Can't connect to the server (h)".into());
        job.rejections.push(Rejection {
            row: 1,
            line: 2,
            reason: "bad".into(),
        });
        let v = job.to_json_with_details();
        assert_eq!(v["message"], "Can't connect to the server (h)");
        assert_eq!(
            v["rejectedRows"],
            json!([{"row": 1, "line": 2, "reason": "bad"}])
        );
    }
}
