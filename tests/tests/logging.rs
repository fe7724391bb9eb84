//! What the host logs: denied requests are logged with their destination, job log lines
//! carry the job and run (as text, and as JSON lines from the binary), and the API key
//! never appears in any line, whatever happens.

use base64::Engine as _;
use cordial_e2e::harness::{API_KEY, Harness, components_dir};
use cordial_host::runtime::CallContext;
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Collects every log line of this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn denials_are_logged_and_secrets_never_are() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace,wasmtime=info,cranelift=info")
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let h = Harness::start().await;
    let fixture = components_dir().join("misbehaving.wasm");
    let wrong_key = h.dir.path().join("wrong-key");
    std::fs::write(&wrong_key, format!("{API_KEY}-wrong")).unwrap();
    let runtime = h.runtime(&format!(
        "[[job]]\nname = \"rogue\"\nkind = \"import-activity\"\nauth = \"cordial\"\ncomponent = \"{}\"\n\
         action = \"fetch\"\nurl = \"http://127.0.0.1:9/elsewhere\"\n\n\
         [[job]]\nname = \"vip\"\nkind = \"export-realtime\"\nauth = \"cordial\"\naudience = \"vip\"\n\n\
         [[job]]\nname = \"stale\"\nkind = \"export-realtime\"\nauth = \"stale\"\naudience = \"vip\"\n\n\
         [auth.stale]\nbase_url = \"{}\"\napi_key_file = \"{}\"\n",
        fixture.display(),
        h.emulator.base_url(),
        wrong_key.display()
    ));
    let job = |name: &str| runtime.config().job(name).unwrap().clone();
    runtime
        .run(&job("rogue"), &CallContext::now())
        .await
        .unwrap();
    runtime.validate(&job("vip")).await.unwrap();
    let events = [AudienceEvent {
        event_id: 1,
        audience: "vip".into(),
        kind: Membership::Enter,
        user: r#"{"email":"a@example.com"}"#.into(),
        occurred_at: None,
    }];
    runtime.deliver(&job("vip"), &events).await.unwrap();
    // A wrong key makes Cordial answer 401, the path most likely to echo credentials.
    let refused = runtime.deliver(&job("stale"), &events).await.unwrap();
    assert!(format!("{refused:?}").contains("401"), "{refused:?}");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("denied an outgoing request outside the job's Cordial base URL")
            && logs.contains("destination=http://127.0.0.1:9/elsewhere")
            && logs.contains("job=rogue"),
        "{logs}"
    );
    // The job's own line, inside the call's span: it names the job and the run.
    let created = logs
        .lines()
        .find(|l| l.contains("created Cordial list `Lytics_vip`"))
        .unwrap_or_else(|| panic!("{logs}"));
    assert!(created.contains("call{job=vip run="), "{created}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:"));
    assert!(!logs.contains(API_KEY), "the API key reached a log line");
    assert!(
        !logs.contains(&basic),
        "the Authorization header reached a log line"
    );
}

/// `CORDIAL_LOG_FORMAT=json`: every line `cordial-host backfill` writes is one JSON object,
/// and the lines logged inside a component call name its job and run.
#[tokio::test(flavor = "multi_thread")]
async fn json_log_lines_name_the_job_and_the_run() {
    let h = Harness::start().await;
    let config = h.config_file(&cordial_e2e::realtime_job::vip(""));
    let members = h.dir.path().join("members.ndjson");
    std::fs::write(&members, "{\"email\":\"a@example.com\"}\n").unwrap();
    let out = tokio::process::Command::new(cordial_e2e::cli::host_binary())
        .arg("backfill")
        .arg(&config)
        .args(["vip", "--members"])
        .arg(&members)
        .env("CORDIAL_LOG_FORMAT", "json")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let created = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("created Cordial list `Lytics_vip_customers`"))
        })
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(created["level"], "INFO");
    assert_eq!(created["span"]["job"], "vip", "{created}");
    assert!(
        created["span"]["run"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{created}"
    );
}
