//! Hostile components in a served host, through the real binary: each attack of the
//! `hostile-realtime` fixture runs as a real-time job beside the healthy `vip`, in the same
//! `cordial-host serve`. The attack is stopped or refused with an error that says what
//! happened (in the dead letters and the host's log), and `vip`'s webhook is still
//! accepted and delivered to Cordial.

use cordial_e2e::audience_events::default_payload;
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::{Harness, components_dir};
use cordial_e2e::http::post;
use cordial_e2e::measure::peak_rss_mb;
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::wait_settled;
use cordial_host::db::DeadLetter;
use std::time::Duration;

const DRAIN: Duration = Duration::from_secs(90);

/// A real-time job `name` running the hostile fixture's `attack` through `auth`, one event
/// per call, one worker, `attempts` attempts, two seconds a call.
fn hostile(name: &str, attack: &str, auth: &str, attempts: u32) -> String {
    format!(
        "\n[[job]]\nname = \"{name}\"\nkind = \"export-realtime\"\nauth = \"{auth}\"\n\
         audience = \"vip_customers\"\ncomponent = \"{component}\"\ndescription = \"{attack}\"\n\
         [job.delivery]\nconcurrency = 1\nbatch_size = 1\nmax_attempts = {attempts}\n\
         [job.limits]\ntimeout_secs = 2\n",
        component = components_dir().join("hostile_realtime.wasm").display(),
    )
}

/// `serve` with `vip` and the `hostile` jobs (`(name, attack)`, through the emulator's
/// auth, one attempt each).
async fn serve_beside_vip(h: &Harness, attacks: &[(&str, &str)]) -> ServeProcess {
    let jobs: String = attacks
        .iter()
        .map(|(name, attack)| hostile(name, attack, "cordial", 1))
        .collect();
    ServeProcess::start(h, &format!("{}{jobs}", vip(""))).await
}

/// Posts an event of a contact whose user mentions `hostile` to `job`: the attack's trigger.
async fn provoke(host: &ServeProcess, job: &str, id: u64) {
    let email = format!("hostile-{id}@example.com");
    let event = default_payload(id, &email, "enter", "vip_customers", "");
    let (status, body) = post(&host.url(&format!("/hooks/{job}")), event, &[]).await;
    assert_eq!(status, 202, "{body}");
}

/// `vip` is served beside the attacks: its webhook is accepted and delivered to Cordial.
async fn vip_delivers(h: &Harness, host: &ServeProcess, email: &str) {
    let event = default_payload(900, email, "enter", "vip_customers", "");
    let (status, body) = post(&host.url("/hooks/vip"), event, &[]).await;
    assert_eq!(status, 202, "{body}");
    wait_settled(&h.store(), "vip", 1, DRAIN).await;
    assert_eq!(h.lists(email), ["Lytics_vip_customers"]);
}

/// The one dead letter of `job`, once its queue is settled.
async fn dead_letter(h: &Harness, job: &str) -> DeadLetter {
    let store = h.store();
    let counts = wait_settled(&store, job, 1, DRAIN).await;
    assert_eq!(counts.dead, 1, "{job}: {counts:?}");
    store.dead_letters(job).unwrap().remove(0)
}

/// The host's log, checked to be plain text: colours are for a terminal, and a log file
/// read by people's tools must not carry escape sequences.
fn plain_log(host: &ServeProcess) -> String {
    let log = host.log();
    assert!(!log.contains('\u{1b}'), "escape sequences in the log file");
    log
}

