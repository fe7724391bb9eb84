//! Asking Cordial for the window's export (once, even across crashes) and waiting for it.

use cordial_guest::types::JobError;
use cordial_guest::{ScheduledHttp, sftp, state};
use cordial_jobs::activity::export::{
    EXPORT_KEY, FileOptions, SftpDestination, WindowExport, action_names, create_export,
    export_body, find_export, list_export_jobs,
};
use cordial_jobs::bulk::imports::{JobState, get_job, job_id_of, job_state};
use cordial_jobs::cordial::CordialClient;
use cordial_jobs::retry::{NextStep, RetryPolicy};
use cordial_jobs::settings::ImportActivitySettings;
use std::time::{Duration, Instant};

pub fn request(
    client: &mut CordialClient<ScheduledHttp>,
    remote: &sftp::Remote,
    settings: &ImportActivitySettings,
    window: &mut WindowExport,
) -> Result<(), JobError> {
    if window.job_id.is_some() {
        return Ok(());
    }
    let base = client.base_url().to_owned();
    if window.requested
        && let Some(id) = find_export(
            &cordial_guest::call_json(&list_export_jobs(&base))?,
            &window.name,
        )
    {
        cordial_guest::info(&format!(
            "{}: already requested as export job {id}",
            window.name
        ));
        window.job_id = Some(id);
        state::set(EXPORT_KEY, &window.to_bytes());
        return Ok(());
    }
    window.requested = true;
    state::set(EXPORT_KEY, &window.to_bytes());
    let destination = SftpDestination {
        server: remote.server.clone(),
        port: remote.port,
        username: remote.username.clone(),
        path: remote.folder.clone(),
        saved_key: settings.sftp_saved_key.clone(),
    };
    let files = FileOptions {
        compress: settings.compress,
        records_per_file: settings.records_per_file,
    };
    let body = export_body(
        window,
        &destination,
        &action_names(&settings.custom_actions),
        files,
    );
    let answer = cordial_guest::call_json(&create_export(&base, &body))?;
    let id = job_id_of(&answer).map_err(JobError::Permanent)?;
    cordial_guest::info(&format!("{}: requested as export job {id}", window.name));
    window.job_id = Some(id);
    state::set(EXPORT_KEY, &window.to_bytes());
    Ok(())
}

/// Polls the export with growing pauses until Done; Failed is a permanent error with
/// Cordial's message; past the deadline the window is left for the next run.
pub fn follow(
    client: &mut CordialClient<ScheduledHttp>,
    settings: &ImportActivitySettings,
    window: &WindowExport,
) -> Result<(), JobError> {
    let base = client.base_url().to_owned();
    let id = window.job_id.clone().expect("requested before following");
    let deadline = Instant::now() + Duration::from_secs(settings.export_deadline_minutes * 60);
    let pauses = RetryPolicy {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(10),
        max_attempts: u32::MAX,
    };
    let mut attempt = 0;
    loop {
        match job_state(&cordial_guest::call_json(&get_job(&base, &id))?) {
            JobState::Done(_) => return Ok(()),
            JobState::Failed(message) => {
                return Err(JobError::Permanent(format!(
                    "Cordial's activity export {} (job {id}) failed: {message}; the cursor stays at {}",
                    window.name, window.start
                )));
            }
            JobState::Running(status) => {
                attempt += 1;
                let pause = match pauses.next_step(attempt, None, 1.0) {
                    NextStep::RetryAfter(p) => p,
                    NextStep::GiveUp => Duration::from_secs(10),
                };
                if Instant::now() + pause > deadline {
                    return Err(JobError::Transient(format!(
                        "Cordial is still exporting {} (job {id}, {status}); the next run follows it up",
                        window.name
                    )));
                }
                std::thread::sleep(pause);
            }
        }
    }
}
