//! Registering each file with `POST /v2/contactimports`, once even across crashes: the file
//! is marked `registering` before the request, and a run that finds the mark without a job
//! id looks the import up by name before asking again.

use crate::bulk::batch::{Batch, FileOutcome, import_name};
use crate::bulk::imports::{
    ImportSource, SftpSource, create_import, find_import, list_import_jobs,
};
use crate::cordial::jobs::job_id_of;
use crate::job::JobError;
use crate::ports::{Env, FileError, Files, Remote};
use crate::scheduled::Checkpoint;
use crate::scheduled::{base_url, call_json};
use crate::settings::ExportSettings;

/// Where Cordial will find this run's files: the address the runtime serves them at, or the
/// customer's SFTP server.
pub(super) enum Origin {
    Served(String),
    Sftp(Remote),
}

impl Origin {
    pub(super) fn of(files: &mut dyn Files) -> Result<Origin, FileError> {
        Ok(match files.files_url()? {
            Some(url) => Origin::Served(url),
            None => Origin::Sftp(files.describe()?),
        })
    }

    fn source(&self, file: &str, settings: &ExportSettings) -> ImportSource {
        match self {
            Origin::Served(url) => {
                ImportSource::Https(format!("{}/{file}", url.trim_end_matches('/')))
            }
            Origin::Sftp(remote) => ImportSource::Sftp(SftpSource {
                server: remote.server.clone(),
                port: remote.port,
                username: remote.username.clone(),
                path: format!("{}/{file}", remote.folder.trim_end_matches('/')),
                saved_key: settings.sftp_saved_key.clone(),
            }),
        }
    }
}

pub(super) fn register_all(
    env: &mut Env<'_>,
    origin: &Origin,
    settings: &ExportSettings,
    batch: &mut Batch,
) -> Result<(), JobError> {
    let base = base_url(env.ctx);
    for i in 0..batch.files.len() {
        let file = &batch.files[i];
        if file.job_id.is_some() || file.outcome.is_some() {
            continue;
        }
        let name = import_name(&file.name).to_owned();
        if file.registering {
            // An earlier run may have registered it and died before saving the job id.
            let listed = call_json(env, &list_import_jobs(base))?;
            if let Some(id) = find_import(&listed, &name) {
                env.info(&format!("{name}: already registered as import job {id}"));
                batch.files[i].job_id = Some(id);
                batch.save(env.state)?;
                continue;
            }
        }
        batch.files[i].registering = true;
        batch.save(env.state)?;
        let source = origin.source(&batch.files[i].name, settings);
        let answer = call_json(env, &create_import(base, &name, &source))?;
        match job_id_of(&answer) {
            Ok(id) => {
                env.info(&format!("{name}: registered as import job {id}"));
                batch.files[i].job_id = Some(id);
            }
            Err(message) => batch.files[i].outcome = Some(FileOutcome::Failed { message }),
        }
        batch.save(env.state)?;
    }
    Ok(())
}
