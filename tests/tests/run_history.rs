//! Run history end to end: the real binary records its runs and delivery windows in the
//! store, and `cordial-host runs` and `status` show them.

use chrono::{Duration, Utc};
use cordial_e2e::activity::{Activity, STREAM, append_records, event, oid};
use cordial_e2e::audience_events::{batch, default_payload};
use cordial_e2e::cli::{ServeProcess, host};
use cordial_e2e::harness::{Harness, components_dir};
use cordial_e2e::http::post;
use cordial_e2e::realtime_job::{FIRST_NAME_AND_AGE, vip};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The longest a test waits for a window to be recorded as closed.
const CLOSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `cordial-host runs <config> [<job>] --json`, parsed: newest first.
async fn runs(config: &Path, job: Option<&str>) -> Vec<Value> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"runs", &config];
    if let Some(job) = &job {
        args.push(job);
    }
    args.push(&"--json");
    let ran = host(&args).await;
    assert!(ran.ok, "{ran}");
    ran.stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Polls `runs` until `job` has `count` records and none is running, or fails after
/// [`CLOSE_LIMIT`].
async fn closed_runs(config: &Path, job: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + CLOSE_LIMIT;
    loop {
        let runs = runs(config, Some(job)).await;
        if runs.len() >= count && runs.iter().all(|r| r["state"] != "running") {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {count} closed run(s) of `{job}` within {CLOSE_LIMIT:?}: {runs:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The activity job's config file, with more `[host]` settings.
fn activity_config(a: &Activity, host_settings: &str) -> PathBuf {
    let text = a.h.config_text(&a.config("")).replacen(
        "[host]\n",
        &format!("[host]\n{host_settings}\n"),
        1,
    );
    let path = a.h.dir.path().join("activity.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_activity_run_records_what_it_read_stored_and_skipped_and_its_cursor() {
    let now = Utc::now();
    let a = Activity::with_events(vec![
        event("a1", "open", now - Duration::hours(3)),
        event("a2", "click", now - Duration::hours(2)),
        event("dup", "open", now - Duration::hours(1)),
    ])
    .await;
    // The stream holds one of the events already (Cordial pushed it): a duplicate.
    let store = a.h.store();
    append_records(
        &store,
        &[json!({"cr_system_event_id": oid("dup"), "cr_event_action": "open"}).to_string()],
    );
    let config = activity_config(&a, "");

    let ran = host(&[&"run", &config, &"activity"]).await;
    assert!(ran.ok, "{ran}");
    let first = runs(&config, Some("activity")).await;
    assert_eq!(first.len(), 1, "{first:#?}");
    let run = &first[0];
    assert_eq!(
        (&run["trigger"], &run["state"]),
        (&json!("run"), &json!("succeeded"))
    );
    assert!(
        run["ended_at"].is_string() && run["last_error"].is_null(),
        "{run}"
    );
    let counts = &run["counts"];
    assert_eq!(counts["read"], 3, "{counts}");
    assert_eq!(counts["stored"], 2, "{counts}");
    assert_eq!(counts["duplicates"], 1, "{counts}");
    assert_eq!(counts["quarantined"], 0, "{counts}");
    assert_eq!(store.stream_count(STREAM).unwrap(), 3);
    let cursor = String::from_utf8(
        store
            .state_get("activity", "activity-cursor")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(
        counts["cursor_before"].is_null(),
        "the first run had no cursor"
    );
    assert_eq!(counts["cursor_after"], cursor.as_str());

    let ran = host(&[&"run", &config, &"activity"]).await;
    assert!(ran.ok, "{ran}");
    let second = runs(&config, Some("activity")).await;
    assert_eq!(second.len(), 2);
    assert_eq!(
        second[0]["counts"]["cursor_before"], cursor,
        "the next run starts from where the first left the cursor"
    );
    assert_eq!(second[1]["run_id"], run["run_id"], "newest first");

    let table = host(&[&"runs", &config]).await;
    assert!(
        table.ok && table.stdout.contains("succeeded") && table.stdout.contains("stored 2"),
        "{table}"
    );

    let status = host(&[&"status", &config, &"--json"]).await;
    assert!(status.ok, "{status}");
    let job: Value = serde_json::from_str(status.stdout.trim()).unwrap();
    assert_eq!(job["last_run"]["run_id"], second[0]["run_id"]);
    assert!(
        job["queued"].is_null() && job["next_slot"].is_string(),
        "a scheduled job has a next slot and no queue: {job}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_against_a_cordial_refusing_the_key_is_failed_with_its_error_and_old_records_are_pruned()
 {
    let a = Activity::with_events(vec![event("e1", "open", Utc::now() - Duration::hours(3))]).await;
    let config = activity_config(&a, "run_history_days = 7");
    // Two records written long before this run: one past the retention, one inside it.
    let old = |days: i64| {
        (Utc::now() - Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    drop(a.h.store()); // creates the store and its tables
    let file = rusqlite::Connection::open(a.h.store_path()).unwrap();
    for (run_id, started) in [("old", old(10)), ("recent", old(3))] {
        file.execute(
            "INSERT INTO runs (run_id, job, trigger, state, started_at, ended_at)
             VALUES (?1, 'activity', 'schedule', 'succeeded', ?2, ?2)",
            [run_id, started.as_str()],
        )
        .unwrap();
    }
    drop(file);

    a.h.emulator
        .handle()
        .inject(cordial_emulator::Fault::ServerError {
            status: 401,
            count: 100,
        });
    let ran = host(&[&"run", &config, &"activity"]).await;
    assert!(!ran.ok, "{ran}");
    let recorded = runs(&config, Some("activity")).await;
    let ids: Vec<&str> = recorded
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "the 10-day-old record is pruned: {ids:?}");
    assert_eq!(ids[1], "recent");
    let run = &recorded[0];
    assert_eq!(run["state"], "failed", "{run}");
    let error = run["last_error"].as_str().unwrap();
    assert!(error.contains("401"), "{error}");
    assert!(run["counts"]["cursor_after"].is_null(), "{run}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_served_real_time_jobs_window_counts_what_cordial_took_and_refused() {
    let h = Harness::start().await;
    let jobs = vip(&format!(
        "{FIRST_NAME_AND_AGE}[job.delivery]\nconcurrency = 2\nbatch_size = 20\nmax_attempts = 3\n"
    ));
    let mut serve = ServeProcess::start(&h, &jobs).await;
    let config = h.config_file(&jobs);
    let hook = serve.url("/hooks/vip");

    // A first event, delivered in a window of its own: the job now knows Cordial's schema.
    let warm = default_payload(
        1,
        "warm@example.com",
        "enter",
        "vip_customers",
        r#","age":1"#,
    );
    assert_eq!(post(&hook, warm, &[]).await.0, 202);
    let first = closed_runs(&config, "vip", 1).await;
    assert_eq!(first[0]["counts"]["added"], 1, "{first:#?}");
    assert_eq!(first[0]["state"], "succeeded");
    // Cordial now refuses the mapped attribute `age`.
    h.delete_attribute("age").await;

    let events = [
        default_payload(2, "ann@example.com", "enter", "vip_customers", ""),
        default_payload(3, "bob@example.com", "enter", "vip_customers", ""),
        default_payload(4, "ann@example.com", "exit", "vip_customers", ""),
        default_payload(
            5,
            "bad@example.com",
            "enter",
            "vip_customers",
            r#","age":2"#,
        ),
        default_payload(6, "", "enter", "vip_customers", ""),
        default_payload(7, "cat@example.com", "enter", "other_audience", ""),
    ];
    let (status, body) = post(&hook, batch(&events), &[]).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        (&body["accepted"], &body["ignored_other_audiences"]),
        (&json!(5), &json!(1))
    );
    let recorded = closed_runs(&config, "vip", 2).await;
    let window = &recorded[0];
    assert_eq!(window["trigger"], "deliveries");
    assert_eq!(window["state"], "partially succeeded", "{window}");
    let counts = &window["counts"];
    // What Cordial holds now: bob on the list, ann added and taken off again, bad refused.
    assert_eq!(h.lists("bob@example.com"), ["Lytics_vip_customers"]);
    assert!(h.find_contact("ann@example.com").is_some());
    assert!(h.lists("ann@example.com").is_empty());
    assert!(h.find_contact("bad@example.com").is_none());
    assert_eq!(
        (&counts["added"], &counts["removed"], &counts["updated"]),
        (&json!(2), &json!(1), &json!(0)),
        "{counts}"
    );
    assert_eq!(
        (&counts["rejected"], &counts["omitted"]),
        (&json!(1), &json!(1)),
        "{counts}"
    );
    assert_eq!(counts["ignored_other_audiences"], 1, "{counts}");
    let dead = h.store().dead_letters("vip").unwrap();
    let refused = dead.iter().find(|d| d.status == Some(422)).unwrap();
    let sample = window["rejections"].as_array().unwrap();
    assert!(
        sample
            .iter()
            .any(|r| r["status"] == 422 && r["reason"] == refused.error.as_str()),
        "{sample:?} against {dead:?}"
    );

    // `status`: the job is idle, its last run is that window, nothing is queued and both
    // dead letters are counted; members queued for a later delivery show as its queue.
    assert!(serve.terminate().await);
    let members = h.dir.path().join("members.ndjson");
    std::fs::write(
        &members,
        "{\"email\":\"m1@example.com\"}\n{\"email\":\"m2@example.com\"}\n{\"email\":\"m3@example.com\"}\n",
    )
    .unwrap();
    let queued = host(&[
        &"backfill",
        &config,
        &"vip",
        &"--members",
        &members,
        &"--enqueue-only",
    ])
    .await;
    assert!(queued.ok, "{queued}");
    let status = host(&[&"status", &config, &"--json"]).await;
    assert!(status.ok, "{status}");
    let vip: Value = serde_json::from_str(status.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        (&vip["job"], &vip["kind"]),
        (&json!("vip"), &json!("export-realtime"))
    );
    assert_eq!(vip["state"], "idle");
    assert_eq!(vip["last_run"]["run_id"], window["run_id"]);
    assert_eq!(vip["last_run"]["state"], "partially succeeded");
    assert_eq!(
        (&vip["queued"], &vip["dead_letters"]),
        (&json!(3), &json!(dead.len()))
    );
    assert_eq!(dead.len(), 2);
    assert!(
        vip["next_slot"].is_null(),
        "a real-time job has no schedule"
    );
    let table = host(&[&"status", &config]).await;
    assert!(
        table.ok
            && table
                .stdout
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("vip ")),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_stopped_at_the_time_limit_is_recorded_timed_out() {
    let h = Harness::start().await;
    let config = h.config_file(&looping(1));
    let ran = host(&[&"run", &config, &"rogue"]).await;
    assert!(!ran.ok, "{ran}");
    let recorded = runs(&config, Some("rogue")).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["state"], "timed out", "{:#}", recorded[0]);
    assert!(
        recorded[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("limit of 1s")),
        "{:#}",
        recorded[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_time_backfill_is_recorded_as_one_backfill_window() {
    let h = Harness::start().await;
    let config = h.config_file(&vip(""));
    let members = h.dir.path().join("members.ndjson");
    let lines: String = (0..5)
        .map(|i| format!("{{\"email\":\"member{i}@example.com\"}}\n"))
        .chain(["{\"first_name\":\"nobody\"}\n".to_owned()])
        .collect();
    std::fs::write(&members, lines).unwrap();
    let ran = host(&[&"backfill", &config, &"vip", &"--members", &members]).await;
    assert!(!ran.ok, "a member without an email is a dead letter: {ran}");
    let recorded = runs(&config, Some("vip")).await;
    assert_eq!(recorded.len(), 1, "{recorded:#?}");
    let window = &recorded[0];
    assert_eq!(window["trigger"], "backfill");
    assert_eq!(window["state"], "partially succeeded", "{window}");
    assert_eq!(
        (&window["counts"]["added"], &window["counts"]["omitted"]),
        (&json!(5), &json!(1)),
        "{window}"
    );
    assert_eq!(h.lists("member4@example.com"), ["Lytics_vip_customers"]);
}

/// The misbehaving fixture looping as `rogue`, stopped after `timeout_secs`.
fn looping(timeout_secs: u64) -> String {
    format!(
        "[[job]]\nname = \"rogue\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         component = \"{}\"\naction = \"loop\"\n[job.limits]\ntimeout_secs = {timeout_secs}\n",
        components_dir().join("misbehaving.wasm").display()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_in_progress_shows_running_and_a_killed_runs_record_is_closed_by_the_next() {
    let h = Harness::start().await;
    let config = h.config_file(&looping(600));
    let run_log = h.dir.path().join("run.log");
    let mut running = tokio::process::Command::new(cordial_e2e::cli::host_binary())
        .args([
            std::ffi::OsStr::new("run"),
            config.as_os_str(),
            "rogue".as_ref(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&run_log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + CLOSE_LIMIT;
    let job = loop {
        let status = host(&[&"status", &config, &"--json"]).await;
        assert!(status.ok, "{status}");
        let job: Value = serde_json::from_str(status.stdout.trim()).unwrap();
        if job["state"] == "running" {
            break job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run never showed as running: {job}\nthe run's log:\n{}",
            std::fs::read_to_string(&run_log).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(job["last_run"]["state"], "running");
    running.start_kill().unwrap();
    running.wait().await.unwrap();

    // The next run takes the run lock the killed one held, and closes its record.
    let config = h.config_file(&looping(1));
    let ran = host(&[&"run", &config, &"rogue"]).await;
    assert!(!ran.ok, "{ran}");
    let recorded = runs(&config, Some("rogue")).await;
    let states: Vec<&str> = recorded
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["timed out", "failed"]);
    assert_eq!(recorded[1]["run_id"], job["last_run"]["run_id"]);
    assert!(
        recorded[1]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("stopped before")),
        "{:#}",
        recorded[1]
    );
}
