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

#[path = "common/mod.rs"]
mod common;

use common::{env_usize, host_and_auth, machine, median, run_measuring_rss};
use cordial_emulator::{EmulatorConfig, EmulatorHandle, Seed};
use cordial_host::config;
use cordial_host::db::{Db, NewEvent};
use cordial_host::runtime::{CallContext, RunOutcome, Runtime};
use cordial_jobs::bulk::BulkColumns;
use cordial_jobs::realtime::AttributeTypes;
use cordial_jobs::settings::ExportSettings;
use cordial_sftp::sshd::LocalSshd;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

const API_KEY: &str = "bench-key";

fn member(i: usize) -> String {
    format!(
        r#"{{"email":"member{i}@example.com","first_name":"First {i}","last_name":"Last, \"{i}\"","age":{},"plan":"gold"}}"#,
        i % 97
    )
}

fn config_text(dir: &Path, sshd: &LocalSshd, base_url: &str, extra: &str) -> String {
    format!(
        r#"{auth}
[[job]]
name = "bulk"
kind = "export-bulk"
auth = "cordial"
audience = "bench"
sftp_saved_key = "bench-key"
{extra}
[job.field_mapping]
first_name = "first_name"
last_name = "last_name"
age = "age"
"#,
        auth = host_and_auth(
            &dir.join("store.sqlite"),
            &dir.join("api-key"),
            base_url,
            sshd
        ),
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
    let columns = BulkColumns::new(&settings, "Lytics_bench");
    let types = AttributeTypes::new();
    let mut buffer = Vec::with_capacity(300 * 1024);
    let mut produced = 0;
    for (i, m) in members.iter().enumerate() {
        if i % 30_000 == 0 {
            columns.write_header(&mut buffer);
        }
        columns
            .write_member(&mut buffer, &settings, &types, true, m)
            .unwrap();
        if buffer.len() >= 256 * 1024 {
            produced += buffer.len();
            std::hint::black_box(&buffer);
            buffer.clear();
        }
    }
    produced + buffer.len()
}

/// `cordial-host run` as a separate release process until every file is imported.
fn run_host_process(config: &Path) -> (Duration, f64) {
    run_measuring_rss(
        std::process::Command::new(env!("CARGO_BIN_EXE_cordial-host"))
            .args(["run".as_ref(), config.as_os_str(), "bulk".as_ref()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    )
}

fn main() {
    let members = env_usize("BULK_MEMBERS", 1_000_000);
    let runs = env_usize("BULK_RUNS", 3).max(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sshd = LocalSshd::start().expect("sshd (install openssh-server: ./dev setup)");
    let emulator = rt
        .block_on(cordial_emulator::start(EmulatorConfig {
            api_key: API_KEY.into(),
            seed: Seed::demo(),
            saved_sftp_keys: HashMap::from([("bench-key".to_owned(), sshd.client_key())]),
            ..EmulatorConfig::default()
        }))
        .unwrap();
    let handle = emulator.handle();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api-key"), API_KEY).unwrap();
    let base = emulator.base_url();
    let held = config::parse(&config_text(
        dir.path(),
        &sshd,
        &base,
        "import_deadline_minutes = 0",
    ))
    .unwrap();
    let finishing = config::parse(&config_text(dir.path(), &sshd, &base, "")).unwrap();
    let store = Db::open(&held.store).unwrap();
    let runtime = Runtime::new(held, store.clone()).unwrap();
    let finisher = Runtime::new(finishing, store.clone()).unwrap();
    let job = runtime.config().job("bulk").unwrap().clone();

    println!(
        "bulk export benchmark: {members} members, median of {runs} runs; {}",
        machine()
    );
    let member_json: Vec<String> = (0..members).map(member).collect();
    let (mut wall, mut work, mut native) = (Vec::new(), Vec::new(), Vec::new());
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
            "  run {}: component run {:.2} s (own work {:.2} s, SFTP+store {:.2} s, Cordial {:.2} s); native CSV {:.2} s ({} MB)",
            run + 1,
            stats.total.as_secs_f64(),
            stats.component_work().as_secs_f64(),
            stats.host_io.as_secs_f64(),
            stats.http.as_secs_f64(),
            native_time.as_secs_f64(),
            bytes >> 20
        );
        wall.push(stats.total.as_secs_f64());
        work.push(stats.component_work().as_secs_f64());
        native.push(native_time.as_secs_f64());
    }
    let files = handle.import_jobs().len();
    let wall = median(wall);
    let work = median(work);
    let native = median(native);
    println!("component side (files written over SFTP + imports registered):");
    println!(
        "  {:.0} rows/s, {wall:.2} s for {members} rows ({} files per run)",
        members as f64 / wall,
        files / runs
    );
    println!("CSV generation, component's own work vs the same logic native:");
    println!(
        "  wasm {work:.2} s, native {native:.2} s, ratio {:.2}",
        work / native
    );

    println!(
        "end to end, `cordial-host run` as its own process (until Cordial imported every file):"
    );
    let config_path = dir.path().join("cordial-host.toml");
    std::fs::write(&config_path, config_text(dir.path(), &sshd, &base, "")).unwrap();
    for audience in [members / 10, members] {
        enqueue(&store, audience);
        let (elapsed, peak) = run_host_process(&config_path);
        assert_eq!(store.members_waiting("bulk").unwrap(), 0);
        println!(
            "  {audience} members: {:.2} s, {:.0} rows/s, host peak RSS {peak:.0} MB",
            elapsed.as_secs_f64(),
            audience as f64 / elapsed.as_secs_f64()
        );
    }
    rt.block_on(emulator.shutdown());
}
