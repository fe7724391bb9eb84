//! The background job of a contact activity export (`jobName: "ExportEvents"`):
//! `Pending` → `Processing` → `Done` or `Failed`.
//!
//! The job waits while [`crate::EmulatorHandle::hold_jobs`] holds jobs, takes a
//! snapshot of the events, selects the records (`selected_timeframe_start <= time <
//! selected_timeframe_end`, the actions, message and contact filters), logs in to
//! the customer's SFTP server with [`cordial_sftp`] (any host key accepted, as for
//! imports) with the destination `path` as its folder, and writes the files one
//! after the other. Each file is streamed: records are rendered (and gzipped) into
//! a buffer that is sent with [`cordial_sftp::Upload::write`] whenever it reaches
//! 256 KiB, and the upload is published under its final name when complete (the
//! SFTP client writes to a hidden `.<name>.part` first).
//!
//! The job document shows `totalItems` (records selected), `completedItems`
//! (records written so far) and, in `metadata.fileNames`, the files finished so
//! far, in order (names inside `destination.path`).
//!
//! A job fails with a top-level `message`: `Can't connect to the server (<server>)`,
//! `Can't login to the server (<server>)` (Cordial's words, as for imports), and
//! the emulator's own `The folder (<path>) does not exist on the server (<server>)`,
//! `Permission denied: couldn't write the file (<path>/<name>)` and
//! `Couldn't upload the file (<path>/<name>)`; or with the message given to
//! [`crate::EmulatorHandle::fail_next_export`].

use std::io::Write as _;

use cordial_sftp::{HostKeyPolicy, SftpClient, SftpFailure, Target, Upload};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

use crate::exports::request::{Column, ExportRequest, Format, MessageType, Selection};
use crate::http::app::App;
use crate::jobs::sftp::{Failure, finish_failed, is_login_failure};
use crate::model::events::{Event, Record, Snapshot, is_custom_action};
use crate::model::job::JobStatus;
use crate::time;

/// Bytes sent per `Upload::write`.
const CHUNK: usize = 256 << 10;

/// The CSV/TXT columns when `columnHeaders` is not given.
pub const DEFAULT_COLUMNS: [&str; 12] = [
    "_id",
    "cID",
    "email",
    "action",
    "time",
    "mcID",
    "bmID",
    "mdtID",
    "first",
    "message_name",
    "message_sent",
    "properties",
];

/// Runs the export job `id` in the background; `forced` fails it with that
/// message once it starts. A panic in the job fails it rather than leaving it
/// `Processing` for ever.
pub fn spawn(app: App, id: String, request: ExportRequest, forced: Option<String>) {
    let job = tokio::spawn(run(app.clone(), id.clone(), request, forced));
    tokio::spawn(async move {
        if let Err(e) = job.await {
            finish_failed(
                &app,
                &id,
                "export",
                Failure {
                    message: "The export failed because of an internal error.".into(),
                    detail: e.to_string(),
                },
            );
        }
    });
}

