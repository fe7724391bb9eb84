//! Cordial's jobs API as the file-based jobs use it: the job id of an accepted export or
//! import, where a job stands (`GET /v2/jobs/{id}`), and the password placeholder those
//! requests carry instead of the SFTP password.

use super::{HttpRequest, Method};
use serde_json::Value;

/// Written in place of the SFTP password in an import request; the host substitutes the real
/// one on the way to the Cordial origin, so the job never holds it.
pub const PASSWORD_PLACEHOLDER: &str = "{{sftp.password}}";

/// `body` with each [`PASSWORD_PLACEHOLDER`] replaced by the JSON-escaped password, the
/// runtime's last step before the Cordial origin (the bundled host's HTTP capability, the
/// proxy on Spin); `None` when the body holds no placeholder and goes out as it is.
pub fn fill_password(body: &[u8], password: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains(PASSWORD_PLACEHOLDER) {
        return None;
    }
    let escaped = serde_json::to_string(password).expect("a string serialises");
    let escaped = &escaped[1..escaped.len() - 1];
    Some(text.replace(PASSWORD_PLACEHOLDER, escaped).into_bytes())
}

/// `GET /v2/jobs/{id}`: where an export or import job stands.
pub fn get_job(base: &str, job_id: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: format!("{base}/v2/jobs/{job_id}"),
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

/// Where an export or import job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Scheduled, Pending, Processing or Throttled.
    Running(String),
    Done(ImportCounts),
    Failed(String),
}

/// Cordial's counts for a finished import (zero for an export).
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    }
}
