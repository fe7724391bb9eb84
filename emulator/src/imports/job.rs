//! The background job of a contact import: `Pending` → `Processing` → `Done` or
//! `Failed`.
//!
//! The job waits while [`crate::EmulatorHandle::hold_jobs`] holds jobs, then logs in
//! to the customer's SFTP server with [`cordial_sftp`] (any host key is accepted:
//! Cordial fetches from whatever server a customer names), reads the file, parses
//! it ([`crate::imports::file`]) and applies it row by row
//! ([`crate::imports::apply`]) in chunks, so the store is never locked for long and
//! `completedItems` and `result` grow while the job runs.
//!
//! A job fails, with `message` in Cordial's words, when the server cannot be
//! reached (`Can't connect to the server (<server>)`), refuses the login
//! (`Can't login to the server (<server>)`), has no such file
//! (`Couldn't get the size of the file (<path>)`), or the file is not readable
//! CSV or has no `channels.email.address` column. Bad rows do not fail a job; they
//! are counted as `rejected`.

use cordial_sftp::{SftpClient, SftpFailure};

use crate::http::app::App;
use crate::imports::apply::{EMAIL_COLUMN, Outcome, Plan, apply_row};
use crate::imports::file::parse_file;
use crate::imports::request::ImportRequest;
use crate::jobs::lifecycle::{self, Failure};
use crate::jobs::sftp::Login;
use crate::model::job::Rejection;
use crate::time;

/// Rows applied per lock of the store.
const ROWS_PER_CHUNK: usize = 500;
/// Bytes asked for per SFTP read.
const READ_CHUNK: usize = 1 << 20;
/// The largest file read. A 30,000-row import file is a few MiB.
const MAX_FILE_BYTES: usize = 256 << 20;

/// Runs the import job `id` in the background.
pub fn spawn(app: App, id: String, request: ImportRequest) {
    let steps = run(app.clone(), id.clone(), request);
    lifecycle::spawn(app, id, "import", steps);
}

/// The import's own steps: fetch, parse, apply.
async fn run(app: App, id: String, request: ImportRequest) -> Result<(), Failure> {
    let bytes = fetch(&request.login).await?;
    let file = parse_file(
        &bytes,
        request.delimiter,
        request.has_header,
        request.columns.as_deref(),
    )
    .map_err(|m| Failure::new(m.clone(), m))?;
    drop(bytes);
    if !file.columns.iter().any(|c| c == EMAIL_COLUMN) {
        return Err(Failure::new(
            format!("The file has no {EMAIL_COLUMN} column."),
            format!("columns: {:?}", file.columns),
        ));
    }
    let total = file.rows.len() as u64;
    app.update_job(&id, |j| {
        j.total_items = total;
        j.counts.total_records = total;
    });
    let plan = Plan {
        columns: file.columns,
        add_to: request.add_to,
        remove_from: request.remove_from,
        null_marker: request.null_marker,
        subscribe: request.subscribe,
        strategy: request.strategy,
    };
    let mut row_number = 0u64;
    for chunk in file.rows.chunks(ROWS_PER_CHUNK) {
        let now = time::now();
        let outcomes: Vec<(u64, u64, Outcome)> = {
            let mut store = app.store();
            chunk
                .iter()
                .map(|row| {
                    row_number += 1;
                    let outcome = apply_row(&mut store, &plan, &row.cells, now);
                    (row_number, row.line, outcome)
                })
                .collect()
        };
        app.update_job(&id, |j| {
            for (row, line, outcome) in outcomes {
                j.completed_items += 1;
                match outcome {
                    Outcome::Inserted => j.counts.inserted += 1,
                    Outcome::Updated => j.counts.updated += 1,
                    Outcome::Ignored => j.counts.ignored += 1,
                    Outcome::Rejected(reason) => {
                        j.counts.rejected += 1;
                        j.rejections.push(Rejection { row, line, reason });
                    }
                }
            }
        });
        tokio::task::yield_now().await;
    }
    Ok(())
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
async fn fetch(login: &Login) -> Result<Vec<u8>, Failure> {
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
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Failure::new(
                format!("The file ({path}) is too large to import."),
                format!("more than {MAX_FILE_BYTES} bytes"),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_folder_and_file() {
        assert_eq!(split_path("/in/a.csv"), ("/in".into(), "a.csv".into()));
        assert_eq!(split_path("/a.csv"), ("/".into(), "a.csv".into()));
        assert_eq!(split_path("files/a.csv"), ("files".into(), "a.csv".into()));
        assert_eq!(split_path("a.csv"), (String::new(), "a.csv".into()));
    }
}
