//! The real-time export through Spin against through the bundled host, side by side in one
//! run: the same events (each contact enters, then leaves) posted in webhook batches to
//! `cordial-host serve` (release, its own process) and to `spin up` running the composed
//! component, each against its own emulator on loopback, CPU-bound and with 50 ms added to
//! every Cordial response; plus each one's start and first delivered event.
//! Events per scenario: BENCH_EVENTS (default 20000); medians of BENCH_RUNS (default 3).

use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::load::{out_of_order, post_enter_exit};
use cordial_e2e::measure::median;
use cordial_e2e::realtime_job::vip;
use cordial_e2e::spin::{Deployment, RUN_SECRET, SpinApp, WEBHOOK_SECRET};
use std::time::{Duration, Instant};

const AUDIENCE: &str = "vip_customers";

/// Events per second through the host, and its out-of-order count.
async fn through_host(events: usize, latency: Duration) -> anyhow::Result<(f64, usize)> {
    let h = Harness::start().await;
    h.emulator.handle().set_latency(latency);
    let serve = ServeProcess::start(&h, &vip("")).await;
    let store = h.store();
    let started = Instant::now();
    post_enter_exit(&serve.url("/hooks/vip"), &[], AUDIENCE, "host", events / 2).await?;
    loop {
        let counts = store.queue_counts("vip")?;
        if counts.pending == 0 && counts.done + counts.dead == events as u64 {
            anyhow::ensure!(counts.dead == 0, "{} dead letters", counts.dead);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    Ok((rate, out_of_order(&h.emulator.handle(), "host", events / 2)))
}

/// Events per second through Spin (the outbox drained to the end), and its out-of-order count.
async fn through_spin(events: usize, latency: Duration) -> anyhow::Result<(f64, usize)> {
    let h = Harness::start().await;
    h.emulator.handle().set_latency(latency);
    let spin = SpinApp::start(&h, Deployment::default()).await;
    let secret = format!("Bearer {WEBHOOK_SECRET}");
    let started = Instant::now();
    let hook = spin.url("/hooks/export-realtime");
    post_enter_exit(
        &hook,
        &[("authorization", &secret)],
        AUDIENCE,
        "spin",
        events / 2,
    )
    .await?;
    let client = cordial_e2e::http::client();
    while !spin.stored("outbox/export-realtime/batch/").is_empty() {
        let answer: serde_json::Value = client
            .post(spin.url("/run/export-realtime"))
            .bearer_auth(RUN_SECRET)
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(answer["delivery"]["dead_lettered"] == 0, "{answer}");
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    Ok((rate, out_of_order(&h.emulator.handle(), "spin", events / 2)))
}

/// Start to listening, and one event posted until Cordial holds the contact.
async fn cold_start() -> anyhow::Result<[(Duration, Duration); 2]> {
    let event =
        cordial_e2e::audience_events::default_payload(1, "first@x.io", "enter", AUDIENCE, "");
    let first_delivery = |h: &Harness, url: String, headers: Vec<(&'static str, String)>| {
        let (event, emulator) = (event.clone(), h.emulator.handle());
        async move {
            let started = Instant::now();
            let mut request = cordial_e2e::http::client().post(url).body(event);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            anyhow::ensure!(request.send().await?.status().as_u16() == 202);
            while emulator.contact("email:first@x.io").is_none() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            anyhow::Ok(started.elapsed())
        }
    };
    let h = Harness::start().await;
    let started = Instant::now();
    let serve = ServeProcess::start(&h, &vip("")).await;
    let host_start = started.elapsed();
    let host_first = first_delivery(&h, serve.url("/hooks/vip"), vec![]).await?;
    let h = Harness::start().await;
    let started = Instant::now();
    let spin = SpinApp::start(&h, Deployment::default()).await;
    let spin_start = started.elapsed();
    let auth = vec![("authorization", format!("Bearer {WEBHOOK_SECRET}"))];
    let spin_first = first_delivery(&h, spin.url("/hooks/export-realtime"), auth).await?;
    Ok([(host_start, host_first), (spin_start, spin_first)])
}

fn main() -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let events = cordial_e2e::measure::env_usize("BENCH_EVENTS", 20_000);
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        println!("Spin vs the bundled host, real-time export — {cpus} cores; {events} events per scenario");
        let [(host_start, host_first), (spin_start, spin_first)] = cold_start().await?;
        println!(
            "  start to listening: host {:.0} ms, spin {:.0} ms | first event delivered: host {:.1} ms, spin {:.1} ms",
            host_start.as_secs_f64() * 1e3,
            spin_start.as_secs_f64() * 1e3,
            host_first.as_secs_f64() * 1e3,
            spin_first.as_secs_f64() * 1e3
        );
        let runs = cordial_e2e::measure::env_usize("BENCH_RUNS", 3);
        for (label, latency) in [("CPU-bound", 0), ("50 ms per Cordial response", 50)] {
            let latency = Duration::from_millis(latency);
            let (mut hosts, mut spins, mut disorder) = (Vec::new(), Vec::new(), 0);
            for _ in 0..runs {
                let (host, host_disorder) = through_host(events, latency).await?;
                let (spin, spin_disorder) = through_spin(events, latency).await?;
                hosts.push(host);
                spins.push(spin);
                disorder += host_disorder + spin_disorder;
            }
            let (host, spin) = (median(hosts), median(spins));
            println!(
                "  {label:<28} host {host:>7.0} events/s | spin {spin:>7.0} events/s | spin/host {:.2}× (medians of {runs}) | out of order: {disorder}",
                spin / host
            );
        }
        anyhow::Ok(())
    })
}
