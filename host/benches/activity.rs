//! Import Activity of 1,000,000 events (ACTIVITY_EVENTS): Cordial's export (the emulator)
//! writes JSON lines (~300 MB) to a real OpenSSH sshd on loopback; the import-activity
//! component downloads them over SFTP, parses and maps every record and stores it in the
//! `cordial_activity` stream (SQLite, deduplicated by `_id`).
//!
//! Figures, medians of ACTIVITY_RUNS runs (default 3):
//! - component side: the run that imports the exported files (the export itself is made
//!   before, untimed), events/s over the run's wall time;
//! - parse + map: the component's own work (the run minus its waits on SFTP, the store and
//!   Cordial) against the same core logic (`activity::reader` + `RecordMapper`) built natively
//!   over the same files, as a ratio;
//! - end to end: `cordial-host run` as its own release process (export, download, store),
//!   wall time and peak RSS, at a tenth of the events and at all of them: memory must not
//!   grow with the file size.

use chrono::{Duration as Days, Utc};
use cordial_e2e::harness::Harness;
use cordial_e2e::measure::{AgainstNative, env_usize, machine, run_job_measuring_rss};
use cordial_e2e::sftp::{SAVED_KEY, sftp_auth, start_blocking};
use cordial_emulator::EmulatorHandle;
use cordial_host::config;
use cordial_host::db::Db;
use cordial_host::runtime::{CallContext, RunOutcome, Runtime};
use cordial_jobs::activity::reader::records;
use cordial_jobs::activity::record::RecordMapper;
use cordial_sftp::sshd::LocalSshd;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// The `activity` job with its store at `store`, downloading with the saved key, with
/// `extra` settings.
fn config_text(h: &Harness, sshd: &LocalSshd, store: &Path, extra: &str) -> String {
    let job = format!(
        "{sftp}\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         sftp_saved_key = \"{SAVED_KEY}\"\ncompress = false\n\
         custom_actions = [\"browse\", \"cart\", \"custom-purchase\"]\n{extra}\n",
        sftp = sftp_auth(sshd),
    );
    h.config_text_at(store, &job)
}

/// The same core logic as the component's file import, natively: read, parse, map, batch.
fn native_import(files: &[std::path::PathBuf]) -> usize {
    let extra = BTreeMap::new();
    let mapper = RecordMapper::new(&extra);
    let mut mapped = 0;
    let mut batch = Vec::with_capacity(2_000);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let file = std::fs::File::open(path).unwrap();
        for (_, item) in records(&name, file).unwrap() {
            if let Ok(r) = mapper.map(&item.unwrap()) {
                batch.push(r);
            }
            if batch.len() == 2_000 {
                mapped += batch.len();
                std::hint::black_box(&batch);
                batch.clear();
            }
        }
    }
    mapped + batch.len()
}

fn export_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

fn clear(dir: &Path) {
    for f in export_files(dir) {
        std::fs::remove_file(f).unwrap();
    }
}

async fn wait_for_exports(emulator: &EmulatorHandle) {
    for job in emulator.export_jobs() {
        emulator.wait_for_job(job["_id"].as_str().unwrap()).await;
    }
}

fn main() {
    let events = env_usize("ACTIVITY_EVENTS", 1_000_000);
    let runs = env_usize("ACTIVITY_RUNS", 3).max(1);
    let (rt, sshd, h) = start_blocking();
    let handle = h.emulator.handle();
    let now = Utc::now();
    handle.generate_events(events, 1, now - Days::days(6), now - Days::minutes(1));
    println!(
        "activity import benchmark: {events} events generated, median of {runs} runs; {}",
        machine()
    );

    let (mut runs_against_native, mut stored, mut bytes) = (AgainstNative::default(), 0, 0u64);
    for run in 0..runs {
        let store_path = h.dir.path().join(format!("store-{run}.sqlite"));
        let held = config_text(
            &h,
            &sshd,
            &store_path,
            "export_deadline_minutes = 0\nkeep_files = true",
        );
        let runtime = Runtime::new(
            config::parse(&held).unwrap(),
            Db::open(&store_path).unwrap(),
        )
        .unwrap();
        let job = runtime.config().job("activity").unwrap().clone();
        // Compile and link the component before anything is timed.
        rt.block_on(runtime.validate(&job)).unwrap();
        // Untimed: Cordial makes the export while the run waits.
        handle.hold_jobs(true);
        let first = rt.block_on(runtime.run(&job, &CallContext::now())).unwrap();
        assert!(matches!(first, RunOutcome::Failed(_)), "{first:?}");
        handle.hold_jobs(false);
        rt.block_on(wait_for_exports(&handle));
        let files = export_files(&sshd.files_dir());
        bytes = files.iter().map(|f| f.metadata().unwrap().len()).sum();

        let (outcome, stats) = rt
            .block_on(runtime.run_measured(&job, &CallContext::now()))
            .unwrap();
        let RunOutcome::Completed(report) = outcome else {
            panic!("{outcome:?}")
        };
        stored = report.records_written;
        let started = Instant::now();
        let mapped = native_import(&files);
        let native_time = started.elapsed();
        assert_eq!(mapped as u64, stored);
        println!(
            "  run {}: {stored} events stored in {}; native parse+map {:.2} s",
            run + 1,
            runs_against_native.note(&stats, native_time),
            native_time.as_secs_f64()
        );
        clear(&sshd.files_dir());
    }
    let wall = runs_against_native.wall();
    println!(
        "component side (download over SFTP, parse, map, store {stored} selected events, {} MB of JSON lines):",
        bytes >> 20
    );
    println!("  {:.0} events/s, {wall:.2} s", stored as f64 / wall);
    println!("parse + map, component's own work vs the same logic native:");
    println!("  {}", runs_against_native.ratio());

    println!("end to end, `cordial-host run` as its own process (export, download, store):");
    for (i, fraction) in [10usize, 1].into_iter().enumerate() {
        let store_path = h.dir.path().join(format!("e2e-{i}.sqlite"));
        // A window covering a tenth of the events, or all of them.
        let since = if fraction == 1 { 7 } else { 1 };
        let text = config_text(
            &h,
            &sshd,
            &store_path,
            &format!(
                "import_since = \"{}\"",
                (now - Days::days(since)).format("%Y-%m-%d")
            ),
        );
        let path = h.dir.path().join(format!("e2e-{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let (elapsed, peak) = run_job_measuring_rss(&path, "activity");
        let count = Db::open(&store_path)
            .unwrap()
            .stream_count("cordial_activity")
            .unwrap();
        println!(
            "  {count} events: {:.2} s, {:.0} events/s, host peak RSS {peak:.0} MB",
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64()
        );
    }
    rt.block_on(h.emulator.shutdown());
}
