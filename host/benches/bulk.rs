//! Bulk export of 1,000,000 audience members (BULK_MEMBERS), end to end: pending members in
//! the SQLite store → the export-bulk component → CSV files over SFTP to a real OpenSSH sshd
//! on loopback → imports registered with the Cordial emulator, which fetches and applies them.
//!
//! Figures, each a median of BULK_RUNS runs (default 3):
//! - component side: the run that writes every file and registers the imports (the emulator
//!   holds the imports so their processing is not counted), rows/s over the run's wall time;
//! - CSV generation: the component's own work (the run minus its waits on SFTP, the store
//!   and Cordial) against the same core logic (`BulkColumns::write_member` over the same
//!   member JSON) built natively, as a ratio;
//! - end to end: `cordial-host run` as its own (release) process, until Cordial has imported
//!   every file: wall time, rows/s and the process's peak RSS, at a tenth of the audience and
//!   at the full audience, to show that memory does not grow with the audience.

use cordial_e2e::measure::{AgainstNative, env_usize, machine, run_job_measuring_rss};
use cordial_e2e::sftp::{SAVED_KEY, sftp_auth, start_blocking};
use cordial_emulator::EmulatorHandle;
use cordial_host::db::{Db, NewEvent};
use cordial_host::runtime::{CallContext, RunOutcome, Runtime};
use cordial_jobs::bulk::BulkColumns;
use cordial_jobs::cordial::AttributeType;
use cordial_jobs::realtime::AttributeTypes;
use cordial_jobs::settings::ExportSettings;
use cordial_sftp::sshd::LocalSshd;
use std::time::Instant;

fn member(i: usize) -> String {
    format!(
        r#"{{"email":"member{i}@example.com","first_name":"First {i}","last_name":"Last, \"{i}\"","age":{},"plan":"gold"}}"#,
        i % 97
    )
}

/// The `bulk` job uploading with the saved key, with `extra` settings.
fn bulk_job(sshd: &LocalSshd, extra: &str) -> String {
    format!(
        "{sftp}\n[[job]]\nname = \"bulk\"\nkind = \"export-bulk\"\nauth = \"cordial\"\n\
         audience = \"bench\"\nsftp_saved_key = \"{SAVED_KEY}\"\n{extra}\n\
         [job.field_mapping]\nfirst_name = \"first_name\"\nlast_name = \"last_name\"\nage = \"age\"\n",
        sftp = sftp_auth(sshd),
    )
}

fn enqueue(store: &Db, members: usize) {
    let mut chunk = Vec::with_capacity(10_000);
    for i in 0..members {
        chunk.push(NewEvent {
            contact: format!("member{i}@example.com"),
            audience: "bench".into(),
            kind: "enter".into(),
            user: member(i),
            occurred_at: None,
            source: "backfill",
        });
        if chunk.len() == 10_000 || i + 1 == members {
            store.add_members("bulk", &chunk).unwrap();
            chunk.clear();
        }
    }
}

async fn wait_for_imports(emulator: &EmulatorHandle) {
    for job in emulator.import_jobs() {
        let id = job["_id"].as_str().unwrap().to_owned();
        emulator.wait_for_job(&id).await;
    }
}

/// The same core logic as the component's file writer, natively: parse each member, write
/// its row, hand the buffer off every 256 KiB. Returns the bytes produced.
fn native_csv(members: &[String]) -> usize {
    let settings: ExportSettings = cordial_jobs::settings::typed(
        cordial_jobs::settings::JobKind::ExportBulk,
        &serde_json::json!({
            "audience": "bench",
            "field_mapping": {"first_name": "first_name", "last_name": "last_name", "age": "age"}
        }),
    )
    .unwrap();
    // The types the emulator's account gives these attributes, as the component reads them.
    let types: AttributeTypes = [
        ("first_name".to_owned(), AttributeType::String),
        ("last_name".to_owned(), AttributeType::String),
        ("age".to_owned(), AttributeType::Number),
    ]
    .into();
    let columns = BulkColumns::new(&settings, "Lytics_bench", &types);
    let mut buffer = Vec::with_capacity(300 * 1024);
    let mut produced = 0;
    for (i, m) in members.iter().enumerate() {
        if i % 30_000 == 0 {
            columns.write_header(&mut buffer);
        }
        columns.write_member(&mut buffer, true, m).unwrap();
        if buffer.len() >= 256 * 1024 {
            produced += buffer.len();
            std::hint::black_box(&buffer);
            buffer.clear();
        }
    }
    produced + buffer.len()
}

