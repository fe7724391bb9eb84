//! The bulk audience export end to end: members (backfill files and webhooks) → CSV files
//! over SFTP to a real OpenSSH sshd → Cordial's Contact Imports API in the emulator, which
//! fetches the files from that sshd and applies them.

use cordial_e2e::cli::host;
use cordial_e2e::harness::Harness;
use cordial_e2e::sftp::{SAVED_KEY, harness_for, sftp_auth, sftp_table};
use cordial_host::runtime::{CallContext, RunOutcome};
use cordial_jobs::scheduled::Checkpoint;
use cordial_sftp::sshd::{LocalSshd, password_account};
use std::io::Write;
use std::path::Path;

/// The SFTP table (key login, pinned host key) and a bulk job with `extra` settings.
fn key_config(sshd: &LocalSshd, extra: &str) -> String {
    format!(
        r#"
{sftp}
[[job]]
name = "bulk"
kind = "export-bulk"
auth = "cordial"
audience = "vip"
sftp_saved_key = "{SAVED_KEY}"
{extra}
[job.field_mapping]
first_name = "first_name"
age = "age"
"#,
        sftp = sftp_auth(sshd),
    )
}

/// A real sshd, an emulator that knows its client key, and the config of the bulk job with
/// `extra` settings.
async fn start(extra: &str) -> (LocalSshd, Harness, String) {
    let sshd = LocalSshd::start().unwrap();
    let h = harness_for(&sshd).await;
    let config = key_config(&sshd, extra);
    (sshd, h, config)
}

/// A member who entered the audience, with only an email.
fn entered(email: &str) -> cordial_host::db::NewEvent {
    cordial_host::db::NewEvent {
        contact: email.to_owned(),
        audience: "vip".into(),
        kind: "enter".into(),
        user: format!(r#"{{"email":"{email}"}}"#),
        occurred_at: None,
        source: "backfill",
    }
}

fn write_members(path: &Path, range: std::ops::Range<usize>) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in range {
        writeln!(
            f,
            r#"{{"email":"m{i}@example.com","first_name":"M{i}","age":{}}}"#,
            i % 90
        )
        .unwrap();
    }
}

/// `cordial-host backfill` of `count` members into the pending members of `bulk`, without
/// running the job: the test runs it.
async fn enqueue_backfill(h: &Harness, config: &str, count: usize) {
    let members = h.dir.path().join("members.ndjson");
    write_members(&members, 0..count);
    let config = h.config_file(config);
    let args: [&dyn AsRef<std::ffi::OsStr>; _] = [
        &"backfill",
        &config,
        &"bulk",
        &"--members",
        &members,
        &"--enqueue-only",
    ];
    let ran = host(&args).await;
    assert!(ran.ok, "{ran}");
}

fn csv_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn job_rows(jobs: &[serde_json::Value]) -> Vec<u64> {
    let mut rows: Vec<u64> = jobs
        .iter()
        .map(|j| {
            j.pointer("/result/totalRecords")
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
        })
        .collect();
    rows.sort_unstable();
    rows
}

async fn run_job(h: &Harness, config: &str) -> RunOutcome {
    h.run(config, "bulk").await.unwrap()
}

