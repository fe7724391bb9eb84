//! `cordial-host check`: config problems and each job's own checks (done by its component,
//! against the emulator), reported with their place and what to fix.

use cordial_e2e::cli::host;
use cordial_e2e::harness::Harness;
use cordial_e2e::realtime_job::vip;
use cordial_host::commands::check::check_config;
use cordial_host::config::{self, HostConfig};

/// `vip`, sending `first_name` and the `more` mapping lines.
fn realtime(more: &str) -> String {
    vip(&format!(
        "[job.field_mapping]\nfirst_name = \"first_name\"\n{more}"
    ))
}

/// Each problem `check` finds with `config`, as it is printed.
async fn problems_of(config: HostConfig) -> Vec<String> {
    check_config(config)
        .await
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect()
}

async fn problems(h: &Harness, jobs: &str) -> Vec<String> {
    problems_of(h.config(jobs)).await
}

/// Fails unless one of the problems `found` mentions every one of `parts`.
fn assert_reported(found: &[String], parts: &[&str]) {
    assert!(
        found
            .iter()
            .any(|p| parts.iter().all(|part| p.contains(part))),
        "no problem mentions {parts:?}: {found:?}"
    );
}

/// The problems of `jobs` once `text` is changed to `changed` in the config.
async fn problems_after(h: &Harness, jobs: &str, text: &str, changed: &str) -> Vec<String> {
    let text = h.config_text(jobs).replace(text, changed);
    problems_of(config::parse(&text).unwrap()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_config_has_no_problems() {
    let h = Harness::start().await;
    let jobs = format!(
        "{}\n[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\nimport_since = 2026-11-01\n",
        realtime("")
    );
    assert_eq!(problems(&h, &jobs).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mapping_to_a_missing_attribute_is_a_config_error() {
    let h = Harness::start().await;
    let jobs = realtime("favourite_colour = \"fav_colour\"\n");
    let found = problems(&h, &jobs).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("job \"vip\" → field_mapping.favourite_colour: Cordial has no contact attribute `fav_colour`"),
        "{found:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_list_and_a_geo_subfield_of_a_plain_attribute_are_reported() {
    let h = Harness::start().await;
    let jobs = realtime("town = \"first_name.city\"\n").replace(
        "audience = \"vip_customers\"",
        "audience = \"vip_customers\"\nlist = \"no_such_list\"",
    );
    let found = problems(&h, &jobs).await;
    assert_reported(&found, &["field_mapping.town", "not a geo attribute"]);
    assert_reported(
        &found,
        &["→ list: Cordial has no list named `no_such_list`"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_mistakes_are_caught_by_the_component_before_any_call() {
    let h = Harness::start().await;
    let jobs = "[[job]]\nname = \"a\"\nkind = \"import-activity\"\nauth = \"cordial\"\nimport_sinse = \"2026-11-01\"\nkeep_files = \"yes\"\n";
    let found = problems(&h, jobs).await;
    assert_reported(&found, &["import_sinse", "did you mean `import_since`"]);
    assert_reported(&found, &["keep_files: must be true or false"]);
    assert!(
        h.emulator.handle().requests().is_empty(),
        "no Cordial call for a shape error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_api_key_is_reported_as_a_401_with_what_to_check() {
    let h = Harness::start().await;
    std::fs::write(h.api_key_file(), "not-the-key").unwrap();
    let found = problems(&h, &realtime("")).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("job \"vip\" → auth"), "{found:?}");
    assert!(
        found[0].contains("401") && found[0].contains("check the key"),
        "{found:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_cordial_is_reported_not_hung() {
    let h = Harness::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let found = problems_after(
        &h,
        &realtime(""),
        &h.emulator.base_url(),
        &format!("http://127.0.0.1:{port}"),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("could not check the settings against Cordial"),
        "{found:?}"
    );
    assert!(found[0].contains("connection failed"), "{found:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_secret_is_reported_before_any_job_runs() {
    let h = Harness::start().await;
    let found = problems_after(
        &h,
        &realtime(""),
        &format!("api_key_file = \"{}\"", h.api_key_file().display()),
        "api_key_env = \"CORDIAL_E2E_SURELY_UNSET\"",
    )
    .await;
    assert_eq!(
        found,
        [
            "auth \"cordial\": environment variable CORDIAL_E2E_SURELY_UNSET is not set; export it, or use a *_file setting"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_command_prints_problems_and_exits_non_zero() {
    let h = Harness::start().await;
    let bad = h.config_file(&format!(
        "{}\n[[job]]\nname = \"b\"\nkind = \"export-all\"\nauth = \"cordial\"\n",
        realtime("")
    ));
    let ran = host(&[&"check", &bad]).await;
    assert!(!ran.ok);
    assert!(ran.stderr.contains("1 problem to fix"), "{ran}");
    assert!(
        ran.stderr
            .contains("job \"b\": kind `export-all` is unknown; use one of: import-activity"),
        "{ran}"
    );

    let good = h.config_file(&realtime(""));
    let ran = host(&[&"check", &good]).await;
    assert!(ran.ok, "{ran}");
    assert!(ran.stdout.contains("config and job settings are valid"));
}
