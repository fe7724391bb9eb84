//! `cordial-host demo`: the jobs end to end with no Cordial account. Starts the local
//! Cordial emulator, writes the embedded config next to a temporary store, checks it, runs
//! the Import Activity job once, and delivers a few audience events through the real-time
//! export — real components in the real host, over real HTTP.

use super::check::check_config;
use super::run::print_outcome;
use crate::config;
use crate::runtime::{AudienceEvent, CallContext, Membership, Runtime};
use crate::store::Store;
use cordial_emulator::{EmulatorConfig, Seed};
use std::process::ExitCode;

const DEMO_CONFIG: &str = include_str!("demo.toml");
const API_KEY: &str = "demo-api-key";

pub async fn run() -> anyhow::Result<ExitCode> {
    let emulator = cordial_emulator::start(EmulatorConfig {
        api_key: API_KEY.into(),
        seed: Seed::demo(),
        ..EmulatorConfig::default()
    })
    .await?;
    let dir = std::env::temp_dir().join(format!("cordial-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let key_file = dir.join("cordial-api-key");
    std::fs::write(&key_file, API_KEY)?;
    let text = DEMO_CONFIG
        .replace("{store}", &dir.join("store.sqlite").display().to_string())
        .replace("{base_url}", &emulator.base_url())
        .replace("{key_file}", &key_file.display().to_string());
    let config_path = dir.join("cordial-host.toml");
    std::fs::write(&config_path, &text)?;
    println!("▶ Cordial emulator at {}", emulator.base_url());
    println!("▶ config written to {}", config_path.display());

    let config = config::parse(&text).map_err(|p| anyhow::anyhow!("embedded config: {p:?}"))?;
    println!("\n▶ cordial-host check {}", config_path.display());
    let problems = check_config(config.clone()).await?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("  - {p}");
        }
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "✓ config and job settings are valid (each job's component checked its own settings against Cordial)"
    );

    let store = Store::open(&config.store)?;
    let runtime = Runtime::new(config, store)?;
    let activity = runtime
        .config()
        .job("activity")
        .expect("in the demo config")
        .clone();
    println!("\n▶ cordial-host run {} activity", config_path.display());
    if print_outcome(
        "activity",
        runtime.run(&activity, &CallContext::now()).await?,
    ) != ExitCode::SUCCESS
    {
        return Ok(ExitCode::FAILURE);
    }

    let realtime = runtime
        .config()
        .job("vip-realtime")
        .expect("in the demo config")
        .clone();
    let events = sample_events();
    println!(
        "\n▶ delivering {} audience events to job vip-realtime",
        events.len()
    );
    let outcomes = runtime.deliver(&realtime, &events).await?;
    for (event, outcome) in events.iter().zip(&outcomes) {
        println!("  event {} {:?}: {outcome:?}", event.event_id, event.kind);
    }
    println!("\n▶ what Cordial (the emulator) now holds:");
    let handle = emulator.handle();
    for email in ["beth@example.com", "joe@example.com"] {
        match handle.contact(&format!("email:{email}")) {
            Some(c) => println!("  {email}: {}", serde_json::to_string(&c)?),
            None => println!("  {email}: (no contact)"),
        }
    }
    emulator.shutdown().await;
    let delivered = outcomes
        .iter()
        .filter(|o| matches!(o, crate::runtime::bindings::outcomes::Outcome::Delivered))
        .count();
    println!(
        "\n✓ demo finished: {delivered}/{} events delivered",
        outcomes.len()
    );
    Ok(if delivered == outcomes.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn sample_events() -> Vec<AudienceEvent> {
    let event = |id: u64, kind: Membership, user: &str| AudienceEvent {
        event_id: id,
        audience: "vip_customers".into(),
        kind,
        user: user.into(),
        occurred_at: Some("2026-11-22T12:00:00Z".into()),
    };
    vec![
        event(
            1,
            Membership::Enter,
            r#"{"email":"Beth@Example.com","first_name":"Beth","last_name":"Izzi","city":"Portland"}"#,
        ),
        event(
            2,
            Membership::Enter,
            r#"{"email":"joe@example.com","first_name":"Joe"}"#,
        ),
        event(3, Membership::Exit, r#"{"email":"joe@example.com"}"#),
    ]
}
