//! Real-time export throughput: enter/exit events posted to `cordial-host serve` (the
//! release binary, as a separate process) in webhook batches and delivered to the Cordial
//! emulator on loopback, until the queue is empty.
//!
//! - CPU-bound: the emulator answers at once.
//! - Latency-bound: the emulator adds 50 ms to every response, like a WAN round trip; at
//!   the default settings (8 component calls, at most 128 requests in flight) and at the
//!   former default of 32, against the naive baseline of one sequential request per event
//!   measured in the same run.
//!
//! - Rate-limited: the emulator allows 1,000 requests/s per endpoint; the host at its
//!   defaults must learn the limit from Cordial's 429s and converge near it
//!   (BENCH_LIMITED_EVENTS events, default 60000).
//!
//! Every contact gets an enter then an exit; afterwards no contact may still be in the list,
//! which checks per-contact ordering. Events per run: BENCH_EVENTS (default 100000).

use cordial_e2e::cli::host_binary;
use cordial_e2e::harness::components_dir;
use cordial_e2e::load::{BATCH, POSTERS, out_of_order, post_enter_exit};
use cordial_e2e::measure::{env_usize, peak_rss_mb, run_measuring_rss};
use cordial_emulator::{EmulatorConfig, EmulatorHandle, RateLimit, Seed};
use cordial_host::db::Db;
use std::process::Stdio;
use std::time::{Duration, Instant};

const API_KEY: &str = "bench-key";

struct Figures {
    events: usize,
    seconds: f64,
    peak_rss_mb: f64,
    overhead_median_us: u64,
    work_per_event_us: u64,
    out_of_order: usize,
}

