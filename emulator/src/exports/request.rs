//! `POST /v2/contactactivityexport`: checking an event export request (the endpoint,
//! in [`crate::exports`], then starts its job; cordial-api.md §6.1; Swagger
//! `createExportCAJob`/`SourceCAE`).
//!
//! The path is singular, as on Cordial. A bad request is answered at once with
//! Cordial's envelope `{"error":true,"errorKey":"GENERIC_ERROR_KEY","message":..}`:
//! **400** for destination problems (the Swagger's `EventsExportDestinationConfigError`
//! messages: `The destination.transport field is required.`,
//! `The destination.username field is required.`, `The destination.path field is required.`,
//! `The selected destination.transport is invalid.`, `Parameter password is not set`,
//! `The confirm email must be a valid email address.`) and **406** for the export's
//! own configuration (`EventsExportConfigError`: `Field 'exportType' should be specified`,
//! `'selected_timeframe_end' cannot be in past in comparison with 'selected_timeframe_start'`,
//! `Please use only one from existing filters 'selected_action_name' OR 'selected_action_names'`,
//! `Incorrect format for 'selected_action_names'`, `Incorrect format for 'additionalJsonlFields'.`,
//! `Field 'selected_message_type' should be specified`,
//! `Please use only one from existing filters 'selected_audience_key' OR 'selected_contact'`,
//! `Such contact <value> does not exist.`, `Audience with name <value> does not exist.`).
//! Cases the Swagger gives no message for use the same patterns, marked `[INF]`
//! below (`Field 'name' should be specified`, `Incorrect format for '<field>'`, ...).
//!
//! A good request is answered **200** `{"jobId": "<24 hex>"}` and a background job
//! ([`crate::exports::job`], `jobName: "ExportEvents"`) writes the files.
//!
//! What the emulator does with each field:
//! - `name` (required; letters, numbers and dashes) names the files:
//!   `<name>.<ext>` for one file, `<name>-1.<ext>`, `<name>-2.<ext>`, ... when
//!   `limitRecordsPerFile` is above 0 (always numbered then, even for one part);
//!   `<ext>` is `json`, `csv` or `txt`, plus `.gz` with `compress: true`.
//! - `exportType` (`json`, `csv`, `txt`, any case): JSON lines, one record per line;
//!   CSV; or TXT, which is CSV with `delimiter` (default `,`).
//! - `destination`: `type` (or `transport`) must be `sftp` (any case); the emulator
//!   logs in to `server`:`port` (default 22) as `username` with `password`, or with
//!   the key [`crate::EmulatorConfig::saved_sftp_keys`] holds under `savedKey`, and
//!   writes into the folder `path` (absolute, or relative to the login's home).
//! - `selected_timeframe_start` (inclusive) and `selected_timeframe_end` (exclusive):
//!   required ISO-8601 instants; equal bounds select nothing.
//! - `selected_action_name` (one name; `custom` means every custom event) or
//!   `selected_action_names` (names, custom ones allowed; `custom` as above; `[]`
//!   is the same as leaving it out): which actions. Absent: all.
//! - `selected_message_type` (`batch`: events with a `bmID`; `automation`: message
//!   events without one) and `selected_message_id` (a `bmID` or an `mdtID`).
//! - `selected_contact`: a cID or email; the contact must exist in the contacts
//!   store or in the events. `selected_audience_key`: the emulator has no saved
//!   audiences, so any key is Cordial's 406 `Audience with name .. does not exist.`
//! - `columnHeaders` (`[{name, label}]`): the fields written, keyed (JSON) or headed
//!   (CSV) by `label` when given, else `name`. Names are record keys, dotted paths
//!   into them (`properties.url`) or Cordial's short names `ats` (time), `a`
//!   (action), `msID` (`bmID`, else `mdtID`). Without it JSON records are complete
//!   and CSV has the columns `_id,cID,email,action,time,mcID,bmID,mdtID,first,
//!   message_name,message_sent,properties` (objects as JSON text).
//! - `showHeader`: CSV/TXT header row (default false, as the Swagger describes it).
//! - `additionalJsonlFields`: JSON only; each name (looked up as in `columnHeaders`)
//!   is added to every record that has it, keyed by the name.
//! - `limitRecordsPerFile` (0 or absent: one file) and `compress` (gzip).
//! - Checked but without effect: `confirmEmail` (no mail is sent),
//!   `showAllProperties`, `contactFields`, `selected_channel`, `sendType`.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::account::contact_body::is_email;
use crate::account::values::lenient_bool;
use crate::http::errors::ApiError;
use crate::jobs::fields::{delimiter, text};
use crate::jobs::sftp::Login;
use crate::model::events::ceil_seconds;
use crate::time;

