//! `POST /v2/contactimports` for one uploaded file, and finding an import by its name.

use crate::cordial::jobs::PASSWORD_PLACEHOLDER;
use crate::cordial::{HttpRequest, Method};
use serde_json::{Value, json};

use super::csv_cells::UNSET;

/// Where Cordial fetches the file from: the customer's SFTP server, or an HTTPS address
/// the runtime serves the file at (Spin, which has no SFTP client to put it on a server).
#[derive(Debug, Clone)]
pub enum ImportSource {
    Sftp(SftpSource),
    /// `source.transport: https`: the file's whole URL, a capability that needs no password.
    Https(String),
}

/// A file on the customer's SFTP server.
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

/// The import request body: the source, a header row, `\N` cells left unchanged, subscribe
/// status of existing contacts left as it is, no triggered messages.
pub fn import_body(import_name: &str, source: &ImportSource) -> Value {
    let src = match source {
        ImportSource::Sftp(sftp) => {
            let mut src = json!({
                "transport": "sftp",
                "server": sftp.server,
                "port": sftp.port,
                "username": sftp.username,
                "path": sftp.path,
            });
            match &sftp.saved_key {
                Some(key) => src["savedKey"] = json!(key),
                None => src["password"] = json!(PASSWORD_PLACEHOLDER),
            }
            src
        }
        ImportSource::Https(url) => json!({ "transport": "https", "url": url }),
    };
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

pub fn create_import(base: &str, import_name: &str, source: &ImportSource) -> HttpRequest {
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
        let body = import_body("job-1-1", &ImportSource::Sftp(source.clone()));
        assert_eq!(body["source"]["password"], PASSWORD_PLACEHOLDER);
        assert_eq!(body["hasHeader"], true);
        assert_eq!(body["subscribe"], false);
        let keyed = import_body(
            "n",
            &ImportSource::Sftp(SftpSource {
                saved_key: Some("k".into()),
                ..source
            }),
        );
        assert_eq!(keyed["source"]["savedKey"], "k");
        assert!(keyed["source"].get("password").is_none());
    }

    #[test]
    fn an_import_is_found_by_its_name() {
        let list = json!([{"_id": "j1", "metadata": {"importName": "a"}}, {"_id": "j2", "metadata": {"importName": "b"}}]);
        assert_eq!(find_import(&list, "b"), Some("j2".into()));
        assert_eq!(find_import(&list, "c"), None);
    }
}
