//! `POST /v2/contactactivityexport` for one time window, and finding its files afterwards.

use crate::cordial::jobs::PASSWORD_PLACEHOLDER;
use crate::cordial::{HttpRequest, Method};
use crate::scheduled::{Checkpoint, Following};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The reserved message actions, exported by default (plus the job's custom actions).
pub const RESERVED_ACTIONS: [&str; 6] = [
    "message-sent",
    "open",
    "click",
    "optout",
    "bounce",
    "complaint",
];

/// Where Cordial writes the files.
#[derive(Debug, Clone)]
pub struct SftpDestination {
    pub server: String,
    pub port: u16,
    pub username: String,
    /// The folder, absolute, as the SFTP server resolves it.
    pub path: String,
    /// A key saved in Cordial; `None` sends the password placeholder the host fills in.
    pub saved_key: Option<String>,
}

/// One window's export, as the job keeps it in state until its records are stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowExport {
    /// The export's name (letters, digits, dashes): also the prefix of its files.
    pub name: String,
    pub start: String,
    pub end: String,
    /// The request was (perhaps) sent.
    pub requested: bool,
    pub job_id: Option<String>,
    /// Files whose records are all stored.
    pub imported: Vec<String>,
    pub records: u64,
    pub quarantined: u64,
    /// How long the export has been followed while Cordial works on it.
    #[serde(default)]
    pub following: Following,
}

/// The job-state keys: the cursor (end of the last imported window) and the window under way.
pub const CURSOR_KEY: &str = "activity-cursor";
pub const EXPORT_KEY: &str = "activity-export";

impl WindowExport {
    pub fn new(job: &str, start: String, end: String) -> WindowExport {
        let stamp =
            |t: &str| -> String { t.chars().filter(char::is_ascii_digit).take(14).collect() };
        let job: String = job
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        WindowExport {
            name: format!("{job}-{}-{}", stamp(&start), stamp(&end)),
            start,
            end,
            requested: false,
            job_id: None,
            imported: Vec::new(),
            records: 0,
            quarantined: 0,
            following: Following::default(),
        }
    }

    /// Whether `file` (a name in the folder) is one of this export's files.
    pub fn owns(&self, file: &str) -> bool {
        file.starts_with(&self.name) && !file.starts_with('.')
    }
}

impl Checkpoint for WindowExport {
    const KEY: &'static str = EXPORT_KEY;
    const WHAT: &'static str = "the window under way";
}

/// The actions to export: the six reserved ones and the job's custom ones.
pub fn action_names(custom: &[String]) -> Vec<String> {
    let mut names: Vec<String> = RESERVED_ACTIONS.iter().map(|a| (*a).to_owned()).collect();
    for c in custom {
        if !names.contains(c) {
            names.push(c.clone());
        }
    }
    names
}

/// How the files are cut: gzip or not, and records per file (0 = one file).
#[derive(Debug, Clone, Copy, Default)]
pub struct FileOptions {
    pub compress: bool,
    pub records_per_file: u64,
}

pub fn export_body(
    export: &WindowExport,
    to: &SftpDestination,
    actions: &[String],
    files: FileOptions,
) -> Value {
    let mut destination = json!({
        "type": "sftp",
        "server": to.server,
        "port": to.port,
        "username": to.username,
        "path": to.path,
    });
    match &to.saved_key {
        Some(key) => destination["savedKey"] = json!(key),
        None => destination["password"] = json!(PASSWORD_PLACEHOLDER),
    }
    let mut body = json!({
        "name": export.name,
        "exportType": "json",
        "destination": destination,
        "selected_timeframe_start": export.start,
        "selected_timeframe_end": export.end,
        "selected_action_names": actions,
        "compress": files.compress,
    });
    if files.records_per_file > 0 {
        body["limitRecordsPerFile"] = json!(files.records_per_file);
    }
    body
}

pub fn create_export(base: &str, body: &Value) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url: format!("{base}/v2/contactactivityexport"),
        headers: vec![
            ("accept".into(), "application/json".into()),
            ("content-type".into(), "application/json".into()),
        ],
        body: Some(serde_json::to_vec(body).expect("serialises")),
    }
}

/// `GET /v2/jobs?jobName=ExportEvents`: to find an export requested by a run that died
/// before it saved the job id.
pub fn list_export_jobs(base: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: format!("{base}/v2/jobs?jobName=ExportEvents&per_page=100"),
        headers: vec![("accept".into(), "application/json".into())],
        body: None,
    }
}

/// The id of the export job named `name` in a `GET /v2/jobs` answer.
pub fn find_export(list: &Value, name: &str) -> Option<String> {
    let items = match list {
        Value::Array(items) => items,
        other => other.get("data")?.as_array()?,
    };
    items.iter().find_map(|job| {
        let meta = job.get("metadata")?;
        let named = meta
            .get("name")
            .or_else(|| meta.get("exportName"))?
            .as_str()?;
        (named == name)
            .then(|| {
                job.get("_id")
                    .or_else(|| job.get("id"))?
                    .as_str()
                    .map(str::to_owned)
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_covers_the_window_and_every_action() {
        let export = WindowExport::new(
            "activity job",
            "2026-11-15T13:00:00Z".into(),
            "2026-11-22T13:00:00Z".into(),
        );
        assert_eq!(export.name, "activity-job-20261115130000-20261122130000");
        let to = SftpDestination {
            server: "s".into(),
            port: 22,
            username: "u".into(),
            path: "/home/u".into(),
            saved_key: None,
        };
        let body = export_body(
            &export,
            &to,
            &action_names(&["browse".into(), "open".into()]),
            FileOptions {
                compress: true,
                records_per_file: 1000,
            },
        );
        assert_eq!(body["limitRecordsPerFile"], 1000);
        assert_eq!(body["selected_action_names"].as_array().unwrap().len(), 7);
        assert_eq!(body["destination"]["password"], PASSWORD_PLACEHOLDER);
        assert_eq!(body["exportType"], "json");
        assert!(export.owns("activity-job-20261115130000-20261122130000-2.json.gz"));
        assert!(!export.owns(".activity-job-20261115130000-20261122130000.json.part"));
        let list = json!([{"_id": "j", "metadata": {"name": export.name}}]);
        assert_eq!(find_export(&list, &export.name), Some("j".into()));
    }

    #[test]
    fn a_window_saved_before_following_was_kept_still_reads() {
        let saved = br#"{"name":"a-1-2","start":"s","end":"e","requested":true,
            "job_id":"j","imported":[],"records":0,"quarantined":0}"#;
        let window = WindowExport::from_bytes(saved).unwrap();
        assert_eq!(window.following, Following::default());
        assert_eq!(window.job_id.as_deref(), Some("j"));
    }
}
