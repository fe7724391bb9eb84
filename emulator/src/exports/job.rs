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

use cordial_sftp::{SftpClient, SftpFailure, Upload};
use serde_json::Value;

use crate::exports::render::{header, lookup, render};
use crate::exports::request::{ExportRequest, Format, MessageType, Selection};
use crate::exports::sink::{CHUNK, Sink};
use crate::http::app::App;
use crate::jobs::lifecycle::{self, Failure};
use crate::model::events::{Event, Snapshot, is_custom_action};

/// Runs the export job `id` in the background; `forced` fails it with that
/// message once it starts.
pub fn spawn(app: App, id: String, request: ExportRequest, forced: Option<String>) {
    let steps = run(app.clone(), id.clone(), request, forced);
    lifecycle::spawn(app, id, "export", steps);
}

/// The export's own steps: select the events, log in, write the files.
async fn run(
    app: App,
    id: String,
    request: ExportRequest,
    forced: Option<String>,
) -> Result<(), Failure> {
    if let Some(message) = forced {
        return Err(Failure::new(message, "EmulatorHandle::fail_next_export"));
    }
    let snapshot = app.events_snapshot();
    let selected = select(&snapshot, &request.selection);
    let total = selected.len() as u64;
    app.update_job(&id, |j| j.total_items = total);

    let login = &request.login;
    let mut client = SftpClient::new(login.target(login.path.clone()));
    client
        .connect()
        .await
        .map_err(|e| connect_failure(e, &request))?;
    let per_file = match request.limit_per_file {
        0 => selected.len().max(1),
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let mut parts: Vec<&[&Event]> = selected.chunks(per_file).collect();
    if parts.is_empty() {
        // Nothing selected: still one (empty) file, so the export is visible.
        parts.push(&[]);
    }
    let writer = FileWriter {
        app: &app,
        id: &id,
        request: &request,
        snapshot: &snapshot,
    };
    for (i, part) in parts.into_iter().enumerate() {
        let name = request.file_name(i + 1);
        writer.write_file(&mut client, part, &name).await?;
        app.update_job(&id, |j| {
            if let Some(export) = &mut j.export {
                export.files.push(name);
            }
        });
    }
    Ok(())
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

/// What writing each file of one export needs: the job its progress is
/// reported to, the request saying how to write, and the events' snapshot.
struct FileWriter<'a> {
    app: &'a App,
    id: &'a str,
    request: &'a ExportRequest,
    snapshot: &'a Snapshot,
}

impl FileWriter<'_> {
    /// Renders `events` into the file `name` and publishes it.
    async fn write_file(
        &self,
        client: &mut SftpClient,
        events: &[&Event],
        name: &str,
    ) -> Result<(), Failure> {
        let request = self.request;
        let shown = shown_path(&request.login.path, name);
        let mut upload = client
            .create(name)
            .await
            .map_err(|e| upload_failure(e, request, &shown))?;
        let result = self.stream(&mut upload, events, &shown).await;
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

    /// Sends the file's bytes as they are rendered, `CHUNK` at a time, counting
    /// the records written into the job's `completedItems`.
    async fn stream(
        &self,
        upload: &mut Upload,
        events: &[&Event],
        shown: &str,
    ) -> Result<(), Failure> {
        let (request, snapshot) = (self.request, self.snapshot);
        let mut sink = Sink::new(request.compress);
        if let Some(row) = header(request) {
            sink.write(&row);
        }
        let mut line = Vec::with_capacity(1024);
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
                self.app
                    .update_job(self.id, |j| j.completed_items += unreported);
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
        self.app
            .update_job(self.id, |j| j.completed_items += unreported);
        Ok(())
    }
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
        request.login.path, request.login.server
    )
}

fn connect_failure(e: SftpFailure, request: &ExportRequest) -> Failure {
    let login = &request.login;
    let message = login.failure_message(&e).unwrap_or_else(|| match &e {
        SftpFailure::NotFound(_) => missing_folder(request),
        SftpFailure::PermissionDenied(_) => format!(
            "Permission denied: couldn't open the folder ({}) on the server ({})",
            login.path, login.server
        ),
        _ => format!("Can't connect to the server ({})", login.server),
    });
    Failure::new(message, e)
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
    Failure::new(message, e)
}
