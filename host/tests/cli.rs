//! The command line itself: what a person sees when they get it wrong. (Having an
//! integration test here also makes `cargo test --workspace` build the `cordial-host`
//! binary that the end-to-end tests run, with the same features as everything else.)

use cordial_e2e::cli::host;

#[tokio::test]
async fn help_lists_every_command() {
    let ran = host(&[&"--help"]).await;
    assert!(ran.ok);
    for command in [
        "check",
        "run",
        "serve",
        "backfill",
        "stream",
        "quarantine",
        "dlq",
        "audit",
    ] {
        assert!(
            ran.to_string().contains(command),
            "`{command}` missing from --help:\n{ran}"
        );
    }
}

#[tokio::test]
async fn a_missing_config_file_is_named() {
    let ran = host(&[&"check", &"/nonexistent/cordial-host.toml"]).await;
    assert!(!ran.ok);
    assert!(
        ran.to_string()
            .contains("/nonexistent/cordial-host.toml: cannot read the config file"),
        "{ran}"
    );
}

#[tokio::test]
async fn an_unknown_job_lists_the_jobs_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[auth.a]\napi_key_env = \"K\"\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"a\"\n",
    )
    .unwrap();
    let ran = host(&[&"run", &config, &"activty"]).await;
    assert!(!ran.ok);
    assert!(
        ran.to_string()
            .contains("no job named `activty`; the config has: activity"),
        "{ran}"
    );
}