/// The file layout asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON lines.
    Json,
    Csv,
    /// Delimited text with this delimiter.
    Txt(u8),
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Txt(_) => "txt",
        }
    }

    /// The `exportType` as the job's metadata shows it.
    pub fn as_str(self) -> &'static str {
        self.extension()
    }
}

/// `selected_message_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Batch,
    Automation,
}

/// Which events an export takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// `selected_timeframe_start` rounded up to a whole second (event times are whole seconds).
    pub start: i64,
    /// `selected_timeframe_end` rounded up: an event is taken when `time < end`.
    pub end: i64,
    /// The action names; `None` takes every action.
    pub actions: Option<Vec<String>>,
    pub message_type: Option<MessageType>,
    pub message_id: Option<String>,
    /// A cID or an email (compared in lower case).
    pub contact: Option<String>,
}

/// One `columnHeaders` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The key or header written: the `label`, else the `name`.
    pub label: String,
}

/// A validated export request.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub name: String,
    pub format: Format,
    /// `destination`: `path` is the folder the files go to.
    pub login: Login,
    pub selection: Selection,
    pub columns: Option<Vec<Column>>,
    pub show_header: bool,
    pub additional_jsonl_fields: Vec<String>,
    /// Records per file; 0 means one file.
    pub limit_per_file: u64,
    pub compress: bool,
}

impl ExportRequest {
    /// The name of part `n` (1-based).
    pub fn file_name(&self, n: usize) -> String {
        let gz = if self.compress { ".gz" } else { "" };
        let ext = self.format.extension();
        if self.limit_per_file == 0 {
            format!("{}.{ext}{gz}", self.name)
        } else {
            format!("{}-{n}.{ext}{gz}", self.name)
        }
    }
}

/// 406: the export's configuration.
fn refuse(message: impl Into<String>) -> ApiError {
    ApiError::not_acceptable(message)
}

/// 400: the destination's configuration.
fn bad_destination(message: impl Into<String>) -> ApiError {
    ApiError::generic(StatusCode::BAD_REQUEST, message)
}

fn absent(fields: &Map<String, Value>, key: &str) -> bool {
    matches!(fields.get(key), None | Some(Value::Null))
}

fn incorrect(key: &str) -> ApiError {
    refuse(format!("Incorrect format for '{key}'"))
}

fn flag(fields: &Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(v) => lenient_bool(v).ok_or_else(|| incorrect(key)),
    }
}

/// An array of non-empty strings, or `None` when absent.
fn strings(fields: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                _ => None,
            })
            .collect::<Option<Vec<String>>>()
            .map(Some)
            .ok_or_else(|| incorrect(key)),
        Some(_) => Err(incorrect(key)),
    }
}

fn timeframe(fields: &Map<String, Value>, key: &str) -> Result<DateTime<Utc>, ApiError> {
    match fields.get(key) {
        None | Some(Value::Null) => Err(refuse(format!("Field '{key}' should be specified"))), // [INF]
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(refuse(format!("Field '{key}' should be specified")))
        }
        Some(Value::String(s)) => time::parse_iso8601(s).ok_or_else(|| incorrect(key)), // [INF]
        Some(_) => Err(incorrect(key)),
    }
}