fn pending(h: &Harness) -> u64 {
    h.store().members_waiting("bulk").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_of_65000_members_becomes_three_files_and_three_imports() {
    let (sshd, h, config) = start("").await;
    let config = h.config_file(&config);
    let members = h.dir.path().join("members.ndjson");
    write_members(&members, 0..65_000);

    let ran = host(&[&"backfill", &config, &"bulk", &"--members", &members]).await;
    assert!(ran.ok, "{ran}");
    assert!(
        ran.to_string()
            .contains("exported 65000 member(s) in 3 file(s)"),
        "{ran}"
    );

    let jobs = h.emulator.handle().import_jobs();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert_eq!(job_rows(&jobs), [5_000, 30_000, 30_000]);
    assert!(jobs.iter().all(|j| j["status"] == "Done"), "{jobs:?}");
    let inserted: u64 = jobs
        .iter()
        .map(|j| {
            j.pointer("/result/inserted")
                .and_then(|v| v.as_u64())
                .unwrap()
        })
        .sum();
    assert_eq!(inserted, 65_000);

    let handle = h.emulator.handle();
    assert_eq!(handle.contact_count(), 65_000);
    for i in [0, 29_999, 30_000, 64_999] {
        let c = handle.contact(&format!("m{i}@example.com")).unwrap();
        assert_eq!(c["attributes"]["first_name"], format!("M{i}"), "{c}");
        assert_eq!(c["attributes"]["age"], (i % 90) as u64, "{c}");
        assert!(
            c["lists"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l == "Lytics_vip"),
            "{c}"
        );
    }
    // Imported files are removed; the members are no longer pending.
    assert!(
        csv_files(&sshd.files_dir()).is_empty(),
        "{:?}",
        csv_files(&sshd.files_dir())
    );
    assert_eq!(pending(&h), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn exits_take_members_off_the_list_and_the_last_state_per_contact_wins() {
    let (sshd, h, config) = start("keep_files = true").await;
    let store = h.store();
    let event = |email: &str, kind: &str| cordial_host::db::NewEvent {
        contact: email.to_owned(),
        audience: "vip".into(),
        kind: kind.into(),
        user: format!(r#"{{"email":"{email}","first_name":"{kind}"}}"#),
        occurred_at: None,
        source: "webhook",
    };
    store
        .add_members(
            "bulk",
            &[event("a@x.io", "enter"), event("b@x.io", "enter")],
        )
        .unwrap();
    assert!(matches!(
        run_job(&h, &config).await,
        RunOutcome::Completed(_)
    ));
    let handle = h.emulator.handle();
    let on_list = |email: &str| {
        handle.contact(email).unwrap()["lists"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "Lytics_vip")
    };
    assert!(on_list("a@x.io") && on_list("b@x.io"));

    // a leaves, comes back and leaves again before the next run: one row, the exit.
    store
        .add_members(
            "bulk",
            &[
                event("a@x.io", "exit"),
                event("a@x.io", "enter"),
                event("a@x.io", "exit"),
            ],
        )
        .unwrap();
    let RunOutcome::Completed(report) = run_job(&h, &config).await else {
        panic!()
    };
    assert_eq!(report.records_read, 1, "{report:?}");
    assert!(!on_list("a@x.io"));
    assert!(on_list("b@x.io"));
    // keep_files: both runs' files are still there, each with one header.
    let files = csv_files(&sshd.files_dir());
    assert_eq!(files.len(), 2, "{files:?}");
    let second = std::fs::read_to_string(sshd.files_dir().join(&files[1])).unwrap();
    assert_eq!(
        second,
        "channels.email.address,age,first_name,Lytics_vip\na@x.io,\\N,exit,0\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn password_login_works_and_a_wrong_password_fails_clearly_keeping_the_members() {
    let sshd = LocalSshd::start().unwrap();
    let (user, password) = password_account().unwrap();
    let h = harness_for(&sshd).await;
    let folder = Path::new("/home").join(&user);
    let secret = h.dir.path().join("sftp-password");
    let config = |password_file: &Path| {
        let credential = format!("password_file = \"{}\"", password_file.display());
        format!(
            "{}\n[[job]]\nname = \"bulk\"\nkind = \"export-bulk\"\nauth = \"cordial\"\n\
             audience = \"pw_{}\"\n",
            sftp_table(&sshd, &user, &credential, &folder),
            std::process::id(),
        )
    };
    let store = h.store();
    store.add_members("bulk", &[entered("pw@x.io")]).unwrap();

    std::fs::write(&secret, format!("{password}-wrong")).unwrap();
    let RunOutcome::Failed(error) = run_job(&h, &config(&secret)).await else {
        panic!("the run should fail")
    };
    let text = format!("{error:?}");
    assert!(
        text.contains("refused the password") && text.contains(&user),
        "{text}"
    );
    assert_eq!(pending(&h), 1);

    std::fs::write(&secret, &password).unwrap();
    let outcome = run_job(&h, &config(&secret)).await;
    assert!(matches!(outcome, RunOutcome::Completed(_)), "{outcome:?}");
    // Cordial fetched the file with the password the host filled in.
    let jobs = h.emulator.handle().import_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["status"], "Done", "{jobs:?}");
    assert!(h.emulator.handle().contact("pw@x.io").is_some());
    let sent = h.emulator.handle().requests();
    let import = sent
        .iter()
        .find(|r| r.path == "/v2/contactimports")
        .unwrap();
    assert_eq!(
        import.body["source"]["password"], "***",
        "the emulator records no password"
    );
    assert_eq!(pending(&h), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_host_key_is_refused_with_the_fingerprint_to_pin() {
    let (sshd, h, config) = start("").await;
    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let config = config.replace(sshd.host_fingerprint(), wrong);
    h.store().add_members("bulk", &[entered("k@x.io")]).unwrap();
    let RunOutcome::Failed(error) = run_job(&h, &config).await else {
        panic!()
    };
    let text = format!("{error:?}");
    assert!(
        text.contains("does not match") && text.contains(sshd.host_fingerprint()),
        "{text}"
    );
    assert!(h.emulator.handle().import_jobs().is_empty());
    assert_eq!(pending(&h), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_dying_mid_upload_leaves_no_file_and_keeps_the_members_for_a_clean_rerun() {
    let (mut sshd, h, config) = start("").await;
    enqueue_backfill(&h, &config, 65_000).await;
    assert_eq!(pending(&h), 65_000);

    let runtime = std::sync::Arc::new(h.runtime(&config));
    let job = runtime.config().job("bulk").unwrap().clone();
    let run = tokio::spawn({
        let runtime = runtime.clone();
        async move { runtime.run(&job, &CallContext::now()).await.unwrap() }
    });
    // Kill the server as soon as the first upload is under way.
    let dir = sshd.files_dir();
    let partial = loop {
        if let Some(name) = csv_files(&dir).into_iter().find(|n| n.ends_with(".part")) {
            break name;
        }
        assert!(
            !run.is_finished(),
            "the run ended before an upload was seen"
        );
        tokio::task::yield_now().await;
    };
    sshd.kill();
    let outcome = run.await.unwrap();
    let RunOutcome::Failed(error) = outcome else {
        panic!("the run should fail: {outcome:?}")
    };
    assert!(format!("{error:?}").contains("SFTP"), "{error:?}");
    let final_name = partial
        .trim_start_matches('.')
        .trim_end_matches(".part")
        .to_owned();
    assert!(
        !csv_files(&dir).contains(&final_name),
        "{final_name} was published"
    );
    assert!(h.emulator.handle().import_jobs().is_empty());
    assert_eq!(pending(&h), 65_000);

    // The server is back: the next run finishes the same batch, each file imported once.
    sshd.restart().unwrap();
    let outcome = run_job(&h, &config).await;
    assert!(matches!(outcome, RunOutcome::Completed(_)), "{outcome:?}");
    let jobs = h.emulator.handle().import_jobs();
    assert_eq!(job_rows(&jobs), [5_000, 30_000, 30_000]);
    assert_eq!(h.emulator.handle().contact_count(), 65_000);
    assert_eq!(pending(&h), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_follows_registered_imports_instead_of_registering_them_again() {
    // Deadline 0: register, look once, and leave the waiting to the next run.
    let (_sshd, h, config) = start("import_deadline_minutes = 0").await;
    let store = h.store();
    enqueue_backfill(&h, &config, 40_000).await;
    let handle = h.emulator.handle();
    handle.hold_jobs(true);
    let RunOutcome::Failed(error) = run_job(&h, &config).await else {
        panic!()
    };
    assert!(
        format!("{error:?}").contains("still importing"),
        "{error:?}"
    );
    assert_eq!(handle.import_jobs().len(), 2);

    // Simulate a crash between Cordial's answer and saving the job id of the second file.
    let mut batch = cordial_jobs::bulk::batch::Batch::from_bytes(
        &store
            .state_get("bulk", cordial_jobs::bulk::batch::STATE_KEY)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(batch.files[1].registering);
    batch.files[1].job_id = None;
    store
        .state_set(
            "bulk",
            cordial_jobs::bulk::batch::STATE_KEY,
            &batch.to_bytes(),
        )
        .unwrap();

    handle.hold_jobs(false);
    let waiting = config.replace("import_deadline_minutes = 0", "");
    let outcome = run_job(&h, &waiting).await;
    assert!(matches!(outcome, RunOutcome::Completed(_)), "{outcome:?}");
    let jobs = handle.import_jobs();
    assert_eq!(jobs.len(), 2, "no file was registered twice: {jobs:?}");
    assert_eq!(job_rows(&jobs), [10_000, 30_000]);
    assert_eq!(handle.contact_count(), 40_000);
    assert_eq!(pending(&h), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_import_fails_the_run_and_keeps_the_members() {
    let (sshd, h, config) = start("import_deadline_minutes = 0").await;
    let store = h.store();
    store.add_members("bulk", &[entered("f@x.io")]).unwrap();
    let handle = h.emulator.handle();
    handle.hold_jobs(true);
    assert!(matches!(run_job(&h, &config).await, RunOutcome::Failed(_)));
    // The file disappears before Cordial fetches it.
    for name in csv_files(&sshd.files_dir()) {
        std::fs::remove_file(sshd.files_dir().join(name)).unwrap();
    }
    handle.hold_jobs(false);
    let id = handle.import_jobs()[0]["_id"].as_str().unwrap().to_owned();
    handle.wait_for_job(&id).await;
    let RunOutcome::Failed(error) = run_job(&h, &config).await else {
        panic!()
    };
    let text = format!("{error:?}");
    assert!(
        text.contains("could not import 1 of 1") && text.contains("stay pending"),
        "{text}"
    );
    assert_eq!(pending(&h), 1);
    assert!(handle.contact("f@x.io").is_none());
}
