//! One call of the Export Audiences (Bulk) job: resume or start a batch, write its files,
//! register their imports, follow them one poll round per call, and acknowledge the members
//! once every file is in Cordial.
//!
//! Every step is saved in the batch's state before the next begins, so a call that dies
//! anywhere is resumed by the next one, and a call that finds Cordial still importing
//! returns [`Progress::Waiting`] instead of sleeping.

mod files;
mod finish;
mod follow;
mod register;
#[cfg(test)]
mod tests;

use super::BulkColumns;
use super::batch::Batch;
use crate::cordial::{CordialClient, attribute_types, audience_list_name, ensure_list};
use crate::job::{JobError, Progress, RunContext};
use crate::ports::{Env, Files, Members};
use crate::realtime::{AttributeTypes, typed_targets};
use crate::scheduled::Checkpoint;
use crate::scheduled::patient;
use crate::settings::{self, ExportSettings, JobKind};
use std::ops::ControlFlow;

/// Runs the job as far as it can go in one call.
pub fn run(
    env: &mut Env<'_>,
    files: &mut dyn Files,
    members: &mut dyn Members,
) -> Result<Progress, JobError> {
    let settings: ExportSettings = settings::read(JobKind::ExportBulk, env.config)?;
    let list = settings
        .list
        .clone()
        .unwrap_or_else(|| audience_list_name(&settings.audience));
    let origin = register::Origin::of(files).map_err(|e| JobError::from_files("connecting", e))?;
    let mut batch = match Batch::load(env.state)? {
        Some(batch) => {
            env.info(&format!(
                "resuming batch {} ({} file(s) so far)",
                batch.id,
                batch.files.len()
            ));
            batch
        }
        None => {
            let up_to = members
                .high_water()
                .map_err(|e| JobError::from_port("reading the pending members", e))?;
            if up_to == 0 {
                let nothing = "no pending members; nothing to export".to_owned();
                return Ok(Progress::Finished(finish::report(env, 0, 0, 0, nothing)));
            }
            let batch = Batch::new(batch_id(env.ctx), up_to);
            batch.save(env.state)?;
            batch
        }
    };
    if !batch.written {
        let types = prepare_account(env, &settings, &list)?;
        let columns = BulkColumns::new(&settings, &list, &types);
        files::write_all(env, files, members, &columns, &mut batch)?;
    }
    register::register_all(env, &origin, &settings, &mut batch)?;
    if let ControlFlow::Break(waiting) = follow::poll_round(env, &settings, &mut batch)? {
        return Ok(waiting);
    }
    finish::finish(env, files, members, &settings, &batch).map(Progress::Finished)
}

/// Makes sure the list exists and returns the types of the mapped attributes, both
/// remembered in the job's state.
fn prepare_account(
    env: &mut Env<'_>,
    settings: &ExportSettings,
    list: &str,
) -> Result<AttributeTypes, JobError> {
    let mut client = CordialClient::new(
        &env.ctx.cordial_base_url,
        patient(&mut *env.http, &mut *env.clock),
    );
    ensure_list(&mut client, &mut *env.state, &mut *env.log, list)
        .map_err(|e| JobError::from_cordial(&e))?;
    attribute_types(
        &mut client,
        &mut *env.state,
        &env.ctx.started_at,
        &typed_targets(settings),
    )
    .map_err(|e| JobError::from_cordial(&e))
}

/// `20261122T030000Z-1a2b`: the run's start time, readable in file names, plus a piece of
/// the run id so two batches never share a name.
fn batch_id(ctx: &RunContext) -> String {
    let stamp: String = ctx
        .started_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let tail: String = ctx
        .run_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .rev()
        .take(6)
        .collect();
    format!("{stamp}Z-{tail}")
}
