//! Registering each file with `POST /v2/contactimports` (once, even across crashes) and
//! following the import jobs until Cordial says Done or Failed.

use cordial_guest::types::JobError;
use cordial_guest::{ScheduledHttp, sftp, state};
use cordial_jobs::bulk::batch::{Batch, FileOutcome, STATE_KEY, import_name};
use cordial_jobs::bulk::imports::{
    self as api, JobState, SftpSource, find_import, job_id_of, job_state,
};
use cordial_jobs::cordial::CordialClient;
use cordial_jobs::retry::{NextStep, RetryPolicy};
use cordial_jobs::settings::ExportSettings;
use std::time::{Duration, Instant};

pub fn register_all(
    client: &mut CordialClient<ScheduledHttp>,
    remote: &sftp::Remote,
    settings: &ExportSettings,
    batch: &mut Batch,
) -> Result<(), JobError> {
    let base = client.base_url().to_owned();
    for i in 0..batch.files.len() {
        if batch.files[i].job_id.is_some() || batch.files[i].outcome.is_some() {
            continue;
        }
        let name = import_name(&batch.files[i].name).to_owned();
        if batch.files[i].registering {
            // An earlier run may have registered it and died before saving the job id.
            let listed = cordial_guest::call_json(&api::list_import_jobs(&base))?;
            if let Some(id) = find_import(&listed, &name) {
                cordial_guest::info(&format!("{name}: already registered as import job {id}"));
                batch.files[i].job_id = Some(id);
                state::set(STATE_KEY, &batch.to_bytes());
                continue;
            }
        }
        batch.files[i].registering = true;
        state::set(STATE_KEY, &batch.to_bytes());
        let source = SftpSource {
            server: remote.server.clone(),
            port: remote.port,
            username: remote.username.clone(),
            path: format!(
                "{}/{}",
                remote.folder.trim_end_matches('/'),
                batch.files[i].name
            ),
            saved_key: settings.sftp_saved_key.clone(),
        };
        let answer = cordial_guest::call_json(&api::create_import(&base, &name, &source))?;
        match job_id_of(&answer) {
            Ok(id) => {
                cordial_guest::info(&format!("{name}: registered as import job {id}"));
                batch.files[i].job_id = Some(id);
            }
            Err(message) => {
                batch.files[i].outcome = Some(FileOutcome::Failed { message });
            }
        }
        state::set(STATE_KEY, &batch.to_bytes());
    }
    Ok(())
}

/// Polls every unfinished import with growing pauses until it finishes or the run's
/// deadline passes; after the deadline the batch is left for the next run.
pub fn follow_all(
    client: &mut CordialClient<ScheduledHttp>,
    settings: &ExportSettings,
    batch: &mut Batch,
) -> Result<(), JobError> {
    let base = client.base_url().to_owned();
    let deadline = Instant::now() + Duration::from_secs(settings.import_deadline_minutes * 60);
    let pauses = RetryPolicy {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(10),
        max_attempts: u32::MAX,
    };
    for i in 0..batch.files.len() {
        let Some(id) = batch.files[i].job_id.clone() else {
            continue;
        };
        if batch.files[i].outcome.is_some() {
            continue;
        }
        let mut attempt = 0;
        loop {
            match job_state(&cordial_guest::call_json(&api::get_job(&base, &id))?) {
                JobState::Done(counts) => {
                    batch.files[i].outcome = Some(FileOutcome::Done(counts));
                    break;
                }
                JobState::Failed(message) => {
                    batch.files[i].outcome = Some(FileOutcome::Failed { message });
                    break;
                }
                JobState::Running(status) => {
                    attempt += 1;
                    let pause = match pauses.next_step(attempt, None, 1.0) {
                        NextStep::RetryAfter(pause) => pause,
                        NextStep::GiveUp => Duration::from_secs(10),
                    };
                    if Instant::now() + pause > deadline {
                        return Err(JobError::Transient(format!(
                            "Cordial is still importing {} (job {id}, {status}) after {} minute(s); \
                             the next run follows it up",
                            batch.files[i].name, settings.import_deadline_minutes
                        )));
                    }
                    std::thread::sleep(pause);
                }
            }
        }
        state::set(STATE_KEY, &batch.to_bytes());
    }
    Ok(())
}
