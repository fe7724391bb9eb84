//! `POST /v2/contactimports` for one uploaded file, and reading `GET /v2/jobs/{id}`.

use crate::cordial::{HttpRequest, Method};
use serde_json::{Value, json};

use super::csv_cells::UNSET;

/// Written in place of the SFTP password in an import request; the host substitutes the real
/// one on the way to the Cordial origin, so the job never holds it.
pub const PASSWORD_PLACEHOLDER: &str = "{{sftp.password}}";

/// Where Cordial fetches the file from.
#[derive(Debug, Clone)]
pub struct SftpSource {
    pub server: String,
    pub port: u16,
    pub username: String,
    /// The file's path on the server, absolute.
    pub path: String,
    /// The name of an SFTP key saved in Cordial; `None` sends the password (placeholder).
    pub saved_key: Option<String>,
}

/// The import request body: SFTP source, a header row, `\N` cells left unchanged, subscribe
/// status of existing contacts left as it is, no triggered messages.
pub fn import_body(import_name: &str, source: &SftpSource) -> Value {
    let mut src = json!({
        "transport": "sftp",
        "server": source.server,
        "port": source.port,
        "username": source.username,
        "path": source.path,
    });
    match &source.saved_key {
        Some(key) => src["savedKey"] = json!(key),
        None => src["password"] = json!(PASSWORD_PLACEHOLDER),
    }
    json!({
        "importName": import_name,
        "source": src,
        "hasHeader": true,
        "delimiter": ",",
        "nullMarker": UNSET,
        "subscribe": false,
        "suppressTriggers": true,
    })
}

pub fn create_import(base: &str, import_name: &str, source: &SftpSource) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url: format!("{base}/v2/contactimports"),
        headers: vec![
            ("accept".into(), "application/json".into()),
            ("content-type".into(), "application/json".into()),
        ],
        body: Some(serde_json::to_vec(&import_body(import_name, source)).expect("JSON serialises")),
    }
}

pub fn get_job(base: &str, job_id: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: format!("{base}/v2/jobs/{job_id}"),
        headers: vec![("accept".into(), "application/json".into())],
        body: None,
    }
}

/// `GET /v2/jobs?jobName=ImportContacts`: to find an import registered by a run that crashed
/// before it could record the job id.
pub fn list_import_jobs(base: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: format!("{base}/v2/jobs?jobName=ImportContacts&per_page=100"),
        headers: vec![("accept".into(), "application/json".into())],
        body: None,
    }
}

/// The `jobId` of a 201 answer. Cordial may answer 201 with an error object in `jobId` when it
/// cannot reach the source; that is returned as `Err(message)`.
pub fn job_id_of(body: &Value) -> Result<String, String> {
    match body.get("jobId") {
        Some(Value::String(id)) => Ok(id.clone()),
        Some(Value::Object(err)) => Err(err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Cordial could not start the import")
            .to_owned()),
        _ => Err("Cordial's answer has no jobId".into()),
    }
}

/// Where an import job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Scheduled, Pending, Processing or Throttled.
    Running(String),
    Done(ImportCounts),
    Failed(String),
}

/// Cordial's counts for a finished import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportCounts {
    pub total: u64,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub errors: u64,
}

pub fn job_state(body: &Value) -> JobState {
    let status = body.get("status").and_then(Value::as_str).unwrap_or("");
    let count = |k: &str| {
        body.pointer(&format!("/result/{k}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    match status {
        "Done" => JobState::Done(ImportCounts {
            total: count("totalRecords"),
            inserted: count("inserted"),
            updated: count("updated"),
            rejected: count("rejected"),
            errors: count("error"),
        }),
        "Failed" => JobState::Failed(
            body.get("message")
                .or_else(|| body.pointer("/result/message"))
                .and_then(Value::as_str)
                .unwrap_or("the import job failed")
                .to_owned(),
        ),
        other => JobState::Running(other.to_owned()),
    }
}

/// The id of the import job named `import_name` in a `GET /v2/jobs` answer, if any.
pub fn find_import(list: &Value, import_name: &str) -> Option<String> {
    let items = match list {
        Value::Array(items) => items,
        other => other.get("data")?.as_array()?,
    };
    items.iter().find_map(|job| {
        (job.pointer("/metadata/importName").and_then(Value::as_str) == Some(import_name))
            .then(|| {
                job.get("_id")
                    .or_else(|| job.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_sftp_source_and_never_the_password() {
        let source = SftpSource {
            server: "sftp.example.com".into(),
            port: 22,
            username: "u".into(),
            path: "/home/u/a.csv".into(),
            saved_key: None,
        };
        let body = import_body("job-1-1", &source);
        assert_eq!(body["source"]["password"], PASSWORD_PLACEHOLDER);
        assert_eq!(body["hasHeader"], true);
        assert_eq!(body["subscribe"], false);
        let keyed = import_body(
            "n",
            &SftpSource {
                saved_key: Some("k".into()),
                ..source
            },
        );
        assert_eq!(keyed["source"]["savedKey"], "k");
        assert!(keyed["source"].get("password").is_none());
    }

    #[test]
    fn job_answers_are_read() {
        assert_eq!(job_id_of(&json!({"jobId": "abc"})), Ok("abc".into()));
        assert!(
            job_id_of(&json!({"jobId": {"error": true, "message": "Can't login"}}))
                .unwrap_err()
                .contains("login")
        );
        let done = json!({"status": "Done", "result": {"totalRecords": 3, "inserted": 2, "updated": 1, "rejected": 0, "error": 0}});
        assert_eq!(
            job_state(&done),
            JobState::Done(ImportCounts {
                total: 3,
                inserted: 2,
                updated: 1,
                rejected: 0,
                errors: 0
            })
        );
        assert_eq!(
            job_state(&json!({"status": "Pending"})),
            JobState::Running("Pending".into())
        );
        let list = json!([{"_id": "j1", "metadata": {"importName": "a"}}, {"_id": "j2", "metadata": {"importName": "b"}}]);
        assert_eq!(find_import(&list, "b"), Some("j2".into()));
        assert_eq!(find_import(&list, "c"), None);
    }
}
