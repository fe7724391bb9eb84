//! `cordial-host backfill <config> <job> --members <file>`: the "Existing Users" backfill.
//! Streams the member file into the job's queue (real time) or pending members (bulk) as
//! `enter` events, in constant memory whatever the file size, then delivers them through
//! the same path as webhook events: the real-time job's queue workers, or one bulk run.

use super::export_job;
use crate::db::{Db, FileLock, QueueCounts};
use crate::history::{self, DeliveryWindow, Trigger};
use crate::ingress;
use crate::queue::{self, ItemKind, Workers};
use crate::runtime::Runtime;
use cordial_jobs::members::{MemberFormat, MemberReader};
use cordial_jobs::settings::{ExportSettings, JobKind};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Members committed per transaction.
const CHUNK: usize = 1000;
/// Bad rows printed in full; the rest are only counted.
const SHOWN_BAD_ROWS: usize = 20;

pub async fn run(
    path: &Path,
    job_name: &str,
    members: &Path,
    enqueue_only: bool,
) -> anyhow::Result<ExitCode> {
    let (config, job) = export_job(path, job_name)?;
    let format = MemberFormat::from_path(members).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: name the file .ndjson, .jsonl or .csv so its format is known",
            members.display()
        )
    })?;
    let lock = if enqueue_only {
        None
    } else {
        Some(FileLock::delivery(&config.store).map_err(|e| {
            anyhow::anyhow!("{e}; use --enqueue-only to hand the members to the running host")
        })?)
    };
    let store = Db::open(&config.store)?;
    let before = store.queue_counts(&job.name)?;

    let (queued, bad) = {
        let job = job.clone();
        let members = members.to_owned();
        store
            .blocking(move |store| enqueue_file(store, &job, &members, format))
            .await?
    };
    println!(
        "queued {queued} member(s) of `{}` as enter events{}",
        job.name,
        bad_rows_note(bad)
    );
    if enqueue_only {
        return Ok(ExitCode::SUCCESS);
    }
    if job.kind == JobKind::ExportBulk {
        // The bulk export's own run writes the files and registers the imports.
        let _run_lock = crate::db::FileLock::run(&config.store, &job.name)?;
        let runtime = Runtime::new(config, store)?;
        let call = crate::runtime::CallContext::now();
        let outcome = history::recorded_run(&runtime, &job, &call, Trigger::Backfill).await?;
        drop(lock);
        let code = super::run::print_outcome(&job.name, outcome);
        return Ok(if bad == 0 { code } else { ExitCode::FAILURE });
    }

    let runtime = Arc::new(Runtime::new(config, store.clone())?);
    let problems = runtime.validate(&job).await?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("  - {}: {}", p.field, p.message);
        }
        anyhow::bail!(
            "job `{}` has settings problems; the members stay queued",
            job.name
        );
    }
    let grace = runtime.config().shutdown_grace;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let workers = Workers::start(
        runtime,
        job.clone(),
        Arc::new(DeliveryWindow::new(
            &job.name,
            ItemKind::AudienceEvents,
            Trigger::Backfill,
        )),
        Arc::default(),
        Arc::default(),
        stopping,
    );
    let bar = ProgressBar::new(before.pending + queued);
    bar.set_style(ProgressStyle::with_template(
        "delivering {bar:40} {pos}/{len} events  {per_sec}  eta {eta}",
    )?);
    let after = queue::drained(&store, &job.name, |now| {
        bar.set_position(settled_since(&before, now))
    })
    .await?;
    bar.finish_and_clear();
    // Drained: nothing is in flight, the workers only wait for work.
    let _ = stop.send(true);
    workers.stop(tokio::time::Instant::now() + grace).await;
    drop(lock);
    let dead = after.dead - before.dead;
    println!(
        "✓ backfill of `{}`: {} delivered, {dead} dead-lettered{}",
        job.name,
        after.done - before.done,
        if dead > 0 {
            format!(
                " (see `cordial-host dlq list {} {}`)",
                path.display(),
                job.name
            )
        } else {
            String::new()
        }
    );
    Ok(if dead == 0 && bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn settled_since(before: &QueueCounts, now: &QueueCounts) -> u64 {
    (now.done + now.dead).saturating_sub(before.done + before.dead)
}

fn bad_rows_note(bad: u64) -> String {
    if bad == 0 {
        String::new()
    } else {
        format!(
            "; {bad} unreadable row(s) skipped (listed above) — fix them and backfill those rows again"
        )
    }
}

/// Reads the file and commits its members in chunks; returns (queued, bad rows).
fn enqueue_file(
    store: &Db,
    job: &crate::config::JobConfig,
    members: &Path,
    format: MemberFormat,
) -> anyhow::Result<(u64, u64)> {
    let file =
        std::fs::File::open(members).map_err(|e| anyhow::anyhow!("{}: {e}", members.display()))?;
    let size = file.metadata()?.len();
    let settings: ExportSettings = ingress::settings_of(job)?;
    let mut reader = MemberReader::new(std::io::BufReader::new(file), format)
        .map_err(|e| anyhow::anyhow!("{}: {e}", members.display()))?;
    let bar = ProgressBar::new(size);
    bar.set_style(ProgressStyle::with_template(
        "reading   {bar:40} {bytes}/{total_bytes}  {bytes_per_sec}  eta {eta}",
    )?);
    let (mut queued, mut bad, mut row) = (0u64, 0u64, 0u64);
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        let finished = match reader.next() {
            Some(Ok(member)) => {
                row += 1;
                chunk.push(ingress::from_member(&settings, member, row));
                false
            }
            Some(Err(e)) => {
                bad += 1;
                if bad as usize <= SHOWN_BAD_ROWS {
                    bar.suspend(|| eprintln!("  skipped {}: {e}", members.display()));
                }
                false
            }
            None => true,
        };
        if chunk.len() == CHUNK || (finished && !chunk.is_empty()) {
            ingress::store_events(store, job, &chunk)?;
            queued += chunk.len() as u64;
            chunk.clear();
            bar.set_position(reader.bytes_read());
        }
        if finished {
            break;
        }
    }
    bar.finish_and_clear();
    Ok((queued, bad))
}
