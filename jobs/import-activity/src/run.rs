//! One run: the window [cursor − overlap, now), its export (requested once, followed to
//! Done), its files streamed into the stream, and only then the cursor moved.

use crate::{export, files};
use cordial_guest::types::{JobError, RunContext, RunReport};
use cordial_guest::{sftp, state};
use cordial_jobs::activity::export::{CURSOR_KEY, EXPORT_KEY, WindowExport};
use cordial_jobs::activity::first_window_start;
use cordial_jobs::settings::ImportActivitySettings;

pub fn run(ctx: &RunContext, config: &str) -> Result<RunReport, JobError> {
    let settings: ImportActivitySettings =
        cordial_guest::parse_settings(config).map_err(JobError::InvalidConfig)?;
    let remote = sftp::describe().map_err(|e| cordial_guest::sftp_job_error("connecting", e))?;
    let mut window = match state::get(EXPORT_KEY) {
        Some(bytes) => {
            let w = WindowExport::from_bytes(&bytes).map_err(JobError::Permanent)?;
            cordial_guest::info(&format!("resuming the window {} → {}", w.start, w.end));
            w
        }
        None => {
            let start = window_start(&settings, &ctx.started_at)?;
            let w = WindowExport::new(&ctx.job_name, start, ctx.started_at.clone());
            state::set(EXPORT_KEY, &w.to_bytes());
            w
        }
    };
    let mut client = cordial_guest::scheduled_client(ctx);
    export::request(&mut client, &remote, &settings, &mut window)?;
    if let Err(e) = export::follow(&mut client, &settings, &window) {
        if matches!(e, JobError::Permanent(_)) {
            // Cordial failed the export: the next run asks again for the same window.
            state::delete(EXPORT_KEY);
        }
        return Err(e);
    }
    let names = files::import_all(&settings, &mut window)?;
    state::set(CURSOR_KEY, window.end.as_bytes());
    state::delete(EXPORT_KEY);
    if !settings.keep_files {
        for name in &names {
            if let Err(e) = sftp::remove(name) {
                cordial_guest::warn(&format!("could not remove {name}: {e:?}"));
            }
        }
    }
    let summary = format!(
        "imported {} record(s) of {} → {} from {} file(s){}; cursor at {}",
        window.records,
        window.start,
        window.end,
        names.len(),
        if window.quarantined > 0 {
            format!(
                "; {} malformed record(s) quarantined (see `cordial-host quarantine`)",
                window.quarantined
            )
        } else {
            String::new()
        },
        window.end
    );
    if window.quarantined > 0 {
        cordial_guest::warn(&summary);
    } else {
        cordial_guest::info(&summary);
    }
    Ok(RunReport {
        records_read: window.records + window.quarantined,
        records_written: window.records,
        records_rejected: window.quarantined,
        summary,
    })
}

/// The first run starts at Import Since (or a week back); later runs at the cursor minus
/// the overlap, so late events are picked up (and deduplicated by `_id`).
fn window_start(settings: &ImportActivitySettings, now: &str) -> Result<String, JobError> {
    match state::get(CURSOR_KEY).and_then(|b| String::from_utf8(b).ok()) {
        Some(cursor) => {
            let cursor = chrono::DateTime::parse_from_rfc3339(&cursor)
                .map_err(|e| JobError::Permanent(format!("the saved cursor is unreadable: {e}")))?;
            let start = cursor - chrono::Duration::minutes(settings.overlap_minutes as i64);
            Ok(start
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        None => first_window_start(settings.import_since.as_deref(), now)
            .map_err(JobError::InvalidConfig),
    }
}