/// Checks an export body. `contact_exists` answers whether a `selected_contact`
/// names a known contact.
pub fn parse_request(
    body: &Value,
    saved_keys: &HashMap<String, PathBuf>,
    contact_exists: &dyn Fn(&str) -> bool,
) -> Result<ExportRequest, ApiError> {
    let empty = Map::new();
    let fields = match body {
        Value::Object(m) => m,
        _ => &empty,
    };

    // The export's identity and type first: without them nothing else matters.
    let name = text(fields, "name").ok_or_else(|| refuse("Field 'name' should be specified"))?; // [INF]
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        // [INF] Cordial's docs: "letters, numbers, dashes only".
        return Err(refuse(
            "The name may only contain letters, numbers and dashes.",
        ));
    }
    let export_type = text(fields, "exportType")
        .ok_or_else(|| refuse("Field 'exportType' should be specified"))?;
    let format = match export_type.trim().to_ascii_lowercase().as_str() {
        "json" => Format::Json,
        "csv" => Format::Csv,
        "txt" => Format::Txt(delimiter(fields).ok_or_else(|| incorrect("delimiter"))?),
        _ => return Err(refuse("The selected exportType is invalid.")), // [INF]
    };

    // The destination: 400s.
    let destination = match fields.get("destination") {
        Some(Value::Object(d)) => d,
        _ => &empty,
    };
    let transport = text(destination, "type")
        .or_else(|| text(destination, "transport"))
        .ok_or_else(|| bad_destination("The destination.transport field is required."))?;
    if !transport.trim().eq_ignore_ascii_case("sftp") {
        return Err(bad_destination(
            "The selected destination.transport is invalid. (This emulator writes export files over SFTP only.)",
        ));
    }
    let login = Login::parse(destination, "destination", saved_keys).map_err(bad_destination)?;
    if let Some(email) = fields.get("confirmEmail").filter(|v| !v.is_null())
        && !email.as_str().is_some_and(|e| is_email(e.trim()))
    {
        return Err(bad_destination(
            "The confirm email must be a valid email address.",
        ));
    }

    // What to export: 406s.
    let start = timeframe(fields, "selected_timeframe_start")?;
    let end = timeframe(fields, "selected_timeframe_end")?;
    if end < start {
        return Err(refuse(
            "'selected_timeframe_end' cannot be in past in comparison with 'selected_timeframe_start'",
        ));
    }
    if !absent(fields, "selected_action_name") && !absent(fields, "selected_action_names") {
        return Err(refuse(
            "Please use only one from existing filters 'selected_action_name' OR 'selected_action_names'",
        ));
    }
    let actions = match fields.get("selected_action_name") {
        None | Some(Value::Null) => {
            strings(fields, "selected_action_names")?.filter(|a| !a.is_empty())
        }
        Some(Value::String(a)) if !a.trim().is_empty() => Some(vec![a.trim().to_owned()]),
        Some(_) => return Err(incorrect("selected_action_name")), // [INF]
    };
    let message_type = match fields.get("selected_message_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if t.eq_ignore_ascii_case("batch") => Some(MessageType::Batch),
        Some(Value::String(t)) if t.eq_ignore_ascii_case("automation") => {
            Some(MessageType::Automation)
        }
        Some(_) => return Err(incorrect("selected_message_type")), // [INF]
    };
    let message_id = text(fields, "selected_message_id");
    if message_id.is_some() && message_type.is_none() {
        return Err(refuse("Field 'selected_message_type' should be specified"));
    }
    if !absent(fields, "selected_contact") && !absent(fields, "selected_audience_key") {
        return Err(refuse(
            "Please use only one from existing filters 'selected_audience_key' OR 'selected_contact'",
        ));
    }
    let contact = text(fields, "selected_contact").map(|c| c.trim().to_owned());
    if let Some(c) = &contact
        && !contact_exists(c)
    {
        return Err(refuse(format!("Such contact {c} does not exist.")));
    }
    if let Some(audience) = text(fields, "selected_audience_key") {
        return Err(refuse(format!(
            "Audience with name {audience} does not exist."
        )));
    }

    // How to write it.
    let columns = match fields.get("columnHeaders") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if !items.is_empty() => Some(
            items
                .iter()
                .map(|item| {
                    let name = item.get("name")?.as_str()?.trim();
                    if name.is_empty() {
                        return None;
                    }
                    let label = match item.get("label") {
                        None | Some(Value::Null) => name,
                        Some(Value::String(l)) if !l.trim().is_empty() => l.as_str(),
                        Some(Value::String(_)) => name,
                        Some(_) => return None,
                    };
                    Some(Column {
                        name: name.to_owned(),
                        label: label.to_owned(),
                    })
                })
                .collect::<Option<Vec<Column>>>()
                .ok_or_else(|| incorrect("columnHeaders"))?, // [INF]
        ),
        Some(Value::Array(_)) => None,
        Some(_) => return Err(incorrect("columnHeaders")),
    };
    let additional_jsonl_fields = strings(fields, "additionalJsonlFields")
        .map_err(|_| refuse("Incorrect format for 'additionalJsonlFields'."))?
        .unwrap_or_default();
    if !additional_jsonl_fields.is_empty() && format != Format::Json {
        return Err(refuse("Incorrect format for 'additionalJsonlFields'."));
    }
    strings(fields, "contactFields")?;
    let limit_per_file = match fields.get("limitRecordsPerFile") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| incorrect("limitRecordsPerFile"))?, // [INF]
    };
    let show_header = flag(fields, "showHeader")?;
    let compress = flag(fields, "compress")?;
    flag(fields, "showAllProperties")?;

    Ok(ExportRequest {
        name,
        format,
        login,
        selection: Selection {
            start: ceil_seconds(start),
            end: ceil_seconds(end),
            actions,
            message_type,
            message_id,
            contact,
        },
        columns,
        show_header,
        additional_jsonl_fields,
        limit_per_file,
        compress,
    })
}

