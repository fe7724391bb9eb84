//! Import Activity through Spin against through the bundled host, side by side in one run:
//! the same generated events (BENCH_EVENTS, default 100000, over the last 3 days), exported
//! by the emulator to a real OpenSSH sshd on loopback, downloaded, parsed, mapped and stored
//! in the `cordial_activity` stream. The host runs the job in process (compiled first,
//! untimed) and follows the export within the call; Spin's `/run/import-activity` is called
//! as the scheduler calls it (again once Cordial's export is done), and its adapter reads
//! the files over SSH on `wasi:sockets`. Both times run from the first call until the stream
//! holds every record. Medians of BENCH_RUNS (default 3).

use chrono::{Duration as Days, Utc};
use cordial_e2e::harness::Harness;
use cordial_e2e::measure::{env_usize, machine, median};
use cordial_e2e::sftp::{HomeFolder, SAVED_KEY, harness_for, sftp_auth};
use cordial_e2e::spin::{Deployment, SpinApp, run_to_the_end};
use cordial_host::config;
use cordial_host::db::Db;
use cordial_host::runtime::{CallContext, RunOutcome, Runtime};
use cordial_sftp::sshd::LocalSshd;
use std::time::{Duration, Instant};

/// A harness whose emulator holds the benchmark's events (the same ones every time).
async fn with_events(sshd: &LocalSshd, events: usize) -> Harness {
    let h = harness_for(sshd).await;
    let now = Utc::now();
    h.emulator
        .handle()
        .generate_events(events, 11, now - Days::days(3), now - Days::minutes(1));
    h
}

/// The import through the bundled host: the time and the records stored.
async fn through_host(sshd: &LocalSshd, events: usize) -> anyhow::Result<(Duration, u64)> {
    let h = with_events(sshd, events).await;
    let store = h.dir.path().join("store.sqlite");
    let job = format!(
        "{sftp}\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         sftp_saved_key = \"{SAVED_KEY}\"\n",
        sftp = sftp_auth(sshd),
    );
    let runtime = Runtime::new(
        config::parse(&h.config_text_at(&store, &job))
            .map_err(|problems| anyhow::anyhow!("{problems:?}"))?,
        Db::open(&store)?,
    )?;
    let job = runtime.config().job("activity").unwrap().clone();
    runtime.validate(&job).await?;
    let started = Instant::now();
    let outcome = runtime.run(&job, &CallContext::now()).await?;
    let elapsed = started.elapsed();
    let RunOutcome::Completed(report) = outcome else {
        anyhow::bail!("the host run did not complete: {outcome:?}");
    };
    Ok((elapsed, report.records_written))
}

/// The import through `spin up`: the time and the records stored.
async fn through_spin(sshd: &LocalSshd, events: usize) -> anyhow::Result<(Duration, u64)> {
    let h = with_events(sshd, events).await;
    let folder = HomeFolder::new(&format!("bench-spin-activity-{}", std::process::id()));
    let spin = SpinApp::start(&h, Deployment::default().sftp(sshd, &folder)).await;
    let started = Instant::now();
    let answers = run_to_the_end(&h, &spin, "/run/import-activity", |e| e.export_jobs()).await;
    let elapsed = started.elapsed();
    let (status, last) = answers.last().unwrap();
    anyhow::ensure!(*status == 200, "the Spin run failed: {answers:?}");
    Ok((elapsed, last["records_written"].as_u64().unwrap_or(0)))
}

fn main() -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let events = env_usize("BENCH_EVENTS", 100_000);
        let runs = env_usize("BENCH_RUNS", 3).max(1);
        println!(
            "Import Activity, Spin vs the bundled host — {events} events generated, medians of {runs}; {}",
            machine()
        );
        let sshd = LocalSshd::start().map_err(anyhow::Error::msg)?;
        let (mut hosts, mut spins) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let (host, host_stored) = through_host(&sshd, events).await?;
            let (spin, spin_stored) = through_spin(&sshd, events).await?;
            anyhow::ensure!(
                host_stored == spin_stored,
                "host stored {host_stored}, Spin {spin_stored}"
            );
            println!(
                "  run {run}: {host_stored} records stored; host {:.2} s, spin {:.2} s",
                host.as_secs_f64(),
                spin.as_secs_f64()
            );
            hosts.push((host.as_secs_f64(), host_stored));
            spins.push((spin.as_secs_f64(), spin_stored));
        }
        let stored = hosts[0].1 as f64;
        let host = median(hosts.iter().map(|(s, _)| *s).collect());
        let spin = median(spins.iter().map(|(s, _)| *s).collect());
        println!(
            "  host {:.0} records/s ({host:.2} s) | spin {:.0} records/s ({spin:.2} s) | spin/host throughput {:.2}×",
            stored / host,
            stored / spin,
            host / spin
        );
        anyhow::Ok(())
    })
}
