//! The README's first command stays true: `./dev demo` (this crate's binary) runs the jobs
//! end to end against the embedded emulator and succeeds. The job components must be built
//! (`./dev build`).

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_runs_end_to_end() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cordial-demo"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("✓ config and job settings are valid"),
        "{stdout}"
    );
    assert!(stdout.contains("✓ activity: imported "), "{stdout}");
    assert!(
        stdout.contains(r#"{"cr_contact_id":"#),
        "the stream holds mapped activity: {stdout}"
    );
    assert!(
        stdout.contains("✓ vip-bulk: exported 3 member(s) in 1 file(s)"),
        "{stdout}"
    );
    assert!(stdout.contains(r#"202 Accepted {"accepted":3"#), "{stdout}");
    // Activity reaches the platform stand-in: what the run imported, then the two pushes.
    let held = |prefix: &str| -> usize {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line: {stdout}"));
        line[prefix.len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let after_run = held("✓ the platform stand-in holds ");
    let after_pushes = held("✓ pushed activity forwarded: the platform stand-in holds ");
    assert!(after_run > 0, "{stdout}");
    assert_eq!(after_pushes, after_run + 2, "{stdout}");
    assert!(
        stdout.contains(r#"202 Accepted {"accepted":2"#),
        "the pushes were taken: {stdout}"
    );
    assert!(
        stdout.contains("✓ demo finished: 3 events delivered, 0 dead-lettered"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#""lists":["Lytics_vip_customers"]"#),
        "Beth is in the list: {stdout}"
    );
}