#[cfg(test)]
mod tests {
    use cordial_sftp::Credential;

    use super::*;
    use serde_json::json;

    fn keys() -> HashMap<String, PathBuf> {
        HashMap::from([("k".to_owned(), PathBuf::from("/keys/k"))])
    }

    fn good() -> Value {
        json!({
            "name": "Clicks-1",
            "exportType": "JSON",
            "destination": {"type": "SFTP", "server": "h", "username": "u", "password": "p", "path": "/out"},
            "selected_timeframe_start": "2024-07-01T00:00:00.500Z",
            "selected_timeframe_end": "2024-07-02T00:00:00Z",
        })
    }

    fn parse(body: Value) -> Result<ExportRequest, (u16, String)> {
        parse_request(&body, &keys(), &|c| c == "known@x.io").map_err(|e| {
            assert_eq!(e.body()["errorKey"], "GENERIC_ERROR_KEY");
            assert_eq!(e.body()["error"], true);
            (
                e.status().as_u16(),
                e.body()["message"].as_str().unwrap().to_owned(),
            )
        })
    }

    fn with(f: impl FnOnce(&mut Value)) -> (u16, String) {
        let mut b = good();
        f(&mut b);
        parse(b).unwrap_err()
    }

    fn remove(b: &mut Value, path: &[&str]) {
        let (last, parents) = path.split_last().unwrap();
        let mut v = b;
        for p in parents {
            v = &mut v[*p];
        }
        v.as_object_mut().unwrap().remove(*last);
    }

    #[test]
    fn a_good_request_is_read_with_defaults() {
        let r = parse(good()).unwrap();
        assert_eq!(r.format, Format::Json);
        assert_eq!(r.login.port, 22);
        assert_eq!(r.limit_per_file, 0);
        assert!(!r.compress && !r.show_header);
        assert_eq!(r.selection.actions, None);
        // Start is rounded up to the next whole second; the end is already whole.
        assert_eq!(r.selection.start, 1_719_792_001);
        assert_eq!(r.selection.end, 1_719_878_400);
        assert_eq!(r.file_name(1), "Clicks-1.json");
        assert!(matches!(r.login.credential, Credential::Password(ref p) if p == "p"));

        let mut b = good();
        b["exportType"] = json!("txt");
        b["delimiter"] = json!("|");
        b["destination"]["savedKey"] = json!("k");
        b["destination"]["port"] = json!("2222");
        b["limitRecordsPerFile"] = json!(10);
        b["compress"] = json!(true);
        b["selected_action_names"] = json!(["open", "custom-purchase"]);
        b["columnHeaders"] =
            json!([{"name": "ats", "label": "action timestamp"}, {"name": "email"}]);
        let r = parse(b).unwrap();
        assert_eq!(r.format, Format::Txt(b'|'));
        assert_eq!(r.login.port, 2222);
        assert!(matches!(r.login.credential, Credential::PrivateKey(_)));
        assert_eq!(r.file_name(3), "Clicks-1-3.txt.gz");
        assert_eq!(
            r.selection.actions,
            Some(vec!["open".to_owned(), "custom-purchase".to_owned()])
        );
        assert_eq!(r.columns.as_ref().unwrap()[0].label, "action timestamp");
        assert_eq!(r.columns.as_ref().unwrap()[1].label, "email");

        let mut b = good();
        b["selected_action_name"] = json!("click");
        b["selected_contact"] = json!("known@x.io");
        b["selected_message_type"] = json!("batch");
        b["selected_message_id"] = json!("1:abc:d240701");
        let r = parse(b).unwrap();
        assert_eq!(r.selection.actions, Some(vec!["click".to_owned()]));
        assert_eq!(r.selection.contact.as_deref(), Some("known@x.io"));
        assert_eq!(r.selection.message_type, Some(MessageType::Batch));
        // Equal bounds are allowed (and select nothing).
        let mut b = good();
        b["selected_timeframe_end"] = b["selected_timeframe_start"].clone();
        assert!(parse(b).is_ok());
    }