async fn scenario(
    emulator: &EmulatorHandle,
    base_url: &str,
    label: &str,
    events: usize,
    max_in_flight: Option<u32>,
) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("key"), API_KEY)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let components = components_dir();
    let delivery = max_in_flight
        .map(|n| format!("[job.delivery]\nmax_in_flight = {n}\n"))
        .unwrap_or_default();
    let config = format!(
        "[host]\nlisten = \"127.0.0.1:{port}\"\nstore = \"{}\"\ncomponents_dir = \"{}\"\n\
         [auth.cordial]\nbase_url = \"{base_url}\"\napi_key_file = \"{}\"\n\
         [[job]]\nname = \"bench\"\nkind = \"export-realtime\"\nauth = \"cordial\"\naudience = \"bench\"\n\
         list = \"newsletter\"\n[job.field_mapping]\nfirst_name = \"first_name\"\n{delivery}",
        dir.path().join("store.sqlite").display(),
        components.display(),
        dir.path().join("key").display()
    );
    let config_path = dir.path().join("bench.toml");
    std::fs::write(&config_path, config)?;
    let mut host = tokio::process::Command::new(host_binary())
        .arg("serve")
        .arg(&config_path)
        .env("CORDIAL_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = host.id().unwrap_or(0);
    let client = cordial_e2e::http::client();
    let hook = format!("http://127.0.0.1:{port}/hooks/bench");
    cordial_e2e::http::wait_until_up(&format!("127.0.0.1:{port}")).await;

    let contacts = events / 2;
    let started = Instant::now();
    post_enter_exit(&hook, &[], "bench", label, contacts).await?;
    let store = Db::open(&dir.path().join("store.sqlite"))?;
    loop {
        let counts = store.queue_counts("bench")?;
        if counts.pending == 0 && counts.done + counts.dead == events as u64 {
            anyhow::ensure!(
                counts.dead == 0,
                "{} events were dead-lettered",
                counts.dead
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let metrics: serde_json::Value = client
        .get(format!("http://127.0.0.1:{port}/metrics.json"))
        .send()
        .await?
        .json()
        .await?;
    let peak = peak_rss_mb(pid).unwrap_or(f64::NAN);
    host.start_kill()?;
    host.wait().await?;
    let out_of_order = out_of_order(emulator, label, contacts);
    Ok(Figures {
        events,
        seconds,
        peak_rss_mb: peak,
        overhead_median_us: metrics["jobs"]["bench"]["host_overhead_us_per_call"]["median"]
            .as_u64()
            .unwrap_or(0),
        work_per_event_us: metrics["jobs"]["bench"]["in_call_work_us_per_event"]["median"]
            .as_u64()
            .unwrap_or(0),
        out_of_order,
    })
}

/// What hosted peers do: one request per event, one after another.
async fn naive_baseline(base_url: &str, events: usize) -> anyhow::Result<f64> {
    let client = cordial_e2e::http::client();
    let started = Instant::now();
    for i in 0..events {
        let body = serde_json::json!({"channels": {"email": {"address": format!("naive-{i}@example.com")}}, "newsletter": true});
        let status = client
            .post(format!("{base_url}/v2/contacts"))
            .basic_auth(API_KEY, Some(""))
            .json(&body)
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "baseline request failed: {status}");
    }
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

/// Peak RSS of the host streaming a member file into its queue (`backfill --enqueue-only`):
/// it should not grow with the file.
fn backfill_peak_rss_mb(members: usize) -> anyhow::Result<f64> {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("members.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    for i in 0..members {
        writeln!(
            out,
            r#"{{"email":"member-{i}@example.com","first_name":"Member {i}","score":{i}}}"#
        )?;
    }
    out.flush()?;
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[host]\nstore = \"{}\"\n[auth.cordial]\nbase_url = \"http://127.0.0.1:9\"\napi_key_env = \"UNUSED\"\n\
             [[job]]\nname = \"bench\"\nkind = \"export-realtime\"\nauth = \"cordial\"\naudience = \"bench\"\n",
            dir.path().join("store.sqlite").display()
        ),
    )?;
    let (_, peak) = run_measuring_rss(
        std::process::Command::new(host_binary())
            .arg("backfill")
            .arg(&config)
            .args(["bench", "--enqueue-only", "--members"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    Ok(peak)
}

/// The emulator allows ALLOWED requests/s per endpoint (a token bucket as deep as one
/// second); the host at its defaults learns the limit from the 429s. Requests/s achieved
/// against allowed, over the whole run and its second half, and 429s per minute.
async fn rate_limited(emulator: &EmulatorHandle, base: &str, events: usize) -> anyhow::Result<()> {
    const ALLOWED: f64 = 1_000.0;
    emulator.set_rate_limit(Some(RateLimit {
        requests_per_second: ALLOWED,
        burst: ALLOWED as u32,
    }));
    let marker = Instant::now();
    let figures = scenario(emulator, base, "limited", events, None).await?;
    emulator.set_rate_limit(None);
    let requests: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.received_at >= marker && r.path.starts_with("/v2/contacts"))
        .collect();
    let (Some(first), Some(last)) = (requests.first(), requests.last()) else {
        anyhow::bail!("no requests reached the emulator");
    };
    let (start, end) = (first.received_at, last.received_at);
    let rate = |from: Instant| {
        let ok = requests
            .iter()
            .filter(|r| r.received_at >= from && r.fault_status.is_none())
            .count();
        ok as f64 / (end - from).as_secs_f64().max(1e-9)
    };
    let half = start + (end - start) / 2;
    let refused: Vec<Instant> = requests
        .iter()
        .filter(|r| r.fault_status == Some(429))
        .map(|r| r.received_at)
        .collect();
    // The first burst: what the host sent before it knew of any limit.
    let first_burst = refused.first().map_or(0, |t0| {
        refused
            .iter()
            .filter(|t| **t < *t0 + Duration::from_secs(1))
            .count()
    });
    let later = refused.len() - first_burst;
    let minutes = (end - start).as_secs_f64() / 60.0;
    report(
        &format!("rate-limited to {ALLOWED:.0} req/s, defaults"),
        &figures,
    );
    println!(
        "  achieved {:.0} req/s = {:.2} of allowed (second half {:.0} req/s = {:.2}); 429s: {first_burst} in the first burst, then {later} = {:.1} per minute",
        rate(start),
        rate(start) / ALLOWED,
        rate(half),
        rate(half) / ALLOWED,
        later as f64 / minutes
    );
    Ok(())
}

fn report(label: &str, f: &Figures) {
    println!(
        "  {label:<40} {:>7} events in {:>6.1} s = {:>6.0} events/s | host overhead/call {:>4} µs | in-call work/event {:>4} µs | host peak RSS {:>4.0} MiB | out of order: {}",
        f.events,
        f.seconds,
        f.events as f64 / f.seconds,
        f.overhead_median_us,
        f.work_per_event_us,
        f.peak_rss_mb,
        f.out_of_order
    );
}

fn main() -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let emulator = cordial_emulator::start(EmulatorConfig {
            api_key: API_KEY.into(),
            seed: Seed::demo(),
            ..EmulatorConfig::default()
        })
        .await?;
        let (handle, base) = (emulator.handle(), emulator.base_url());
        let big = env_usize("BENCH_EVENTS", 100_000);
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        println!("real-time export benchmark — {cpus} cores; batches of {BATCH} events from {POSTERS} posters");

        let cpu = scenario(&handle, &base, "cpu", big, None).await?;
        report("CPU-bound, default settings", &cpu);

        handle.set_latency(Duration::from_millis(50));
        let baseline = naive_baseline(&base, 100).await?;
        println!("  {:<44} {baseline:>7.1} events/s (one sequential request per event, 100 events)", "naive baseline, 50 ms latency");
        let default = scenario(&handle, &base, "slow128", big, None).await?;
        report("50 ms latency, default (128 in flight)", &default);
        let narrow = scenario(&handle, &base, "slow32", big, Some(32)).await?;
        report("50 ms latency, 32 in flight", &narrow);
        println!(
            "  speed-up over the naive baseline: {:.1}× at the default settings, {:.1}× at 32 in flight",
            default.events as f64 / default.seconds / baseline,
            narrow.events as f64 / narrow.seconds / baseline
        );
        handle.set_latency(Duration::ZERO);
        rate_limited(&handle, &base, env_usize("BENCH_LIMITED_EVENTS", 60_000)).await?;
        emulator.shutdown().await;

        let small = backfill_peak_rss_mb(big)?;
        let large = backfill_peak_rss_mb(big * 10)?;
        println!(
            "  backfill (--enqueue-only), host peak RSS: {big} members {small:.0} MiB, {} members {large:.0} MiB",
            big * 10
        );
        anyhow::Ok(())
    })
}
