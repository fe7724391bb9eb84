//! Import Activity on a real `spin up`: the emulator exports the account's activity to a real
//! OpenSSH sshd (logging in with the password the proxy fills in), the app's store adapter
//! reads the files over SSH on `wasi:sockets`, and the platform reads the stream back from
//! the app.

use chrono::{Duration, Utc};
use cordial_e2e::http::client;
use cordial_e2e::sftp::{HomeFolder, harness_for};
use cordial_e2e::spin::{Deployment, RUN_SECRET, SpinApp, run_to_the_end};
use cordial_jobs::activity::export::RESERVED_ACTIONS;
use cordial_sftp::sshd::LocalSshd;
use serde_json::Value;
use std::collections::BTreeSet;

const RUN: &str = "/run/import-activity";
const STREAM: &str = "/streams/import-activity/cordial_activity";

/// The activity run called as the scheduler does until it ends, waiting between calls for
/// Cordial's export (what the run waits for).
async fn run_activity_to_the_end(
    h: &cordial_e2e::harness::Harness,
    spin: &SpinApp,
) -> Vec<(u16, Value)> {
    run_to_the_end(h, spin, RUN, |e| e.export_jobs()).await
}

/// Reads the whole stream from the app, a page at a time: the records' event ids.
async fn stream_ids(spin: &SpinApp, page: u64) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let url = spin.url(&format!("{STREAM}?after={after}&limit={page}"));
        let response = client()
            .get(&url)
            .bearer_auth(RUN_SECRET)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        for item in body["records"].as_array().unwrap() {
            ids.push(
                item["record"]["cr_system_event_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let next = body["next_after"].as_u64().unwrap();
        if next >= body["last"].as_u64().unwrap() {
            return ids;
        }
        assert!(next > after, "the read moves on: {body}");
        after = next;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activity_run_on_spin_reads_the_export_over_ssh_into_the_stream() {
    let sshd = LocalSshd::start().unwrap();
    let h = harness_for(&sshd).await;
    let now = Utc::now();
    h.emulator.handle().generate_events(
        400,
        7,
        now - Duration::days(3),
        now - Duration::minutes(5),
    );
    let expected: BTreeSet<String> = h
        .emulator
        .handle()
        .events()
        .iter()
        .filter(|e| RESERVED_ACTIONS.contains(&e["action"].as_str().unwrap()))
        .map(|e| e["_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() > 100, "a real amount of activity");
    let folder = HomeFolder::new(&format!("spin-activity-{}", std::process::id()));
    let spin = SpinApp::start(&h, Deployment::default().sftp(&sshd, &folder)).await;

    let answers = run_activity_to_the_end(&h, &spin).await;
    let (status, last) = answers.last().unwrap();
    assert_eq!(*status, 200, "{answers:#?}");
    assert_eq!(last["records_written"], expected.len(), "{last}");

    // Cordial logged in with the password the proxy filled in and wrote the export where the
    // app read it; the app removed the files once their records were stored.
    let exports = h.emulator.handle().export_jobs();
    assert_eq!(exports.len(), 1, "{exports:#?}");
    assert_eq!(exports[0]["status"], "Done", "{:#}", exports[0]);
    assert_eq!(folder.files(), Vec::<String>::new());

    // The platform reads every record back from the app, in pages, each once.
    let ids = stream_ids(&spin, 64).await;
    assert_eq!(ids.len(), expected.len());
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // The next run's window overlaps this one; the overlap's events are not stored twice.
    let answers = run_activity_to_the_end(&h, &spin).await;
    assert_eq!(answers.last().unwrap().0, 200, "{answers:#?}");
    assert_eq!(stream_ids(&spin, 1000).await.len(), expected.len());

    // The stream is the platform's, behind the run secret.
    let response = client().get(spin.url(STREAM)).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_not_the_pinned_one_is_refused_and_the_window_kept() {
    let sshd = LocalSshd::start().unwrap();
    let h = harness_for(&sshd).await;
    let now = Utc::now();
    h.emulator
        .handle()
        .generate_events(50, 3, now - Duration::days(1), now - Duration::minutes(5));
    let folder = HomeFolder::new(&format!("spin-hostkey-{}", std::process::id()));
    let other_key = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let spin = SpinApp::start(
        &h,
        Deployment::default()
            .sftp(&sshd, &folder)
            .variable("sftp_host_key", other_key),
    )
    .await;

    let answers = run_activity_to_the_end(&h, &spin).await;
    let (status, last) = answers.last().unwrap();
    assert_eq!(
        *status, 503,
        "a connection problem is worth retrying: {answers:#?}"
    );
    assert_eq!(last["kind"], "transient", "{last}");
    let error = last["error"].as_str().unwrap();
    assert!(error.contains("host key"), "{error}");
    // Cordial's export is written; it waits on the server for the next run.
    assert!(!folder.files().is_empty());
    assert_eq!(stream_ids(&spin, 1000).await, Vec::<String>::new());
}