    #[test]
    fn destination_errors_are_400() {
        assert_eq!(
            with(|b| remove(b, &["destination"])),
            (400, "The destination.transport field is required.".into())
        );
        let (status, m) = with(|b| b["destination"]["type"] = json!("s3"));
        assert_eq!(status, 400);
        assert!(m.starts_with("The selected destination.transport is invalid."));
        for key in ["server", "username", "path"] {
            assert_eq!(
                with(|b| remove(b, &["destination", key])),
                (400, format!("The destination.{key} field is required."))
            );
        }
        assert_eq!(
            with(|b| remove(b, &["destination", "password"])),
            (400, "Parameter password is not set".into())
        );
        let (status, m) = with(|b| b["destination"]["savedKey"] = json!("nope"));
        assert_eq!(status, 400);
        assert!(m.contains("\"nope\" does not exist"), "{m}");
        assert_eq!(
            with(|b| b["confirmEmail"] = json!("nobody")),
            (
                400,
                "The confirm email must be a valid email address.".into()
            )
        );
        // `transport` is accepted in place of `type`.
        let mut b = good();
        remove(&mut b, &["destination", "type"]);
        b["destination"]["transport"] = json!("sftp");
        assert!(parse(b).is_ok());
    }

    #[test]
    fn configuration_errors_are_406() {
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|b| remove(b, &["exportType"])),
                "Field 'exportType' should be specified",
            ),
            (
                Box::new(|b| b["exportType"] = json!("xml")),
                "The selected exportType is invalid.",
            ),
            (
                Box::new(|b| remove(b, &["name"])),
                "Field 'name' should be specified",
            ),
            (
                Box::new(|b| b["name"] = json!("my export")),
                "The name may only contain letters, numbers and dashes.",
            ),
            (
                Box::new(|b| remove(b, &["selected_timeframe_start"])),
                "Field 'selected_timeframe_start' should be specified",
            ),
            (
                Box::new(|b| b["selected_timeframe_end"] = json!("tomorrow")),
                "Incorrect format for 'selected_timeframe_end'",
            ),
            (
                Box::new(|b| b["selected_timeframe_end"] = json!("2024-06-30T23:59:59Z")),
                "'selected_timeframe_end' cannot be in past in comparison with 'selected_timeframe_start'",
            ),
            (
                Box::new(|b| {
                    b["selected_action_name"] = json!("open");
                    b["selected_action_names"] = json!(["click"]);
                }),
                "Please use only one from existing filters 'selected_action_name' OR 'selected_action_names'",
            ),
            (
                Box::new(|b| b["selected_action_names"] = json!("open")),
                "Incorrect format for 'selected_action_names'",
            ),
            (
                Box::new(|b| b["selected_action_names"] = json!(["open", 3])),
                "Incorrect format for 'selected_action_names'",
            ),
            (
                Box::new(|b| b["selected_message_id"] = json!("abc")),
                "Field 'selected_message_type' should be specified",
            ),
            (
                Box::new(|b| {
                    b["selected_contact"] = json!("known@x.io");
                    b["selected_audience_key"] = json!("vip");
                }),
                "Please use only one from existing filters 'selected_audience_key' OR 'selected_contact'",
            ),
            (
                Box::new(|b| b["selected_contact"] = json!("ghost@x.io")),
                "Such contact ghost@x.io does not exist.",
            ),
            (
                Box::new(|b| b["selected_audience_key"] = json!("vip_members")),
                "Audience with name vip_members does not exist.",
            ),
            (
                Box::new(|b| b["additionalJsonlFields"] = json!("x")),
                "Incorrect format for 'additionalJsonlFields'.",
            ),
            (
                Box::new(|b| {
                    b["exportType"] = json!("csv");
                    b["additionalJsonlFields"] = json!(["x"]);
                }),
                "Incorrect format for 'additionalJsonlFields'.",
            ),
            (
                Box::new(|b| b["limitRecordsPerFile"] = json!(-1)),
                "Incorrect format for 'limitRecordsPerFile'",
            ),
            (
                Box::new(|b| b["columnHeaders"] = json!([{"label": "x"}])),
                "Incorrect format for 'columnHeaders'",
            ),
        ];
        for (f, message) in cases {
            assert_eq!(with(f), (406, message.to_owned()));
        }
    }
}
