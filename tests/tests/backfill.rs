//! `cordial-host backfill` ("Existing Users") and `cordial-host dlq`: member files streamed
//! through the same delivery path as webhook events; bad rows and dead letters reported.

use cordial_e2e::cli::{Ran, host};
use cordial_e2e::harness::Harness;
use cordial_e2e::realtime_job::{FIRST_NAME_AND_AGE, vip};
use std::io::Write;
use std::path::Path;

fn job() -> String {
    vip(&format!("list = \"newsletter\"\n{FIRST_NAME_AND_AGE}"))
}

async fn backfill(config: &Path, members: &Path) -> Ran {
    host(&[&"backfill", &config, &"vip", &"--members", &members]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ndjson_backfill_delivers_every_good_row_and_names_the_bad_ones() {
    let h = Harness::start().await;
    let config = h.config_file(&job());
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

    let ran = backfill(&config, &members).await;
    assert!(
        !ran.ok,
        "a backfill with bad rows or dead letters exits non-zero"
    );
    assert!(ran.stdout.contains("queued 301 member(s)"), "{ran}");
    assert!(
        ran.stdout.contains("300 delivered, 1 dead-lettered"),
        "{ran}"
    );
    assert!(
        ran.stderr.contains("line 12"),
        "the broken line is named: {ran}"
    );
    let handle = h.emulator.handle();
    for i in [0, 11, 299] {
        let c = handle.contact(&format!("email:m{i}@example.com")).unwrap();
        assert_eq!(c["lists"], serde_json::json!(["newsletter"]));
        assert_eq!(c["attributes"]["age"], i);
    }

    let dlq = async |command: &str| host(&[&"dlq", &command, &config, &"vip"]).await;
    let listed = dlq("list").await;
    assert!(listed.ok);
    assert!(
        listed.stdout.contains("old@example.com")
            && listed.stdout.contains("`ancient` is not a number"),
        "{listed}"
    );
    let retried = dlq("retry").await;
    assert!(retried.ok);
    assert!(
        retried.stdout.contains("queued 1 dead letter(s)"),
        "{retried}"
    );
    let listed = dlq("list").await;
    assert!(listed.stdout.contains("no dead letters"), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_backfill_with_quoted_cells_is_delivered() {
    let h = Harness::start().await;
    let config = h.config_file(&job());
    let members = h.dir.path().join("members.csv");
    let mut text = String::from("email,first_name\n");
    for i in 0..120 {
        text.push_str(&format!("c{i}@example.com,\"Zoë, \"\"the {i}th\"\"\"\n"));
    }
    std::fs::write(&members, text).unwrap();
    let ran = backfill(&config, &members).await;
    assert!(ran.ok, "{ran}");
    assert!(
        ran.stdout.contains("120 delivered, 0 dead-lettered"),
        "{ran}"
    );
    let c = h.contact("c7@example.com");
    assert_eq!(c["attributes"]["first_name"], "Zoë, \"the 7th\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_file_type_is_refused_with_what_to_do() {
    let h = Harness::start().await;
    let config = h.config_file(&job());
    let members = h.dir.path().join("members.xlsx");
    std::fs::write(&members, "x").unwrap();
    let ran = backfill(&config, &members).await;
    assert!(!ran.ok);
    assert!(ran.stderr.contains(".ndjson, .jsonl or .csv"), "{ran}");
}