async fn run(app: App, id: String, request: ExportRequest, forced: Option<String>) {
    let mut held = app.watch_hold();
    while *held.borrow_and_update() {
        if held.changed().await.is_err() {
            break;
        }
    }
    app.update_job(&id, |j| {
        j.status = JobStatus::Processing;
        j.started = Some(time::now());
    });
    if let Some(message) = forced {
        return finish_failed(
            &app,
            &id,
            "export",
            Failure {
                message,
                detail: "EmulatorHandle::fail_next_export".into(),
            },
        );
    }
    let snapshot = app.events_snapshot();
    let selected = select(&snapshot, &request.selection);
    let total = selected.len() as u64;
    app.update_job(&id, |j| j.total_items = total);

    let mut client = SftpClient::new(Target {
        host: request.server.clone(),
        port: request.port,
        username: request.username.clone(),
        credential: request.credential.clone(),
        folder: request.path.clone(),
        host_key: HostKeyPolicy::AcceptAny,
    });
    if let Err(e) = client.connect().await {
        return finish_failed(&app, &id, "export", connect_failure(e, &request));
    }
    let per_file = match request.limit_per_file {
        0 => selected.len().max(1),
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let mut parts: Vec<&[&Event]> = selected.chunks(per_file).collect();
    if parts.is_empty() {
        // Nothing selected: still one (empty) file, so the export is visible.
        parts.push(&[]);
    }
    for (i, part) in parts.into_iter().enumerate() {
        let name = request.file_name(i + 1);
        if let Err(f) = write_file(&app, &id, &mut client, &request, &snapshot, part, &name).await {
            return finish_failed(&app, &id, "export", f);
        }
        app.update_job(&id, |j| {
            if let Some(export) = &mut j.export {
                export.files.push(name);
            }
        });
    }
    app.update_job(&id, |j| {
        j.status = JobStatus::Done;
        j.ended = Some(time::now());
    });
}

/// The events an export takes, in time order.
fn select<'s>(snapshot: &'s Snapshot, selection: &Selection) -> Vec<&'s Event> {
    let allowed: Option<Vec<bool>> = selection.actions.as_ref().map(|wanted| {
        snapshot
            .actions()
            .iter()
            .map(|a| {
                wanted.iter().any(|w| w == a)
                    || (is_custom_action(a) && wanted.iter().any(|w| w == "custom"))
            })
            .collect()
    });
    let needs_record = selection.message_type.is_some()
        || selection.message_id.is_some()
        || selection.contact.is_some();
    let contact = selection.contact.as_ref().map(|c| c.to_lowercase());
    snapshot
        .between(selection.start, selection.end)
        .iter()
        .filter(|e| allowed.as_ref().is_none_or(|a| a[e.action_index()]))
        .filter(|e| {
            if !needs_record {
                return true;
            }
            let record = snapshot.record(e);
            let field = |k: &str| lookup(&record, k).and_then(Value::as_str);
            let is_message = field("mdtID").is_some() || field("bmID").is_some();
            let type_ok = match selection.message_type {
                None => true,
                Some(MessageType::Batch) => field("bmID").is_some(),
                Some(MessageType::Automation) => is_message && field("bmID").is_none(),
            };
            let id_ok = selection
                .message_id
                .as_deref()
                .is_none_or(|m| field("bmID") == Some(m) || field("mdtID") == Some(m));
            let contact_ok = contact.as_deref().is_none_or(|c| {
                field("cID") == Some(c) || field("email").is_some_and(|e| e.to_lowercase() == c)
            });
            type_ok && id_ok && contact_ok
        })
        .collect()
}

/// Renders `events` into the file `name` and publishes it.
async fn write_file(
    app: &App,
    id: &str,
    client: &mut SftpClient,
    request: &ExportRequest,
    snapshot: &Snapshot,
    events: &[&Event],
    name: &str,
) -> Result<(), Failure> {
    let shown = shown_path(&request.path, name);
    let mut upload = client
        .create(name)
        .await
        .map_err(|e| upload_failure(e, request, &shown))?;
    let result = stream(app, id, &mut upload, request, snapshot, events, &shown).await;
    if let Err(f) = result {
        client.abandon(upload).await;
        return Err(f);
    }
    client
        .finish(upload)
        .await
        .map_err(|e| upload_failure(e, request, &shown))?;
    Ok(())
}

async fn stream(
    app: &App,
    id: &str,
    upload: &mut Upload,
    request: &ExportRequest,
    snapshot: &Snapshot,
    events: &[&Event],
    shown: &str,
) -> Result<(), Failure> {
    let mut sink = Sink::new(request.compress);
    let mut line = Vec::with_capacity(1024);
    if request.show_header
        && let Format::Csv | Format::Txt(_) = request.format
    {
        let headers: Vec<&str> = match &request.columns {
            Some(columns) => columns.iter().map(|c| c.label.as_str()).collect(),
            None => DEFAULT_COLUMNS.to_vec(),
        };
        let delimiter = delimiter(request.format);
        for (i, h) in headers.iter().enumerate() {
            if i > 0 {
                line.push(delimiter);
            }
            push_cell(&mut line, h, delimiter);
        }
        line.push(b'\n');
        sink.write(&line);
    }
    let mut unreported = 0u64;
    // Complete JSON records of synthetic events are written directly.
    let direct = request.format == Format::Json
        && request.columns.is_none()
        && request.additional_jsonl_fields.is_empty();
    for e in events {
        line.clear();
        if !(direct && snapshot.write_synthetic_json(e, &mut line)) {
            render(&mut line, &snapshot.record(e), request);
        }
        sink.write(&line);
        unreported += 1;
        if sink.pending() >= CHUNK {
            upload
                .write(&sink.take())
                .await
                .map_err(|e| upload_failure(e, request, shown))?;
            app.update_job(id, |j| j.completed_items += unreported);
            unreported = 0;
        }
    }
    let rest = sink.finish();
    if !rest.is_empty() {
        upload
            .write(&rest)
            .await
            .map_err(|e| upload_failure(e, request, shown))?;
    }
    app.update_job(id, |j| j.completed_items += unreported);
    Ok(())
}

/// Where output bytes collect before they are sent: as they are, or gzipped.
enum Sink {
    Plain(Vec<u8>),
    Gzip(GzEncoder<Vec<u8>>),
}

