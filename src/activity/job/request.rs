//! Asking Cordial for the window's export, once even across crashes: the window is marked
//! `requested` before the request, and a run that finds the mark without a job id looks the
//! export up by name before asking again.

use crate::activity::export::{
    FileOptions, SftpDestination, WindowExport, action_names, create_export, export_body,
    find_export, list_export_jobs,
};
use crate::cordial::jobs::job_id_of;
use crate::job::JobError;
use crate::ports::{Env, Remote};
use crate::scheduled::Checkpoint;
use crate::scheduled::{base_url, call_json};
use crate::settings::ImportActivitySettings;

pub(super) fn request_once(
    env: &mut Env<'_>,
    remote: &Remote,
    settings: &ImportActivitySettings,
    window: &mut WindowExport,
) -> Result<(), JobError> {
    if window.job_id.is_some() {
        return Ok(());
    }
    let base = base_url(env.ctx);
    if window.requested
        && let Some(id) = find_export(&call_json(env, &list_export_jobs(base))?, &window.name)
    {
        env.info(&format!(
            "{}: already requested as export job {id}",
            window.name
        ));
        window.job_id = Some(id);
        return window.save(env.state);
    }
    window.requested = true;
    window.save(env.state)?;
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
    let answer = call_json(env, &create_export(base, &body))?;
    let id = job_id_of(&answer).map_err(JobError::Permanent)?;
    env.info(&format!("{}: requested as export job {id}", window.name));
    window.job_id = Some(id);
    window.save(env.state)
}