fn report_memory(host: &ServeProcess, after: &str) {
    let peak = peak_rss_mb(host.pid()).expect("the host's /proc status");
    eprintln!("peak RSS of cordial-host serve after {after}: {peak:.0} MiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_and_a_trap_fail_their_call_and_name_the_trap() {
    let h = Harness::start().await;
    let host = serve_beside_vip(&h, &[("panics", "panic"), ("traps", "trap")]).await;
    provoke(&host, "panics", 1).await;
    provoke(&host, "traps", 2).await;
    vip_delivers(&h, &host, "beside-traps@example.com").await;
    for job in ["panics", "traps"] {
        let dead = dead_letter(&h, job).await;
        eprintln!("{job}: {}", dead.error);
        assert!(
            dead.error.contains(&format!("job `{job}` failed"))
                && dead.error.contains("unreachable"),
            "{}",
            dead.error
        );
    }
    // The panic's message reached the host's log, tagged with the job.
    let log = plain_log(&host);
    let line = log
        .lines()
        .find(|l| l.contains("a hostile panic in deliver"))
        .unwrap_or_else(|| panic!("no panic message in the log:\n{log}"));
    assert!(line.contains("job=panics"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_flood_is_capped_per_call_and_a_request_flood_stops_at_the_deadline() {
    let h = Harness::start().await;
    let host = serve_beside_vip(
        &h,
        &[
            ("floods-log", "log-flood"),
            ("floods-cordial", "request-flood"),
        ],
    )
    .await;
    provoke(&host, "floods-log", 1).await;
    provoke(&host, "floods-cordial", 2).await;
    vip_delivers(&h, &host, "beside-floods@example.com").await;
    for job in ["floods-log", "floods-cordial"] {
        let dead = dead_letter(&h, job).await;
        assert!(
            dead.error.contains("running longer than its limit of 2s"),
            "{job}: {}",
            dead.error
        );
    }
    // The flood ran for its two seconds; the host kept 1 MiB of it and said how much it
    // dropped, in one line.
    let log = plain_log(&host);
    let dropped: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("bytes of the job's log: a call may log 1024 KiB"))
        .collect();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert!(dropped[0].contains("job=floods-log"), "{}", dropped[0]);
    let flood_lines = log.lines().filter(|l| l.contains("flood flood")).count();
    assert!(flood_lines > 0);
    let log_bytes = log.len();
    eprintln!(
        "log: {log_bytes} bytes, {flood_lines} flood lines kept; {}",
        dropped[0]
    );
    assert!(log_bytes < 4 << 20, "the log grew to {log_bytes} bytes");
    // The request flood reached Cordial until the deadline cut it off.
    let flood = h
        .emulator
        .handle()
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/hostile-flood")
        .count();
    eprintln!("the request flood sent {flood} requests in its 2 s");
    assert!(flood > 0);
    report_memory(&host, "the floods");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gigantic_reason_is_cut_and_a_gigantic_list_is_refused() {
    let h = Harness::start().await;
    let host = serve_beside_vip(
        &h,
        &[("huge-reason", "huge-return"), ("huge-list", "huge-list")],
    )
    .await;
    provoke(&host, "huge-reason", 1).await;
    provoke(&host, "huge-list", 2).await;
    vip_delivers(&h, &host, "beside-giants@example.com").await;

    // A 64 MiB reason is kept as its first 8 KiB and a note of what was cut.
    let dead = dead_letter(&h, "huge-reason").await;
    assert!(
        dead.error.len() < 9 << 10,
        "{} bytes kept",
        dead.error.len()
    );
    let cut = (64 << 20) - (8 << 10);
    assert!(
        dead.error
            .ends_with(&format!("… ({cut} more bytes cut by the host)")),
        "{}",
        &dead.error[8 << 10..]
    );
    // A million outcomes for one event: the call's answer is refused as a whole.
    let dead = dead_letter(&h, "huge-list").await;
    assert!(
        dead.error
            .contains("the component returned 1000000 results for 1 items"),
        "{}",
        dead.error
    );
    report_memory(&host, "the gigantic returns");
}

/// A `deliver` parked in the host (a sleep of an hour) is cut off at the call's deadline
/// although no wasm runs to notice the epoch: its event stays pending and is tried again,
/// and the worker goes on to the next event.
#[tokio::test(flavor = "multi_thread")]
async fn a_deliver_that_never_returns_is_cut_off_and_the_worker_goes_on() {
    let h = Harness::start().await;
    let jobs = format!("{}{}", vip(""), hostile("stalls", "stall", "cordial", 2));
    let host = ServeProcess::start(&h, &jobs).await;
    provoke(&host, "stalls", 1).await;
    // A calm contact behind it, for the same single worker.
    let calm = default_payload(2, "calm@example.com", "enter", "vip_customers", "");
    assert_eq!(post(&host.url("/hooks/stalls"), calm, &[]).await.0, 202);
    vip_delivers(&h, &host, "beside-the-stall@example.com").await;

    let store = h.store();
    let counts = wait_settled(&store, "stalls", 2, DRAIN).await;
    assert_eq!((counts.done, counts.dead), (1, 1), "{counts:?}");
    let dead = store.dead_letters("stalls").unwrap().remove(0);
    assert_eq!(dead.attempts, 2, "cut off, retried, cut off again");
    assert!(
        dead.error.contains("running longer than its limit of 2s"),
        "{}",
        dead.error
    );
    assert!(dead.key.contains("hostile-1"), "{}", dead.key);
}

/// The origin `http://127.1:<port>` is a name to the host (not an IP literal), which the
/// resolver reads as 127.0.0.1, as a rebinding DNS answer would: the request is refused
/// before it connects. The same request to the origin written as `127.0.0.1` (how the
/// emulator is configured) goes through.
#[tokio::test(flavor = "multi_thread")]
async fn an_origin_whose_name_resolves_to_loopback_is_refused_unless_written_as_an_address() {
    let h = Harness::start().await;
    let literal = h.emulator.base_url();
    let rebound = literal.replace("127.0.0.1", "127.1");
    assert_ne!(literal, rebound);
    let jobs = format!(
        "[auth.rebound]\nbase_url = \"{rebound}\"\napi_key_file = \"{key}\"\n{}{}{}",
        vip(""),
        hostile("rebound", "fetch-origin", "rebound", 1),
        hostile("literal", "fetch-origin", "cordial", 1),
        key = h.api_key_file().display(),
    );
    let host = ServeProcess::start(&h, &jobs).await;
    provoke(&host, "rebound", 1).await;
    provoke(&host, "literal", 2).await;
    vip_delivers(&h, &host, "beside-the-probe@example.com").await;

    let refused = dead_letter(&h, "rebound").await;
    assert!(
        refused.error.starts_with("the request failed"),
        "{}",
        refused.error
    );
    let log = plain_log(&host);
    assert!(
        log.lines().any(|l| l.contains("job=rebound")
            && l.contains("refused to connect to `127.1`: it resolves to 127.0.0.1")),
        "{log}"
    );
    let allowed = dead_letter(&h, "literal").await;
    assert_eq!(allowed.error, "status 404");
    // Only the literal origin's probe reached the emulator.
    let probes = h
        .emulator
        .handle()
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/hostile-probe")
        .count();
    assert_eq!(probes, 1);
}

/// The misbehaving fixture (a scheduled job, with SFTP) tries to write, read, list and
/// remove outside its folder on a real sshd, by `..` and by absolute paths, while `vip`
/// delivers in the same runtime: every attempt is refused as outside the folder, nothing
/// is written outside it, and `vip`'s events reach Cordial.
#[tokio::test(flavor = "multi_thread")]
async fn sftp_paths_leaving_the_folder_are_refused_while_another_job_delivers() {
    use cordial_e2e::activity::Activity;
    use cordial_host::runtime::{CallContext, RunOutcome};
    use cordial_jobs::realtime::Membership;
    use cordial_jobs::realtime::job::AudienceEvent;

    let a = Activity::start().await;
    let rogue = format!(
        "{sftp}\n[[job]]\nname = \"rogue\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         component = \"{component}\"\naction = \"sftp-escape\"\nsftp_saved_key = \"{key}\"\n",
        sftp = cordial_e2e::sftp::sftp_auth(&a.sshd),
        component = components_dir().join("misbehaving.wasm").display(),
        key = cordial_e2e::sftp::SAVED_KEY,
    );
    let runtime = a.h.runtime(&format!("{rogue}{}", vip("")));
    let (rogue, healthy) = (
        runtime.config().job("rogue").unwrap().clone(),
        runtime.config().job("vip").unwrap().clone(),
    );
    let events = [AudienceEvent {
        event_id: 1,
        audience: "vip_customers".into(),
        kind: Membership::Enter,
        user: r#"{"email":"beside-the-escape@example.com"}"#.into(),
        occurred_at: None,
    }];
    let call = CallContext::now();
    let (escape, delivered) = tokio::join!(
        runtime.run(&rogue, &call),
        runtime.deliver(&healthy, &events),
    );

    let summary = match escape.unwrap() {
        RunOutcome::Completed(report) => report.summary,
        RunOutcome::Failed(e) => panic!("{e:?}"),
    };
    let attempts: Vec<&str> = summary.lines().collect();
    assert_eq!(attempts.len(), 12, "{summary}");
    for attempt in &attempts {
        assert!(attempt.contains(": SftpError::OutsideRoot("), "{attempt}");
    }
    let folder = a.sshd.files_dir();
    assert!(!folder.parent().unwrap().join("escaped.txt").exists());
    assert!(!std::path::Path::new("/tmp/escaped.txt").exists());
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        0,
        "nothing left in the folder"
    );

    assert_eq!(
        delivered.unwrap(),
        [cordial_jobs::job::Outcome::Delivered],
        "vip delivers beside the escape"
    );
    assert_eq!(
        a.h.lists("beside-the-escape@example.com"),
        ["Lytics_vip_customers"]
    );
}