impl Sink {
    fn new(compress: bool) -> Sink {
        if compress {
            Sink::Gzip(GzEncoder::new(
                Vec::with_capacity(CHUNK * 2),
                Compression::fast(),
            ))
        } else {
            Sink::Plain(Vec::with_capacity(CHUNK * 2))
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        match self {
            Sink::Plain(v) => v.extend_from_slice(bytes),
            Sink::Gzip(g) => g.write_all(bytes).expect("gzip into memory cannot fail"),
        }
    }

    /// Output bytes ready to send.
    fn pending(&self) -> usize {
        match self {
            Sink::Plain(v) => v.len(),
            Sink::Gzip(g) => g.get_ref().len(),
        }
    }

    fn take(&mut self) -> Vec<u8> {
        match self {
            Sink::Plain(v) => std::mem::take(v),
            Sink::Gzip(g) => std::mem::take(g.get_mut()),
        }
    }

    /// The last bytes (the gzip trailer included).
    fn finish(self) -> Vec<u8> {
        match self {
            Sink::Plain(v) => v,
            Sink::Gzip(g) => g.finish().expect("gzip into memory cannot fail"),
        }
    }
}

fn delimiter(format: Format) -> u8 {
    match format {
        Format::Txt(d) => d,
        _ => b',',
    }
}

/// Appends one record as a line of the requested format.
pub fn render(out: &mut Vec<u8>, record: &Record, request: &ExportRequest) {
    match request.format {
        Format::Json => {
            let mut fields: Vec<(&str, &Value)> = match &request.columns {
                Some(columns) => columns
                    .iter()
                    .filter_map(|c| Some((c.label.as_str(), lookup(record, &c.name)?)))
                    .collect(),
                None => record.iter().map(|(k, v)| (k.as_ref(), v)).collect(),
            };
            for extra in &request.additional_jsonl_fields {
                if !fields.iter().any(|(k, _)| k == extra)
                    && let Some(v) = lookup(record, extra)
                {
                    fields.push((extra, v));
                }
            }
            out.push(b'{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k).expect("JSON into memory");
                out.push(b':');
                serde_json::to_writer(&mut *out, v).expect("JSON into memory");
            }
            out.extend_from_slice(b"}\n");
        }
        Format::Csv | Format::Txt(_) => {
            let d = delimiter(request.format);
            let names: Vec<&str> = match &request.columns {
                Some(columns) => columns.iter().map(|c: &Column| c.name.as_str()).collect(),
                None => DEFAULT_COLUMNS.to_vec(),
            };
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push(d);
                }
                let text = match lookup(record, name) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                push_cell(out, &text, d);
            }
            out.push(b'\n');
        }
    }
}

/// A CSV cell, quoted when it holds the delimiter, a quote or a line break.
fn push_cell(out: &mut Vec<u8>, text: &str, delimiter: u8) {
    if text
        .bytes()
        .any(|b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// A field of a record by name: the key itself, Cordial's short names (`ats`
/// time, `a` action, `msID` the `bmID` or else the `mdtID`), or a dotted path
/// into an object (`properties.url`).
pub fn lookup<'r>(record: &'r Record, name: &str) -> Option<&'r Value> {
    let get = |k: &str| record.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    if let Some(v) = get(name) {
        return Some(v);
    }
    match name {
        "ats" => return get("time"),
        "a" => return get("action"),
        "msID" => return get("bmID").or_else(|| get("mdtID")),
        _ => {}
    }
    let (head, rest) = name.split_once('.')?;
    let mut v = get(head)?;
    for part in rest.split('.') {
        v = v.get(part)?;
    }
    Some(v)
}

fn shown_path(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{}/{name}", folder.trim_end_matches('/'))
    }
}

fn missing_folder(request: &ExportRequest) -> String {
    format!(
        "The folder ({}) does not exist on the server ({})",
        request.path, request.server
    )
}

fn connect_failure(e: SftpFailure, request: &ExportRequest) -> Failure {
    let server = &request.server;
    let message = match &e {
        SftpFailure::Connection(_) if is_login_failure(&e) => {
            format!("Can't login to the server ({server})")
        }
        SftpFailure::Connection(_) => format!("Can't connect to the server ({server})"),
        SftpFailure::NotFound(_) => missing_folder(request),
        SftpFailure::PermissionDenied(_) => format!(
            "Permission denied: couldn't open the folder ({}) on the server ({server})",
            request.path
        ),
        _ => format!("Can't connect to the server ({server})"),
    };
    Failure {
        message,
        detail: e.to_string(),
    }
}

