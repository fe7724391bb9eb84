//! The command line itself: what a person sees when they get it wrong. (Having an
//! integration test here also makes `cargo test --workspace` build the `cordial-host`
//! binary that the end-to-end tests run, with the same features as everything else.)

use std::process::Command;

fn host(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cordial-host"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn help_lists_every_command() {
    let (ok, text) = host(&["--help"]);
    assert!(ok);
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
            text.contains(command),
            "`{command}` missing from --help:\n{text}"
        );
    }
}

#[test]
fn a_missing_config_file_is_named() {
    let (ok, text) = host(&["check", "/nonexistent/cordial-host.toml"]);
    assert!(!ok);
    assert!(
        text.contains("/nonexistent/cordial-host.toml: cannot read the config file"),
        "{text}"
    );
}

#[test]
fn an_unknown_job_lists_the_jobs_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[auth.a]\napi_key_env = \"K\"\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"a\"\n",
    )
    .unwrap();
    let (ok, text) = host(&["run", config.to_str().unwrap(), "activty"]);
    assert!(!ok);
    assert!(
        text.contains("no job named `activty`; the config has: activity"),
        "{text}"
    );
}
