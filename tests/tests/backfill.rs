//! `cordial-host backfill` ("Existing Users") and `cordial-host dlq`: member files streamed
//! through the same delivery path as webhook events; bad rows and dead letters reported.

#[path = "support/harness.rs"]
mod harness;

use harness::{Harness, host_binary};
use std::io::Write;

const JOB: &str = r#"
[[job]]
name = "vip"
kind = "export-realtime"
auth = "cordial"
audience = "vip_customers"
list = "newsletter"
[job.field_mapping]
first_name = "first_name"
age = "age"
"#;

async fn host(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = tokio::process::Command::new(host_binary())
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn backfill(config: &std::path::Path, members: &std::path::Path) -> (bool, String, String) {
    host(&[
        "backfill".as_ref(),
        config.as_os_str(),
        "vip".as_ref(),
        "--members".as_ref(),
        members.as_os_str(),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ndjson_backfill_delivers_every_good_row_and_names_the_bad_ones() {
    let h = Harness::start().await;
    let config = h.config_file(JOB);
    let members = h.dir.path().join("members.ndjson");
    let mut f = std::fs::File::create(&members).unwrap();
    for i in 0..300 {
        writeln!(
            f,
            r#"{{"email":"m{i}@example.com","first_name":"M{i}","age":{i}}}"#
        )
        .unwrap();
        if i == 10 {
            writeln!(f, "{{broken").unwrap();
        }
    }
    writeln!(f, r#"{{"email":"old@example.com","age":"ancient"}}"#).unwrap();
    drop(f);

    let (ok, stdout, stderr) = backfill(&config, &members).await;
    assert!(
        !ok,
        "a backfill with bad rows or dead letters exits non-zero"
    );
    assert!(stdout.contains("queued 301 member(s)"), "{stdout}");
    assert!(
        stdout.contains("300 delivered, 1 dead-lettered"),
        "{stdout}"
    );
    assert!(
        stderr.contains("line 12"),
        "the broken line is named: {stderr}"
    );
    let handle = h.emulator.handle();
    for i in [0, 11, 299] {
        let c = handle.contact(&format!("email:m{i}@example.com")).unwrap();
        assert_eq!(c["lists"], serde_json::json!(["newsletter"]));
        assert_eq!(c["attributes"]["age"], i);
    }

    let (ok, stdout, _) = host(&[
        "dlq".as_ref(),
        "list".as_ref(),
        config.as_os_str(),
        "vip".as_ref(),
    ])
    .await;
    assert!(ok);
    assert!(
        stdout.contains("old@example.com") && stdout.contains("`ancient` is not a number"),
        "{stdout}"
    );
    let (ok, stdout, _) = host(&[
        "dlq".as_ref(),
        "retry".as_ref(),
        config.as_os_str(),
        "vip".as_ref(),
    ])
    .await;
    assert!(ok);
    assert!(stdout.contains("queued 1 dead letter(s)"), "{stdout}");
    let (_, stdout, _) = host(&[
        "dlq".as_ref(),
        "list".as_ref(),
        config.as_os_str(),
        "vip".as_ref(),
    ])
    .await;
    assert!(stdout.contains("no dead letters"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_backfill_with_quoted_cells_is_delivered() {
    let h = Harness::start().await;
    let config = h.config_file(JOB);
    let members = h.dir.path().join("members.csv");
    let mut text = String::from("email,first_name\n");
    for i in 0..120 {
        text.push_str(&format!("c{i}@example.com,\"Zoë, \"\"the {i}th\"\"\"\n"));
    }
    std::fs::write(&members, text).unwrap();
    let (ok, stdout, stderr) = backfill(&config, &members).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("120 delivered, 0 dead-lettered"),
        "{stdout}"
    );
    let c = h.emulator.handle().contact("email:c7@example.com").unwrap();
    assert_eq!(c["attributes"]["first_name"], "Zoë, \"the 7th\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_file_type_is_refused_with_what_to_do() {
    let h = Harness::start().await;
    let config = h.config_file(JOB);
    let members = h.dir.path().join("members.xlsx");
    std::fs::write(&members, "x").unwrap();
    let (ok, _, stderr) = backfill(&config, &members).await;
    assert!(!ok);
    assert!(stderr.contains(".ndjson, .jsonl or .csv"), "{stderr}");
}
