//! The background job of a contact import: `Pending` → `Processing` → `Done` or
//! `Failed`.
//!
//! The job waits while [`crate::EmulatorHandle::hold_jobs`] holds jobs, then fetches
//! the file from its source ([`crate::imports::source`]), parses
//! it ([`crate::imports::file`]) and applies it row by row
//! ([`crate::imports::apply`]) in chunks, so the store is never locked for long and
//! `completedItems` and `result` grow while the job runs.
//!
//! A job fails, with `message` in Cordial's words, when the file cannot be fetched
//! (see [`crate::imports::source`]), or the file is not readable CSV or has no
//! `channels.email.address` column. Bad rows do not fail a job; they
//! are counted as `rejected`.

use crate::http::app::App;
use crate::imports::apply::{EMAIL_COLUMN, Outcome, Plan, apply_row};
use crate::imports::file::parse_file;
use crate::imports::request::ImportRequest;
use crate::jobs::lifecycle::{self, Failure};
use crate::model::job::Rejection;
use crate::time;

/// Rows applied per lock of the store.
const ROWS_PER_CHUNK: usize = 500;

/// Runs the import job `id` in the background.
pub fn spawn(app: App, id: String, request: ImportRequest) {
    let steps = run(app.clone(), id.clone(), request);
    lifecycle::spawn(app, id, "import", steps);
}

/// The import's own steps: fetch, parse, apply.
async fn run(app: App, id: String, request: ImportRequest) -> Result<(), Failure> {
    let bytes = request.source.fetch().await?;
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
