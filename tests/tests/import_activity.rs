//! Import Activity end to end: the real host and component, the emulator's activity export
//! writing files to a real OpenSSH sshd, and the `cordial_activity` stream in SQLite.

use chrono::{DateTime, Duration, Utc};
use cordial_e2e::activity::{Activity, STREAM, event, oid, stream_ids};
use cordial_e2e::cli::{host, host_binary};
use cordial_e2e::harness::Harness;
use cordial_e2e::rate_limits;
use cordial_host::runtime::{CallContext, RunOutcome};
use cordial_jobs::activity::export::{EXPORT_KEY, RESERVED_ACTIONS, WindowExport};
use cordial_jobs::scheduled::Checkpoint;
use cordial_sftp::sshd::LocalSshd;
use serde_json::Value;
use std::collections::BTreeSet;

/// The `_id`s of the emulator's events the job should import from `[start, end)`.
fn expected_ids(h: &Harness, start: DateTime<Utc>, end: DateTime<Utc>) -> BTreeSet<String> {
    let wanted: Vec<&str> = RESERVED_ACTIONS
        .iter()
        .copied()
        .chain(["custom-purchase"])
        .collect();
    h.emulator
        .handle()
        .events()
        .iter()
        .filter(|e| wanted.contains(&e["action"].as_str().unwrap()))
        .filter(|e| {
            let t: DateTime<Utc> = cordial_jobs::activity::record::timestamp(&e["time"])
                .unwrap()
                .parse()
                .unwrap();
            t >= start && t < end
        })
        .map(|e| e["_id"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_completed(outcome: &RunOutcome) {
    assert!(matches!(outcome, RunOutcome::Completed(_)), "{outcome:?}");
}

/// The files in the sshd's folder whose names start with `prefix`.
fn files_named(sshd: &LocalSshd, prefix: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(sshd.files_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_run_takes_the_last_seven_days_and_maps_every_field() {
    let now = Utc::now();
    let a = Activity::with_events(vec![
        event("old", "open", now - Duration::days(8)),
        event("recent", "open", now - Duration::days(3)),
        event("click1", "click", now - Duration::hours(2)),
        event("custom1", "custom-purchase", now - Duration::hours(1)),
        event("browse1", "browse", now - Duration::hours(1)),
    ])
    .await;
    assert_completed(&a.run(&a.config("")).await);
    let s = a.h.store();
    assert_eq!(
        stream_ids(&s),
        BTreeSet::from([oid("recent"), oid("click1"), oid("custom1")]),
        "older than 7 days and unselected actions stay out"
    );
    let record: Value = s
        .stream_tail(STREAM, 10)
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str::<Value>(r).unwrap())
        .find(|r| r["cr_system_event_id"] == oid("click1"))
        .unwrap();
    assert_eq!(record["cr_contact_id"], format!("c-{}", oid("click1")));
    assert_eq!(record["cr_first"], true);
    assert_eq!(record["cr_event_action"], "click");
    assert_eq!(record["cr_message_name"], "Welcome");
    assert_eq!(
        record["cr_message_contact_id"],
        format!("45:abc:d261122:c-{}:1", oid("click1"))
    );
    let t = record["cr_event_timestamp"].as_str().unwrap();
    assert!(
        t.ends_with('Z') && DateTime::parse_from_rfc3339(t).is_ok(),
        "{t}"
    );
    // The export files are removed once imported (keep_files is off).
    assert!(files_named(&a.sshd, "").is_empty());
}

/// A scheduled run's export request answered with a 429 three times running: each is waited
/// out for its `Retry-After`, nothing reaches Cordial inside a window, and the run still
/// completes with one export.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_in_a_scheduled_run_are_waited_out_and_the_run_completes() {
    let now = Utc::now();
    let a = Activity::with_events(vec![
        event("rl1", "open", now - Duration::hours(3)),
        event("rl2", "click", now - Duration::hours(2)),
    ])
    .await;
    let h = &a.h;
    h.emulator
        .handle()
        .inject(cordial_emulator::Fault::RateLimited {
            retry_after_secs: 1,
            count: 3,
        });
    assert_completed(&a.run(&a.config("")).await);
    assert_eq!(a.stream_ids(), BTreeSet::from([oid("rl1"), oid("rl2")]));
    let requests = h.emulator.handle().requests();
    assert_eq!(
        rate_limits::assert_retry_after_held(&requests, std::time::Duration::from_secs(1), 0),
        3
    );
    assert_eq!(h.emulator.handle().export_jobs().len(), 1, "asked once");
}

/// Cordial keeps the export waiting for longer than the job's call timeout (1 s). The job
/// polls once per call and asks to be called again instead of sleeping inside a call, so no
/// call runs into its deadline and the run completes once Cordial is done.
#[tokio::test(flavor = "multi_thread")]
async fn an_export_slower_than_the_call_timeout_is_followed_across_calls() {
    let slow = event("slow1", "open", Utc::now() - Duration::hours(1));
    let a = Activity::with_events(vec![slow]).await;
    let h = &a.h;
    h.emulator.handle().hold_jobs(true);
    let runtime = h.runtime(&a.config("[job.limits]\ntimeout_secs = 1"));
    let job = runtime.config().job("activity").unwrap().clone();
    let release_after_a_long_wait = async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let polls: Vec<std::time::Instant> = h
                .emulator
                .handle()
                .requests()
                .iter()
                .filter(|r| r.method == "GET" && r.path.starts_with("/v2/jobs/"))
                .map(|r| r.received_at)
                .collect();
            if let (Some(first), Some(last)) = (polls.first(), polls.last())
                && *last - *first > std::time::Duration::from_secs(2)
            {
                h.emulator.handle().hold_jobs(false);
                return polls.len();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Cordial was not polled for 2 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let call = CallContext::now();
    let (outcome, polls_while_held) =
        tokio::join!(runtime.run(&job, &call), release_after_a_long_wait);
    assert_completed(&outcome.expect("no call ran into its 1 s deadline"));
    assert!(polls_while_held >= 3, "{polls_while_held} polls");
    assert_eq!(a.stream_ids(), BTreeSet::from([oid("slow1")]));
}

#[tokio::test(flavor = "multi_thread")]
async fn import_since_reaches_further_back_and_later_runs_take_only_new_events() {
    let a = Activity::start().await;
    let h = &a.h;
    let now = Utc::now();
    let since = (now - Duration::days(30)).format("%Y-%m-%d").to_string();
    let start = (now - Duration::days(30))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    h.emulator.handle().generate_events(
        5_000,
        7,
        start - Duration::days(2),
        now - Duration::minutes(5),
    );
    let cfg = a.config(&format!(
        "import_since = \"{since}\"\noverlap_minutes = 60\ncompress = true\nrecords_per_file = 700"
    ));
    assert_completed(&a.run(&cfg).await);
    let s = h.store();
    let first = stream_ids(&s);
    let expected = expected_ids(h, start, Utc::now());
    assert!(!expected.is_empty());
    assert_eq!(
        first, expected,
        "gzip files of 700 records, all imported once"
    );
    let exports = h.emulator.handle().export_jobs();
    assert_eq!(exports.len(), 1);

    // New events after the first run, and a late one inside the overlap.
    let cursor = Utc::now();
    h.emulator
        .handle()
        .add_events(vec![
            event("late", "open", cursor - Duration::minutes(30)),
            event("new1", "click", cursor + Duration::milliseconds(1)),
        ])
        .unwrap();
    // The second window starts an hour before the cursor, so it re-exports events already
    // stored: they are recognised by `_id` and not added twice.
    assert_completed(&a.run(&cfg).await);
    let second = stream_ids(&s);
    assert!(second.contains(&oid("late")));
    assert_eq!(
        second.len(),
        first.len() + if second.contains(&oid("new1")) { 2 } else { 1 }
    );
    assert_eq!(
        s.stream_count(STREAM).unwrap() as usize,
        second.len(),
        "no duplicates"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_import_rerun_gives_the_same_stream() {
    let a = Activity::start().await;
    let h = &a.h;
    let now = Utc::now();
    h.emulator.handle().generate_events(
        200_000,
        11,
        now - Duration::days(6),
        now - Duration::minutes(1),
    );
    let cfg = a.config("compress = false");
    let cfg_path = h.config_file(&cfg);
    let s = h.store();
    let mut child = tokio::process::Command::new(host_binary())
        .args(["run".as_ref(), cfg_path.as_os_str(), "activity".as_ref()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // SIGKILL as soon as part of the window is stored.
    loop {
        let stored = s.stream_count(STREAM).unwrap();
        if stored > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        tokio::task::yield_now().await;
    }
    child.kill().await.unwrap();
    let partial = s.stream_count(STREAM).unwrap();
    assert!(
        s.state_get("activity", "activity-cursor")
            .unwrap()
            .is_none(),
        "the cursor has not moved"
    );

    assert_completed(&a.run(&cfg).await);
    let ids = stream_ids(&s);
    let window = expected_ids(
        h,
        now - Duration::days(7) - Duration::minutes(1),
        Utc::now(),
    );
    assert!(
        partial < ids.len() as u64,
        "killed mid-import: {partial} of {}",
        ids.len()
    );
    assert_eq!(ids, window);
    assert_eq!(
        s.stream_count(STREAM).unwrap() as usize,
        ids.len(),
        "no duplicates"
    );
    assert_eq!(
        h.emulator.handle().export_jobs().len(),
        1,
        "the export was requested once"
    );
}

/// Runs with the export held so the window is saved, then lets Cordial write the files.
async fn exported_but_not_imported(a: &Activity, cfg: &str) -> WindowExport {
    let handle = a.h.emulator.handle();
    handle.hold_jobs(true);
    let held = cfg.replace("[[job]]", "[[job]]\nexport_deadline_minutes = 0");
    let outcome = a.run(&held).await;
    assert!(matches!(outcome, RunOutcome::Failed(_)), "{outcome:?}");
    let saved = a.h.store().state_get("activity", EXPORT_KEY).unwrap();
    let window = WindowExport::from_bytes(&saved.unwrap()).unwrap();
    handle.hold_jobs(false);
    handle.wait_for_job(window.job_id.as_deref().unwrap()).await;
    window
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_lines_are_quarantined_and_the_run_succeeds() {
    let now = Utc::now();
    let a = Activity::with_events(vec![event("good1", "open", now - Duration::hours(3))]).await;
    let cfg = a.config("compress = false");
    let window = exported_but_not_imported(&a, &cfg).await;
    let file = files_named(&a.sshd, &window.name)
        .into_iter()
        .next()
        .expect("the export file");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("{\"_id\": \"broken\", \"time\": \n");
    text.push_str("{\"_id\": \"badtime\", \"action\": \"open\", \"time\": \"last tuesday\"}\n");
    text.push_str(&format!(
        "{}\n",
        event("good2", "click", now - Duration::hours(2))
    ));
    std::fs::write(&file, text).unwrap();

    let RunOutcome::Completed(report) = a.run(&cfg).await else {
        panic!("the run should succeed")
    };
    assert_eq!(report.records_rejected, 2, "{report:?}");
    assert!(report.summary.contains("quarantined"), "{}", report.summary);
    let s = a.h.store();
    assert_eq!(stream_ids(&s), BTreeSet::from([oid("good1"), oid("good2")]));
    let q = s.quarantined("activity").unwrap();
    assert_eq!(q.len(), 2);
    assert_eq!((q[0].line, q[1].line), (2, 3));
    assert!(q[0].reason.contains("not JSON"), "{q:?}");
    assert!(q[1].reason.contains("time"), "{q:?}");
    let listed = host(&[&"quarantine", &a.h.config_file(&cfg), &"activity"]).await;
    assert!(
        listed.ok && listed.stdout.contains(":2: not JSON"),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_file_or_a_failed_export_fails_the_run_and_keeps_the_cursor() {
    let a = Activity::with_events(vec![event("e1", "open", Utc::now() - Duration::hours(3))]).await;
    let cfg = a.config("compress = true");

    a.h.emulator
        .handle()
        .fail_next_export("Destination folder is full");
    let RunOutcome::Failed(error) = a.run(&cfg).await else {
        panic!()
    };
    let text = format!("{error:?}");
    assert!(
        text.contains("failed: Destination folder is full") && text.contains("cursor stays"),
        "{text}"
    );
    let s = a.h.store();
    assert!(
        s.state_get("activity", "activity-cursor")
            .unwrap()
            .is_none()
    );
    assert_eq!(s.stream_count(STREAM).unwrap(), 0);

    let window = exported_but_not_imported(&a, &cfg).await;
    for file in files_named(&a.sshd, &window.name) {
        let broken_gzip = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff];
        std::fs::write(file, broken_gzip).unwrap();
    }
    let RunOutcome::Failed(error) = a.run(&cfg).await else {
        panic!()
    };
    assert!(format!("{error:?}").contains("cannot be read"), "{error:?}");
    assert!(
        s.state_get("activity", "activity-cursor")
            .unwrap()
            .is_none()
    );
    assert_eq!(s.stream_count(STREAM).unwrap(), 0);
}
