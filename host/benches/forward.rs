//! Activity to the platform: how fast the host forwards a stream to the platform's collect
//! API, and how fast it takes Cordial's activity pushes.
//!
//! - Forwarding: FORWARD_RECORDS (default 200,000) activity records already in the store,
//!   sent by `cordial-host forward` (the release binary, its own process) to the platform
//!   stand-in on loopback (in this process, on the same 2 cores), once through `collect/json`
//!   batches of 1,000 and once through `collect/bulk`; records/s over the command's wall
//!   time, and its peak RSS.
//! - Push intake: PUSH_EVENTS (default 100,000) events in Cordial's batched webhook shape,
//!   100 per request from 4 posters, to `cordial-host serve`'s `/cordial-events/activity`;
//!   every answer is a `202` given after the events were committed to SQLite, so events/s
//!   is the durable intake rate. Peak RSS of the serving host.
//!
//! Medians of FORWARD_RUNS runs (default 3), each on a fresh store.

use cordial_e2e::activity::{STREAM, append_records, stream_record};
use cordial_e2e::cli::host_binary;
use cordial_e2e::measure::{env_usize, machine, median, peak_rss_mb, run_measuring_rss};
use cordial_e2e::sftp::{SAVED_KEY, sftp_auth, start_blocking};
use cordial_host::db::Db;
use platform_standin::{Endpoint, StandinConfig};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const PLATFORM_KEY: &str = "bench-platform-key";
const SECRET: &str = "bench-push-secret";
/// Events per push request: Cordial's batched mode.
const PUSH_BATCH: usize = 100;
const POSTERS: usize = 4;

/// A fresh store in `dir` holding `records` activity records.
fn fill(dir: &Path, records: usize) -> anyhow::Result<()> {
    let store = Db::open(&dir.join("store.sqlite"))?;
    for first in (0..records).step_by(10_000) {
        let chunk: Vec<String> = (first..(first + 10_000).min(records))
            .map(stream_record)
            .collect();
        append_records(&store, &chunk);
    }
    Ok(())
}

