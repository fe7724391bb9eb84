//! Where an import's file comes from, and fetching it: `source` of
//! `POST /v2/contactimports` (cordial-api.md §5.1).
//!
//! Two of Cordial's transports are emulated:
//! - `sftp`: the emulator logs in to the named server with the request's
//!   `password`, or with the private key that
//!   [`crate::EmulatorConfig::saved_sftp_keys`] holds under the `savedKey` name, and
//!   reads `path` (absolute, or relative to the login's home directory). Any host
//!   key is accepted: Cordial fetches from whatever server a customer names.
//! - `http`/`https`: the emulator GETs `url`, as Cordial does for files a customer
//!   serves itself (a Spin app serves its bulk files at expiring addresses).
//!
//! A fetch that fails is a failed job with `message` in Cordial's words where the
//! API reference gives them (`Can't connect to the server (<server>)`,
//! `Can't login to the server (<server>)`, `Couldn't get the size of the file
//! (<path>)`); an HTTP answer other than 2xx names its status.

use std::collections::HashMap;
use std::path::PathBuf;

use cordial_sftp::{SftpClient, SftpFailure};
use serde_json::{Map, Value};

use crate::jobs::fields::text;
use crate::jobs::lifecycle::Failure;
use crate::jobs::sftp::Login;

/// Bytes asked for per SFTP read.
const READ_CHUNK: usize = 1 << 20;
/// The largest file read. A 30,000-row import file is a few MiB.
const MAX_FILE_BYTES: usize = 256 << 20;

/// A validated `source`.
#[derive(Debug, Clone)]
pub enum ImportSource {
    /// `transport: "sftp"`: the login, whose `path` is the file.
    Sftp(Login),
    /// `transport: "http"` or `"https"`: the file's address.
    Http { url: reqwest::Url },
}

impl ImportSource {
    /// Reads `source` by its `transport`; the error is Cordial's 406 message.
    pub fn parse(
        source: &Map<String, Value>,
        saved_keys: &HashMap<String, PathBuf>,
    ) -> Result<ImportSource, String> {
        let transport = text(source, "transport")
            .ok_or("The source.transport field is required.")?
            .trim()
            .to_ascii_lowercase();
        match transport.as_str() {
            "sftp" => Login::parse(source, "source", saved_keys).map(ImportSource::Sftp),
            "http" | "https" => {
                let url = text(source, "url").ok_or("The source.url field is required.")?;
                reqwest::Url::parse(url.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                    .map(|url| ImportSource::Http { url })
                    .ok_or_else(|| "The source.url must be an http or https URL.".to_owned())
            }
            _ => Err("The selected source.transport is invalid. \
                 (This emulator fetches import files over SFTP, HTTP and HTTPS only.)"
                .to_owned()),
        }
    }

    /// The file as the request named it: the SFTP path or the URL.
    pub fn shown(&self) -> String {
        match self {
            ImportSource::Sftp(login) => login.path.clone(),
            ImportSource::Http { url } => url.to_string(),
        }
    }

    /// The whole file.
    pub async fn fetch(&self) -> Result<Vec<u8>, Failure> {
        match self {
            ImportSource::Sftp(login) => fetch_sftp(login).await,
            ImportSource::Http { url } => fetch_http(url).await,
        }
    }
}

/// `source.path` as the folder to log in to and the file name inside it.
fn split_path(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (String::new(), path.into()),
    }
}

/// Logs in and reads the whole file.
async fn fetch_sftp(login: &Login) -> Result<Vec<u8>, Failure> {
    let path = &login.path;
    let (folder, name) = split_path(path);
    let mut client = SftpClient::new(login.target(folder));
    client.connect().await.map_err(|e| open_failure(e, login))?;
    let mut download = client
        .open(&name)
        .await
        .map_err(|e| open_failure(e, login))?;
    let mut bytes = Vec::new();
    loop {
        let chunk = download
            .read(READ_CHUNK)
            .await
            .map_err(|e| Failure::new(format!("Couldn't read the file ({path})"), e))?;
        if chunk.is_empty() {
            break;
        }
        bytes.extend_from_slice(&chunk);
        check_size(bytes.len(), path)?;
    }
    Ok(bytes)
}

/// Cordial's message for a failure to log in or to open the file.
fn open_failure(e: SftpFailure, login: &Login) -> Failure {
    let message = login
        .failure_message(&e)
        .unwrap_or_else(|| format!("Couldn't get the size of the file ({})", login.path));
    Failure::new(message, e)
}

/// GETs the file; any answer but 2xx fails the job with its status.
async fn fetch_http(url: &reqwest::Url) -> Result<Vec<u8>, Failure> {
    // The workspace builds reqwest with rustls but no crypto provider: `ring` is installed first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let host = url.host_str().unwrap_or_default();
    let mut response = reqwest::get(url.clone())
        .await
        .map_err(|e| Failure::new(format!("Can't connect to the server ({host})"), e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Failure::new(
            format!("Couldn't download the file ({url}): the server answered HTTP {status}."),
            format!("HTTP {status}"),
        ));
    }
    let shown = url.as_str();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::new(format!("Couldn't read the file ({shown})"), e))?
    {
        bytes.extend_from_slice(&chunk);
        check_size(bytes.len(), shown)?;
    }
    Ok(bytes)
}

fn check_size(read: usize, shown: &str) -> Result<(), Failure> {
    if read > MAX_FILE_BYTES {
        return Err(Failure::new(
            format!("The file ({shown}) is too large to import."),
            format!("more than {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(source: Value) -> Result<ImportSource, String> {
        ImportSource::parse(source.as_object().unwrap(), &HashMap::new())
    }

    #[test]
    fn paths_split_into_folder_and_file() {
        assert_eq!(split_path("/in/a.csv"), ("/in".into(), "a.csv".into()));
        assert_eq!(split_path("/a.csv"), ("/".into(), "a.csv".into()));
        assert_eq!(split_path("files/a.csv"), ("files".into(), "a.csv".into()));
        assert_eq!(split_path("a.csv"), (String::new(), "a.csv".into()));
    }

    #[test]
    fn http_sources_take_a_url() {
        let source =
            parse(json!({"transport": "HTTPS", "url": " https://files.example.com/a.csv "}));
        assert!(
            matches!(source, Ok(ImportSource::Http { ref url }) if url.as_str() == "https://files.example.com/a.csv")
        );
        assert!(parse(json!({"transport": "http", "url": "http://127.0.0.1:8080/x"})).is_ok());
        assert_eq!(
            parse(json!({"transport": "https"})).unwrap_err(),
            "The source.url field is required."
        );
        for bad in [
            "files.example.com/a.csv",
            "ftp://h/a.csv",
            "https://",
            "not a url",
        ] {
            assert_eq!(
                parse(json!({"transport": "https", "url": bad})).unwrap_err(),
                "The source.url must be an http or https URL.",
                "{bad}"
            );
        }
    }
}
