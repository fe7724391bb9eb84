//! One call of the Import Activity job: the window [cursor − overlap, now), its export
//! (requested once, then followed one poll per call), its files streamed into the
//! `cordial_activity` stream, and only then the cursor moved.
//!
//! Every step is saved in the window's state before the next begins, so a call that dies
//! anywhere is resumed by the next one, and a call that finds Cordial still exporting
//! returns [`Progress::Waiting`] instead of sleeping.

mod files;
mod follow;
mod request;
#[cfg(test)]
mod tests;

use super::export::{CURSOR_KEY, WindowExport};
use super::first_window_start;
use crate::job::{JobError, Progress, RunReport};
use crate::ports::{Env, Files, Streams};
use crate::scheduled::Checkpoint;
use crate::scheduled::remove_files;
use crate::settings::{self, ImportActivitySettings, JobKind};
use std::ops::ControlFlow;

/// Runs the job as far as it can go in one call.
pub fn run(
    env: &mut Env<'_>,
    files: &mut dyn Files,
    streams: &mut dyn Streams,
) -> Result<Progress, JobError> {
    let settings: ImportActivitySettings = settings::read(JobKind::ImportActivity, env.config)?;
    let remote = files
        .describe()
        .map_err(|e| JobError::from_files("connecting", e))?;
    let mut window = match WindowExport::load(env.state)? {
        Some(window) => {
            env.info(&format!(
                "resuming the window {} → {}",
                window.start, window.end
            ));
            window
        }
        None => {
            let start = window_start(env, &settings)?;
            let window = WindowExport::new(&env.ctx.job_name, start, env.ctx.started_at.clone());
            // Saved before Cordial is asked, so the export is only ever asked for this window.
            window.save(env.state)?;
            window
        }
    };
    request::request_once(env, &remote, &settings, &mut window)?;
    match follow::poll(env, &settings, &mut window) {
        Ok(ControlFlow::Continue(())) => {}
        Ok(ControlFlow::Break(waiting)) => return Ok(waiting),
        Err(e) => {
            if matches!(e, JobError::Permanent(_)) {
                // Cordial failed the export: the next run asks again for the same window.
                WindowExport::forget(env.state)?;
            }
            return Err(e);
        }
    }
    files::import_all(env, files, streams, &settings, &mut window)?;
    close(env, files, &settings, &window).map(Progress::Finished)
}

/// The first run starts at Import Since (or a week back); later runs at the cursor minus
/// the overlap, so late events are picked up (and deduplicated by `_id`).
fn window_start(env: &mut Env<'_>, settings: &ImportActivitySettings) -> Result<String, JobError> {
    let cursor = env
        .state
        .get(CURSOR_KEY)
        .map_err(|e| JobError::from_port("reading the cursor", e))?
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match cursor {
        Some(cursor) => {
            let cursor = chrono::DateTime::parse_from_rfc3339(&cursor)
                .map_err(|e| JobError::Permanent(format!("the saved cursor is unreadable: {e}")))?;
            let start = cursor - chrono::Duration::minutes(settings.overlap_minutes as i64);
            Ok(start
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        None => first_window_start(settings.import_since.as_deref(), &env.ctx.started_at)
            .map_err(JobError::InvalidConfig),
    }
}

/// Every file's records are stored: remove the files, move the cursor, forget the window.
/// The files go first, so a run that dies in between leaves none behind: the next one
/// resumes the window, finds them gone, and closes it.
fn close(
    env: &mut Env<'_>,
    files: &mut dyn Files,
    settings: &ImportActivitySettings,
    window: &WindowExport,
) -> Result<RunReport, JobError> {
    if !settings.keep_files {
        remove_files(files, env.log, &window.imported);
    }
    env.state
        .set(CURSOR_KEY, window.end.as_bytes())
        .map_err(|e| JobError::from_port("moving the cursor", e))?;
    WindowExport::forget(env.state)?;
    let quarantined = if window.quarantined > 0 {
        format!(
            "; {} malformed record(s) quarantined (see `cordial-host quarantine`)",
            window.quarantined
        )
    } else {
        String::new()
    };
    let summary = format!(
        "imported {} record(s) of {} → {} from {} file(s){quarantined}; cursor at {}",
        window.records,
        window.start,
        window.end,
        window.imported.len(),
        window.end
    );
    if window.quarantined > 0 {
        env.warn(&summary);
    } else {
        env.info(&summary);
    }
    Ok(RunReport {
        records_read: window.records + window.quarantined,
        records_written: window.records,
        records_rejected: window.quarantined,
        summary,
    })
}