/// One `cordial-host forward` of `records` records with `platform` settings: (records/s,
/// peak MiB).
fn forward_once(
    rt: &tokio::runtime::Runtime,
    records: usize,
    settings: &str,
    endpoint: Endpoint,
) -> anyhow::Result<(f64, f64)> {
    let standin = rt.block_on(platform_standin::start(StandinConfig {
        api_key: PLATFORM_KEY.into(),
        ..StandinConfig::default()
    }))?;
    let dir = tempfile::tempdir()?;
    fill(dir.path(), records)?;
    std::fs::write(dir.path().join("platform-key"), PLATFORM_KEY)?;
    let config = dir.path().join("forward.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\nstore = \"{}\"\n[host.platform]\nbase_url = \"{}\"\napi_key_file = \"{}\"\n{settings}\n",
            dir.path().join("store.sqlite").display(),
            standin.base_url(),
            dir.path().join("platform-key").display(),
        ),
    )?;
    let (wall, peak) = run_measuring_rss(
        Command::new(host_binary())
            .arg("forward")
            .arg(&config)
            .env("CORDIAL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let handle = standin.handle();
    anyhow::ensure!(
        handle.records(STREAM).len() == records,
        "the platform holds {} of {records} records",
        handle.records(STREAM).len()
    );
    anyhow::ensure!(
        handle.requests().iter().all(|r| r.endpoint == endpoint),
        "not all through {endpoint:?}"
    );
    rt.block_on(standin.shutdown());
    Ok((records as f64 / wall.as_secs_f64(), peak))
}

/// `events` events in Cordial's push shape, `PUSH_BATCH` per request, posted by `POSTERS`
/// at once to `url`; every answer must be `202`.
async fn post_pushes(url: &str, events: usize) -> anyhow::Result<()> {
    let client = cordial_e2e::http::client();
    let mut posters = tokio::task::JoinSet::new();
    for poster in 0..POSTERS {
        let (client, url) = (client.clone(), url.to_owned());
        posters.spawn(async move {
            let mut first = poster * PUSH_BATCH;
            while first < events {
                let batch: Vec<serde_json::Value> = (first..(first + PUSH_BATCH).min(events))
                    .map(|i| {
                        json!({
                            "contact": {"cID": format!("{i:024x}"),
                                        "channels": {"email": {"address": format!("p{i}@example.com")}}},
                            "event": {"_id": format!("e{i:023x}"), "a": "open",
                                      "ats": "2026-12-01T10:00:00+0000", "first": 1,
                                      "mcID": format!("45:65a0:d261122:{i:024x}:1"),
                                      "message_name": "Winter sale"}
                        })
                    })
                    .collect();
                let response = client
                    .post(&url)
                    .header("authorization", format!("Bearer {SECRET}"))
                    .json(&batch)
                    .send()
                    .await?;
                anyhow::ensure!(response.status() == 202, "answered {}", response.status());
                first += POSTERS * PUSH_BATCH;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = posters.join_next().await {
        done??;
    }
    Ok(())
}

/// One `cordial-host serve` taking `events` pushes: (events/s, peak MiB).
fn intake_once(
    rt: &tokio::runtime::Runtime,
    job_config: &dyn Fn(&Path) -> String,
    events: usize,
) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    std::fs::write(dir.path().join("secret"), SECRET)?;
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        job_config(dir.path()).replacen(
            "[host]\n",
            &format!("[host]\nlisten = \"127.0.0.1:{port}\"\n"),
            1,
        ),
    )?;
    let mut host = Command::new(host_binary())
        .arg("serve")
        .arg(&config)
        .env("CORDIAL_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let pid = host.id();
    let seconds = rt.block_on(async {
        cordial_e2e::http::wait_until_up(&format!("127.0.0.1:{port}")).await;
        let started = Instant::now();
        post_pushes(
            &format!("http://127.0.0.1:{port}/cordial-events/activity"),
            events,
        )
        .await?;
        anyhow::Ok(started.elapsed().as_secs_f64())
    })?;
    let peak = peak_rss_mb(pid).unwrap_or(f64::NAN);
    host.kill()?;
    host.wait()?;
    let stored = Db::open(&dir.path().join("store.sqlite"))?.stream_count(STREAM)?;
    anyhow::ensure!(
        stored == events as u64,
        "{stored} of {events} events stored"
    );
    Ok((events as f64 / seconds, peak))
}

fn main() -> anyhow::Result<()> {
    let records = env_usize("FORWARD_RECORDS", 200_000);
    let events = env_usize("PUSH_EVENTS", 100_000);
    let runs = env_usize("FORWARD_RUNS", 3);
    let (rt, sshd, h) = start_blocking();
    println!("forwarding and push intake, {}", machine());

    for (label, settings, endpoint) in [
        (
            "collect/json, batches of 1,000",
            "batch_size = 1000\nbulk_after = 100000000",
            Endpoint::Json,
        ),
        ("collect/bulk", "bulk_after = 1", Endpoint::Bulk),
    ] {
        let (mut rates, mut peaks) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (rate, peak) = forward_once(&rt, records, settings, endpoint.clone())?;
            println!(
                "  forward {records} records via {label}: {rate:.0} records/s, peak RSS {peak:.0} MiB"
            );
            rates.push(rate);
            peaks.push(peak);
        }
        println!(
            "forward via {label}: median {:.0} records/s, peak RSS {:.0} MiB",
            median(rates),
            median(peaks)
        );
    }

    let job_config = |dir: &Path| {
        h.config_text_at(
            &dir.join("store.sqlite"),
            &format!(
                "{sftp}\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
                 sftp_saved_key = \"{SAVED_KEY}\"\n[job.webhook]\nsecret_file = \"{}\"\n",
                dir.join("secret").display(),
                sftp = sftp_auth(&sshd),
            ),
        )
    };
    let (mut rates, mut peaks) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (rate, peak) = intake_once(&rt, &job_config, events)?;
        println!(
            "  push intake of {events} events: {rate:.0} events/s durable, peak RSS {peak:.0} MiB"
        );
        rates.push(rate);
        peaks.push(peak);
    }
    println!(
        "push intake ({PUSH_BATCH} per request, {POSTERS} posters): median {:.0} events/s durable, peak RSS {:.0} MiB",
        median(rates),
        median(peaks)
    );
    Ok(())
}