fn main() {
    let members = env_usize("BULK_MEMBERS", 1_000_000);
    let runs = env_usize("BULK_RUNS", 3).max(1);
    let (rt, sshd, h) = start_blocking();
    let handle = h.emulator.handle();
    let held = h.config(&bulk_job(&sshd, "import_deadline_minutes = 0"));
    let finishing = h.config(&bulk_job(&sshd, ""));
    let store = Db::open(&held.store).unwrap();
    let runtime = Runtime::new(held, store.clone()).unwrap();
    let finisher = Runtime::new(finishing, store.clone()).unwrap();
    let job = runtime.config().job("bulk").unwrap().clone();

    println!(
        "bulk export benchmark: {members} members, median of {runs} runs; {}",
        machine()
    );
    let member_json: Vec<String> = (0..members).map(member).collect();
    // Compile and link the component before anything is timed: a first call's compilation
    // is the cold-start figure (overhead benchmark), not the job's own work.
    rt.block_on(runtime.validate(&job)).unwrap();
    let mut runs_against_native = AgainstNative::default();
    for run in 0..runs {
        enqueue(&store, members);
        handle.hold_jobs(true);
        let (outcome, stats) = rt
            .block_on(runtime.run_measured(&job, &CallContext::now()))
            .unwrap();
        assert!(
            matches!(outcome, RunOutcome::Failed(_)),
            "the held imports should still be running"
        );
        handle.hold_jobs(false);
        rt.block_on(wait_for_imports(&handle));
        let done = rt
            .block_on(finisher.run(&job, &CallContext::now()))
            .unwrap();
        assert!(matches!(done, RunOutcome::Completed(_)), "{done:?}");
        assert_eq!(store.members_waiting("bulk").unwrap(), 0);

        let started = Instant::now();
        let bytes = native_csv(&member_json);
        let native_time = started.elapsed();
        println!(
            "  run {}: component run {}; native CSV {:.2} s ({} MB)",
            run + 1,
            runs_against_native.note(&stats, native_time),
            native_time.as_secs_f64(),
            bytes >> 20
        );
    }
    let files = handle.import_jobs().len();
    let wall = runs_against_native.wall();
    println!("component side (files written over SFTP + imports registered):");
    println!(
        "  {:.0} rows/s, {wall:.2} s for {members} rows ({} files per run)",
        members as f64 / wall,
        files / runs
    );
    println!("CSV generation, component's own work vs the same logic native:");
    println!("  {}", runs_against_native.ratio());

    println!(
        "end to end, `cordial-host run` as its own process (until Cordial imported every file):"
    );
    let config_path = h.config_file(&bulk_job(&sshd, ""));
    for audience in [members / 10, members] {
        enqueue(&store, audience);
        // `cordial-host run` as a separate release process until every file is imported.
        let (elapsed, peak) = run_job_measuring_rss(&config_path, "bulk");
        assert_eq!(store.members_waiting("bulk").unwrap(), 0);
        println!(
            "  {audience} members: {:.2} s, {:.0} rows/s, host peak RSS {peak:.0} MB",
            elapsed.as_secs_f64(),
            audience as f64 / elapsed.as_secs_f64()
        );
    }
    rt.block_on(h.emulator.shutdown());
}
