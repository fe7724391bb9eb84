//! The demo: the jobs end to end with no Cordial account. Starts the local
//! Cordial emulator (with a week of contact activity) and a throwaway OpenSSH sshd on
//! loopback, writes the embedded config next to a temporary store, checks it, runs Import
//! Activity once (export → SFTP → the `cordial_activity` stream → the platform stand-in's
//! collect API), exports three members in bulk (CSV over SFTP → Contact Imports), then serves
//! the real-time export and posts a webhook batch of audience events to it, the way the
//! platform would, and two activity events the way Cordial's webhook pushes them — real
//! components in the real host, over real HTTP and SFTP.

use cordial_emulator::{EmulatorConfig, Seed};
use cordial_host::commands::check::check_config;
use cordial_host::commands::run::print_outcome;
use cordial_host::config::{self, HostConfig};
use cordial_host::db::Db;
use cordial_host::runtime::{CallContext, Runtime};
use std::process::ExitCode;

const DEMO_CONFIG: &str = include_str!("demo.toml");
const API_KEY: &str = "demo-api-key";
const PLATFORM_KEY: &str = "demo-platform-key";
const PUSH_SECRET: &str = "demo-push-secret";
const ACTIVITY: &str = "cordial_activity";

pub async fn run() -> anyhow::Result<ExitCode> {
    let sshd = cordial_sftp::sshd::LocalSshd::start()
        .map_err(|e| anyhow::anyhow!("the demo's SFTP server: {e}"))?;
    let emulator = cordial_emulator::start(EmulatorConfig {
        api_key: API_KEY.into(),
        seed: Seed::demo(),
        saved_sftp_keys: [("demo-key".to_owned(), sshd.client_key())].into(),
        ..EmulatorConfig::default()
    })
    .await?;
    let platform = platform_standin::start(platform_standin::StandinConfig {
        api_key: PLATFORM_KEY.into(),
        ..Default::default()
    })
    .await?;
    let now = chrono::Utc::now();
    emulator
        .handle()
        .generate_events(2_000, 42, now - chrono::Duration::days(6), now);
    let dir = std::env::temp_dir().join(format!("cordial-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let key_file = dir.join("cordial-api-key");
    std::fs::write(&key_file, API_KEY)?;
    let platform_key_file = dir.join("platform-api-key");
    std::fs::write(&platform_key_file, PLATFORM_KEY)?;
    let push_secret_file = dir.join("cordial-push-secret");
    std::fs::write(&push_secret_file, PUSH_SECRET)?;
    let text = DEMO_CONFIG
        .replace("{store}", &dir.join("store.sqlite").display().to_string())
        .replace("{base_url}", &emulator.base_url())
        .replace("{key_file}", &key_file.display().to_string())
        .replace("{platform_url}", &platform.base_url())
        .replace(
            "{platform_key_file}",
            &platform_key_file.display().to_string(),
        )
        .replace(
            "{push_secret_file}",
            &push_secret_file.display().to_string(),
        )
        .replace("{sftp_port}", &sshd.port().to_string())
        .replace("{sftp_user}", &sshd.user())
        .replace("{sftp_key}", &sshd.client_key().display().to_string())
        .replace("{sftp_folder}", &sshd.files_dir().display().to_string())
        .replace("{sftp_host_key}", sshd.host_fingerprint());
    let config_path = dir.join("cordial-host.toml");
    std::fs::write(&config_path, &text)?;
    println!(
        "▶ Cordial emulator at {} (2,000 activity events over the last 6 days)",
        emulator.base_url()
    );
    println!(
        "▶ OpenSSH sshd on 127.0.0.1:{} (host key {})",
        sshd.port(),
        sshd.host_fingerprint()
    );
    println!(
        "▶ platform stand-in (collect API) at {}",
        platform.base_url()
    );
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

    println!("\n▶ cordial-host run {} activity", config_path.display());
    if run_job(&config, "activity").await? != ExitCode::SUCCESS {
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "\n▶ cordial-host stream {} cordial_activity --tail 2",
        config_path.display()
    );
    let store = Db::open(&config.store)?;
    for record in store.stream_tail(ACTIVITY, 2)? {
        println!("  {record}");
    }
    println!("\n▶ cordial-host forward {}", config_path.display());
    let forwarding = config
        .platform
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the demo's config names no platform to forward to"))?;
    cordial_host::sinks::platform::after_run(forwarding, &config.store, &store).await;
    let imported = store.stream_count(ACTIVITY)? as usize;
    println!(
        "✓ the platform stand-in holds {} {ACTIVITY} record(s)",
        platform.handle().records(ACTIVITY).len()
    );

    println!(
        "\n▶ cordial-host backfill {} vip-bulk --members (3 members)",
        config_path.display()
    );
    let bulk = config.job("vip-bulk").expect("in the demo config");
    let settings: cordial_jobs::settings::ExportSettings =
        cordial_host::ingress::settings_of(bulk)?;
    let members: Vec<_> = ["ann", "bob", "cy"]
        .iter()
        .enumerate()
        .map(|(row, name)| {
            let member =
                serde_json::json!({"email": format!("{name}@example.com"), "first_name": name});
            let serde_json::Value::Object(member) = member else {
                unreachable!()
            };
            cordial_host::ingress::from_member(&settings, member, row as u64 + 1)
        })
        .collect();
    let bulk = bulk.clone();
    store
        .blocking(move |s| cordial_host::ingress::store_events(s, &bulk, &members))
        .await?;
    if run_job(&config, "vip-bulk").await? != ExitCode::SUCCESS {
        return Ok(ExitCode::FAILURE);
    }

    println!(
        "\n▶ cordial-host serve {}  (webhooks → durable queue → delivery)",
        config_path.display()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hooks/vip-realtime", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cordial_host::commands::serve::serve(
        config.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    println!("  POST {hook}  (3 audience events in the platform's default format, batched)");
    println!("  ← {}", post_json(&hook, &sample_webhook(), None).await?);
    let events = hook.replace("/hooks/vip-realtime", "/cordial-events/activity");
    println!("  POST {events}  (2 activity events as Cordial's webhook pushes them)");
    println!(
        "  ← {}",
        post_json(&events, &sample_push(now), Some(PUSH_SECRET)).await?
    );
    let forwarded = platform
        .handle()
        .wait_for_records(ACTIVITY, imported + 2, std::time::Duration::from_secs(60))
        .await?;
    println!(
        "✓ pushed activity forwarded: the platform stand-in holds {} {ACTIVITY} record(s)",
        forwarded.len()
    );
    // The 202 came after the events were committed, so "nothing pending" means delivered.
    let counts = cordial_host::queue::drained(&store, "vip-realtime", |_| {}).await?;
    let _ = stop.send(());
    server.await??;

    println!("\n▶ what Cordial (the emulator) now holds:");
    let handle = emulator.handle();
    for email in ["beth@example.com", "joe@example.com", "ann@example.com"] {
        match handle.contact(&format!("email:{email}")) {
            Some(c) => println!("  {email}: {}", serde_json::to_string(&c)?),
            None => println!("  {email}: (no contact)"),
        }
    }
    emulator.shutdown().await;
    println!(
        "\n✓ demo finished: {} events delivered, {} dead-lettered",
        counts.done, counts.dead
    );
    Ok(if counts.dead == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_job(config: &HostConfig, name: &str) -> anyhow::Result<ExitCode> {
    let runtime = Runtime::new(config.clone(), Db::open(&config.store)?)?;
    let job = config.job(name).expect("in the demo config");
    Ok(print_outcome(
        name,
        runtime.run(job, &CallContext::now()).await?,
    ))
}

/// A minimal HTTP/1.1 JSON POST over a plain TCP socket, with a bearer `secret` if given:
/// the demo plays the platform and Cordial.
async fn post_json(url: &str, body: &str, secret: Option<&str>) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("a local http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut socket = tokio::net::TcpStream::connect(authority).await?;
    let auth = secret
        .map(|s| format!("Authorization: Bearer {s}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}Connection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    socket.read_to_string(&mut response).await?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    Ok(format!("{status} {body}"))
}

/// Three audience events as the platform's Audience Trigger would batch them: Beth and Joe
/// enter `vip_customers`, then Joe exits.
fn sample_webhook() -> String {
    let event = |id: u64, email: &str, kind: &str, fields: &str| {
        format!(
            r#"{{"id":"{id}","data":{{"email":"{email}"{fields},"segment_events":[{{"id":"42976a269a5e6b9d06c681b1c27292df","event":"{kind}","slug":"vip_customers","{kind}":"2026-11-22T12:00:00Z"}}]}},"meta":{{"object":"user","subscription_id":"36e243f8fd8f4530bbd330fa7fb1a685","timestamp":"2026-11-22T12:00:01Z"}}}}"#
        )
    };
    format!(
        "[{},{},{}]",
        event(
            1,
            "Beth@Example.com",
            "enter",
            r#","first_name":"Beth","last_name":"Izzi","city":"Portland""#
        ),
        event(2, "joe@example.com", "enter", r#","first_name":"Joe""#),
        event(3, "joe@example.com", "exit", "")
    )
}

/// Two activity events as Cordial's webhook pushes them in batched mode: the contact, and the
/// event with its action and time under the short names `a` and `ats`.
fn sample_push(now: chrono::DateTime<chrono::Utc>) -> String {
    let at = now.format("%Y-%m-%dT%H:%M:%S+0000");
    let event = |id: &str, action: &str| {
        format!(
            r#"{{"contact":{{"cID":"6554e1d9a91e8e1f2c1c1a01","channels":{{"email":{{"address":"beth@example.com"}}}}}},"event":{{"_id":"{id}","a":"{action}","ats":"{at}","first":1,"mcID":"45:6554e1d9:d261122:1","message_name":"Welcome"}}}}"#
        )
    };
    format!(
        "[{},{}]",
        event("6554e2a0b91e8e1f2c1c1b01", "open"),
        event("6554e2a0b91e8e1f2c1c1b02", "click")
    )
}