/// A failure to create, write or publish a file. OpenSSH resolves a missing
/// folder at login without complaint, so a missing folder shows up here.
fn upload_failure(e: SftpFailure, request: &ExportRequest, shown: &str) -> Failure {
    let message = match &e {
        SftpFailure::NotFound(_) => missing_folder(request),
        SftpFailure::PermissionDenied(_) => {
            format!("Permission denied: couldn't write the file ({shown})")
        }
        _ => format!("Couldn't upload the file ({shown})"),
    };
    Failure {
        message,
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::exports::request::parse_request;

    fn request(extra: Value) -> ExportRequest {
        let mut body = json!({
            "name": "x", "exportType": "json",
            "destination": {"type": "sftp", "server": "h", "username": "u", "password": "p", "path": "/o"},
            "selected_timeframe_start": "2024-07-01", "selected_timeframe_end": "2024-07-02",
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        parse_request(&body, &HashMap::new(), &|_| true).unwrap()
    }

    fn record() -> Record {
        vec![
            ("_id".into(), json!("0123")),
            ("email".into(), json!("a,b@x.io")),
            ("action".into(), json!("click")),
            ("time".into(), json!("2024-07-01T10:00:00+0000")),
            ("mdtID".into(), json!("m1")),
            ("first".into(), json!(true)),
            ("properties".into(), json!({"url": "https://x.io/\"q\""})),
        ]
    }

    fn line(extra: Value) -> String {
        let mut out = Vec::new();
        render(&mut out, &record(), &request(extra));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_keep_the_record_order_and_project_columns() {
        assert_eq!(
            line(json!({})),
            "{\"_id\":\"0123\",\"email\":\"a,b@x.io\",\"action\":\"click\",\"time\":\"2024-07-01T10:00:00+0000\",\
             \"mdtID\":\"m1\",\"first\":true,\"properties\":{\"url\":\"https://x.io/\\\"q\\\"\"}}\n"
        );
        assert_eq!(
            line(
                json!({"columnHeaders": [{"name": "ats", "label": "when"}, {"name": "msID"},
                                         {"name": "properties.url", "label": "url"}, {"name": "nope"}]})
            ),
            "{\"when\":\"2024-07-01T10:00:00+0000\",\"msID\":\"m1\",\"url\":\"https://x.io/\\\"q\\\"\"}\n"
        );
        assert!(
            line(json!({"additionalJsonlFields": ["properties.url", "action"]}))
                .ends_with(",\"properties.url\":\"https://x.io/\\\"q\\\"\"}\n")
        );
    }

    #[test]
    fn csv_quotes_and_defaults() {
        assert_eq!(
            line(json!({"exportType": "csv"})),
            "0123,,\"a,b@x.io\",click,2024-07-01T10:00:00+0000,,,m1,true,,,\"{\"\"url\"\":\"\"https://x.io/\\\"\"q\\\"\"\"\"}\"\n"
        );
        assert_eq!(
            line(json!({"exportType": "txt", "delimiter": "|",
                        "columnHeaders": [{"name": "a"}, {"name": "email"}]})),
            "click|a,b@x.io\n"
        );
    }

    #[test]
    fn gzip_sink_round_trips() {
        use std::io::Read as _;
        let mut sink = Sink::new(true);
        let text = "{\"a\":1}\n".repeat(100_000);
        let mut sent = Vec::new();
        for chunk in text.as_bytes().chunks(4096) {
            sink.write(chunk);
            if sink.pending() >= 1024 {
                sent.extend(sink.take());
            }
        }
        sent.extend(sink.finish());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&sent[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn synthetic_records_are_written_directly_as_render_would() {
        let mut store = crate::model::events::EventStore::default();
        store.generate(
            20_000,
            5,
            crate::time::parse_iso8601("1999-12-25").unwrap(),
            crate::time::parse_iso8601("2000-03-05").unwrap(),
        );
        let snap = store.snapshot();
        let request = request(json!({}));
        let (mut direct, mut rendered) = (Vec::new(), Vec::new());
        for e in snap.events.iter() {
            assert!(snap.write_synthetic_json(e, &mut direct));
            render(&mut rendered, &snap.record(e), &request);
        }
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(rendered).unwrap()
        );
        let mut given = crate::model::events::EventStore::default();
        given
            .add(vec![json!({"action": "a", "time": "2024-07-01T00:00:00Z"})])
            .unwrap();
        let snap = given.snapshot();
        let mut out = Vec::new();
        assert!(!snap.write_synthetic_json(&snap.events[0], &mut out));
        assert!(out.is_empty());
    }
}
