//! The Spin deployment (`spin/`) in a real `spin up` against the emulator: the composed
//! components as Spin sees them, the platform's webhooks and the capture submissions ending
//! in the same Cordial state as through the bundled host, the secrets, the outbound
//! allow-list, and a Spin process killed mid-delivery.

use cordial_e2e::audience_events::{batch, cloud_event, default_payload};
use cordial_e2e::capture::{self, capture_job};
use cordial_e2e::harness::Harness;
use cordial_e2e::http::{post, status_for_announced_body};
use cordial_e2e::realtime_job::{FIRST_NAME_AND_AGE, vip};
use cordial_e2e::serving::Serving;
use cordial_e2e::spin::{
    CAPTURE_SECRET, Deployment, RUN_SECRET, SpinApp, WEBHOOK_SECRET, dist, run_to_the_end,
};
use cordial_emulator::Fault;
use cordial_jobs::intake::{CAPTURE_LIMIT, HOOKS_LIMIT};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const HOOK: &str = "/hooks/export-realtime";
const CAPTURE: &str = "/capture/experience-capture";

fn bearer(secret: &str) -> [(&'static str, String); 1] {
    [("authorization", format!("Bearer {secret}"))]
}

async fn post_as(url: &str, body: impl Into<String>, secret: &str) -> (u16, Value) {
    let [(name, value)] = bearer(secret);
    post(url, body, &[(name, value.as_str())]).await
}

#[test]
fn each_composed_component_exports_one_http_handler_and_imports_only_what_spin_provides() {
    for cordial_spin::Composed { name, .. } in cordial_spin::COMPOSED {
        let bytes = std::fs::read(dist().join(format!("{name}.wasm"))).unwrap();
        cordial_spin::check_for_spin(&bytes).unwrap();
        let (imports, exports) = cordial_spin::interface(&bytes).unwrap();
        assert_eq!(exports, [cordial_spin::HANDLER], "{name}");
        assert!(
            imports.iter().all(|i| !i.starts_with("cordial:")),
            "{name}: the project's own interfaces are all satisfied inside: {imports:?}"
        );
    }
    // The check is real: a job component as the bundled host runs it is not a Spin component.
    let bulk =
        std::fs::read(cordial_e2e::harness::components_dir().join("export_bulk.wasm")).unwrap();
    let refusal = cordial_spin::check_for_spin(&bulk).unwrap_err().to_string();
    assert!(refusal.contains("exactly one HTTP handler"), "{refusal}");
    assert!(refusal.contains("cordial:jobs/sftp@0.2.0"), "{refusal}");
}

#[test]
fn the_api_key_reaches_only_the_proxy_and_no_job_imports_spins_own_variables() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string("../spin/spin.toml").unwrap()).unwrap();
    let holders: Vec<&String> = manifest["component"]
        .as_table()
        .unwrap()
        .iter()
        .filter(|(_, c)| {
            c.get("variables")
                .and_then(|v| v.as_table())
                .is_some_and(|vars| {
                    vars.values()
                        .any(|v| v.as_str().unwrap_or("").contains("cordial_api_key"))
                })
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(holders, ["cordial-proxy"]);
    for cordial_spin::Composed { job, .. } in cordial_spin::COMPOSED {
        let bytes = std::fs::read(cordial_e2e::harness::components_dir().join(job)).unwrap();
        let (imports, _) = cordial_spin::interface(&bytes).unwrap();
        assert!(
            !imports
                .iter()
                .any(|i| i.starts_with("spin:") || i.starts_with("fermyon:")),
            "{job}: {imports:?}"
        );
        // Its settings come from `wasi:config/store`, which the composition gives it from
        // the settings scope, never from Spin's variables directly.
        assert!(imports.iter().any(|i| i.starts_with("wasi:config/store@")));
        // Nor does it open sockets: the SSH session (and the SFTP password) is the adapter's.
        assert!(
            !imports.iter().any(|i| i.starts_with("wasi:sockets/")),
            "{job}: {imports:?}"
        );
    }
}

/// The webhook bodies of one scenario: enter, change and exit in both formats, a batch
/// mixing formats with an event of another audience and one without an email.
fn webhook_scenario() -> Vec<String> {
    let ann = r#","first_name":"Ann","age":30"#;
    vec![
        default_payload(1, "ann@x.io", "enter", "vip_customers", ann),
        cloud_event(
            2,
            "bob@x.io",
            "enter",
            "vip_customers",
            r#","first_name":"Bob""#,
        ),
        default_payload(
            3,
            "ann@x.io",
            "change",
            "vip_customers",
            r#","first_name":"Annie""#,
        ),
        batch(&[
            default_payload(4, "bob@x.io", "exit", "vip_customers", ""),
            cloud_event(5, "cy@x.io", "enter", "vip_customers", r#","age":41"#),
            default_payload(6, "dan@x.io", "enter", "others", ""),
            default_payload(7, "", "enter", "vip_customers", ""),
        ]),
    ]
}

/// What Cordial holds of each email: lists, first name, age (the ids and times differ).
fn cordial_state(h: &Harness, emails: &[&str]) -> Vec<Value> {
    emails
        .iter()
        .map(|email| match h.find_contact(email) {
            None => json!({ "email": email, "absent": true }),
            Some(c) => json!({
                "email": email,
                "lists": c["lists"],
                "first_name": c["attributes"]["first_name"],
                "age": c["attributes"]["age"],
            }),
        })
        .collect()
}

const EMAILS: [&str; 4] = ["ann@x.io", "bob@x.io", "cy@x.io", "dan@x.io"];

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_through_spin_end_in_the_same_cordial_state_as_through_the_host() {
    let through_host = Harness::start().await;
    let served = Serving::start(&through_host, &vip(FIRST_NAME_AND_AGE)).await;
    let mut host_answers = Vec::new();
    for body in webhook_scenario() {
        let (status, answer) = post(&served.hook("vip"), body, &[]).await;
        host_answers.push((
            status,
            answer["accepted"].clone(),
            answer["ignored_other_audiences"].clone(),
        ));
        served.drained("vip", Duration::from_secs(30)).await;
    }
    let through_spin = Harness::start().await;
    let spin = SpinApp::start(&through_spin, Deployment::default()).await;
    let mut spin_answers = Vec::new();
    let mut dead = 0;
    for body in webhook_scenario() {
        let (status, answer) = post_as(&spin.url(HOOK), body, WEBHOOK_SECRET).await;
        assert_eq!(answer["delivery"]["retrying"], 0, "{answer}");
        dead += answer["delivery"]["dead_lettered"].as_u64().unwrap();
        spin_answers.push((
            status,
            answer["accepted"].clone(),
            answer["ignored_other_audiences"].clone(),
        ));
    }
    assert_eq!(spin_answers, host_answers);
    assert_eq!(dead, 1, "the event without an email is dead-lettered");
    let expected = cordial_state(&through_host, &EMAILS);
    assert_eq!(cordial_state(&through_spin, &EMAILS), expected);
    assert_eq!(expected[0]["first_name"], "Annie");
    assert_eq!(
        expected[3]["absent"], true,
        "another audience's event is not sent"
    );

    // Malformed payloads: the same 400 and the element at fault, nothing queued.
    for body in [
        r#"{"id":1}"#,
        "[",
        r#"[{"id":"1","data":{"email":"e@x.io","segment_events":[{"slug":"vip_customers","event":"jump"}]}}]"#,
    ] {
        let (host_status, host_answer) = post(&served.hook("vip"), body, &[]).await;
        let (status, answer) = post_as(&spin.url(HOOK), body, WEBHOOK_SECRET).await;
        assert_eq!((status, &answer), (host_status, &host_answer), "{body}");
        assert_eq!(status, 400);
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_routes_and_sizes_are_refused_as_the_host_refuses_them() {
    let h = Harness::start().await;
    let spin = SpinApp::start(&h, Deployment::default()).await;
    let enter = default_payload(1, "ann@x.io", "enter", "vip_customers", "");
    assert_eq!(post(&spin.url(HOOK), enter.clone(), &[]).await.0, 401);
    assert_eq!(
        post_as(&spin.url(HOOK), enter.clone(), "wrong").await.0,
        401
    );
    assert_eq!(
        post_as(&spin.url(HOOK), enter.clone(), CAPTURE_SECRET)
            .await
            .0,
        401,
        "each job has its own secret"
    );
    let (status, answer) = post_as(&spin.url("/run/export-realtime"), "", WEBHOOK_SECRET).await;
    assert_eq!(
        status, 401,
        "the run route takes the run secret only: {answer}"
    );
    // Refused on their content-length, before the body is read.
    let hook_secret = format!("Bearer {WEBHOOK_SECRET}");
    let hook = [("authorization", hook_secret.as_str())];
    assert_eq!(
        status_for_announced_body(&spin.url(HOOK), HOOKS_LIMIT.max_bytes + 1, &hook).await,
        413
    );
    let capture_secret = format!("Bearer {CAPTURE_SECRET}");
    let capture = [("authorization", capture_secret.as_str())];
    assert_eq!(
        status_for_announced_body(&spin.url(CAPTURE), CAPTURE_LIMIT.max_bytes + 1, &capture).await,
        413
    );
    assert_eq!(h.emulator.handle().contact_count(), 0, "nothing was sent");
    assert!(h.emulator.handle().requests().is_empty());
}

/// Three submissions, opted in, opted out and silent, as `mode` treats them: through the
/// host and through Spin, the same contacts with the same statuses.
#[tokio::test(flavor = "multi_thread")]
async fn each_opt_in_mode_decides_submissions_on_spin_as_in_the_host() {
    let submissions = json!([
        {"email": "yes@x.io", "opt_in": true, "country": "US", "answers": {"first_name": "Yes"}},
        {"email": "no@x.io", "opt_in": false, "country": "US", "answers": {"first_name": "No"}},
        {"email": "quiet@x.io", "country": "US", "answers": {"first_name": "Quiet"}},
    ]);
    let emails = ["yes@x.io", "no@x.io", "quiet@x.io"];
    let mut outcomes = Vec::new();
    for mode in ["opted_in", "opted_in_or_unknown", "all"] {
        let through_host = capture::start().await;
        let settings = format!(
            "auto_subscribe = true\nopt_in_mode = \"{mode}\"\nopt_in_attribute = \"quiz_opt_in\"\n\
             [job.field_mapping]\nfirst_name = \"first_name\"\n"
        );
        let served = Serving::start(&through_host, &capture_job("quiz", &settings)).await;
        capture::submit(&served.capture("quiz"), &submissions).await;
        served.settled("quiz", 3, Duration::from_secs(30)).await;
        served.stop().await;

        let through_spin = capture::start().await;
        let deployment = Deployment::default()
            .variable("capture_opt_in_mode", mode)
            .variable("capture_auto_subscribe", "true")
            .variable("capture_field_mapping", r#"{"first_name":"first_name"}"#)
            .component_variable("experience-capture", "opt_in_attribute", "quiz_opt_in");
        let spin = SpinApp::start(&through_spin, deployment).await;
        let (status, answer) =
            post_as(&spin.url(CAPTURE), submissions.to_string(), CAPTURE_SECRET).await;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (202, Some(3)),
            "{answer}"
        );
        assert_eq!(answer["delivery"]["retrying"], 0, "{answer}");

        let state = |h: &Harness| -> Vec<Value> {
            emails
                .iter()
                .map(|e| match capture::contact(h, e) {
                    None => json!(null),
                    Some(c) => json!([
                        c["channels"]["email"]["subscribeStatus"],
                        c["attributes"]["quiz_opt_in"],
                        c["attributes"]["first_name"]
                    ]),
                })
                .collect()
        };
        let expected = state(&through_host);
        assert_eq!(state(&through_spin), expected, "opt_in_mode = {mode}");
        outcomes.push(expected);
    }
    assert_ne!(
        outcomes[0], outcomes[1],
        "the modes differ, so the comparison means something"
    );
    assert_ne!(outcomes[1], outcomes[2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_cannot_reach_cordial_past_the_proxy() {
    let h = Harness::start().await;
    // The job is told to call the emulator directly; Spin allows it the proxy only.
    let deployment = Deployment::default().component_variable(
        "export-realtime",
        "ingress_cordial_url",
        &h.emulator.base_url(),
    );
    let spin = SpinApp::start(&h, deployment).await;
    let enter = default_payload(1, "ann@x.io", "enter", "vip_customers", "");
    let (status, answer) = post_as(&spin.url(HOOK), enter, WEBHOOK_SECRET).await;
    assert_eq!(
        status, 202,
        "stored, so the platform need not retry: {answer}"
    );
    assert_eq!(answer["delivery"]["delivered"], 0, "{answer}");
    assert!(
        h.emulator.handle().requests().is_empty(),
        "Spin let no connection through"
    );
    let printed = spin.output();
    assert!(printed.contains("not allowed"), "{printed}");
    // A denied request is the deployment's mistake, not a passing fault: the event is
    // dead-lettered with the reason, kept for replay.
    assert_eq!(answer["delivery"]["dead_lettered"], 1, "{answer}");
    let dead = spin.stored("outbox/export-realtime/dead/");
    assert_eq!(dead.len(), 1);
    assert!(dead[0].1.contains("denied"), "{}", dead[0].1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_secret_variable_stops_spin_with_its_name() {
    let h = Harness::start().await;
    let printed = SpinApp::refused(&h, Deployment::default().without("cordial_api_key")).await;
    assert!(printed.contains("cordial_api_key"), "{printed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spin_killed_mid_delivery_loses_nothing() {
    let h = Harness::start().await;
    let deployment = Deployment::default().variable("lease_secs", "1");
    let mut spin = SpinApp::start(&h, deployment).await;
    // Each contact enters as A, then is renamed B, then C: three rounds of upserts.
    let mut events = Vec::new();
    for i in 0..10 {
        let email = format!("k{i}@x.io");
        for (n, (event, name)) in [("enter", "A"), ("change", "B"), ("change", "C")]
            .iter()
            .enumerate()
        {
            let extra = format!(r#","first_name":"{name}""#);
            events.push(default_payload(
                (i * 3 + n) as u64,
                &email,
                event,
                "vip_customers",
                &extra,
            ));
        }
    }
    // Every Cordial call now takes 30 s: the delivery is surely under way when Spin dies.
    h.emulator.handle().set_latency(Duration::from_secs(30));
    let url = spin.url(HOOK);
    let body = batch(&events);
    let pending = tokio::spawn(async move {
        cordial_e2e::http::client()
            .post(url)
            .bearer_auth(WEBHOOK_SECRET)
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // Kill Spin once the batch is in the outbox (its key in Spin's store), mid-delivery.
    let deadline = Instant::now() + Duration::from_secs(60);
    while spin.stored("outbox/export-realtime/batch/").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the batch never reached the outbox"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    spin.kill();
    assert!(
        !matches!(pending.await.unwrap(), Ok(200..=299)),
        "the platform got no 2xx, so it would also retry"
    );
    h.emulator.handle().set_latency(Duration::ZERO);
    assert!(
        (0..10).all(|i| h.find_contact(&format!("k{i}@x.io")).is_none()),
        "nothing was delivered before the kill"
    );

    spin.restart().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, answer) = post_as(&spin.url("/run/export-realtime"), "", RUN_SECRET).await;
        assert_eq!(status, 200, "{answer}");
        let done = (0..10).all(|i| {
            h.find_contact(&format!("k{i}@x.io")).is_some_and(|c| {
                c["attributes"]["first_name"] == "C"
                    && c["lists"] == json!(["Lytics_vip_customers"])
            })
        });
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered after the restart: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_holds_the_outbox_until_retry_after_and_keeps_each_contacts_order() {
    let h = Harness::start().await;
    let spin = SpinApp::start(&h, Deployment::default()).await;
    let warm = default_payload(1, "warm@x.io", "enter", "vip_customers", "");
    assert_eq!(post_as(&spin.url(HOOK), warm, WEBHOOK_SECRET).await.0, 202);
    h.emulator.handle().inject(Fault::RateLimited {
        retry_after_secs: 2,
        count: 1,
    });
    let enter = default_payload(2, "ann@x.io", "enter", "vip_customers", "");
    let (status, answer) = post_as(&spin.url(HOOK), enter, WEBHOOK_SECRET).await;
    assert_eq!(
        (status, &answer["delivery"]["retrying"]),
        (202, &json!(1)),
        "{answer}"
    );
    // Ann leaves and Bob enters while the hold lasts: stored, not sent.
    let more = batch(&[
        default_payload(3, "ann@x.io", "exit", "vip_customers", ""),
        default_payload(4, "bob@x.io", "enter", "vip_customers", ""),
    ]);
    let (status, answer) = post_as(&spin.url(HOOK), more, WEBHOOK_SECRET).await;
    assert_eq!(
        (status, &answer["delivery"]["delivered"]),
        (202, &json!(0)),
        "{answer}"
    );
    assert!(
        answer["delivery"]["skipped"]
            .as_str()
            .unwrap()
            .contains("Retry-After"),
        "{answer}"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    while h.find_contact("bob@x.io").is_none() {
        assert!(
            Instant::now() < deadline,
            "the held items were never delivered"
        );
        let (status, _) = post_as(&spin.url("/run/export-realtime"), "", RUN_SECRET).await;
        assert_eq!(status, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let requests = h.emulator.handle().requests();
    assert_eq!(
        cordial_e2e::rate_limits::assert_retry_after_held(&requests, Duration::from_secs(2), 0),
        1
    );
    assert!(
        h.lists("ann@x.io").is_empty(),
        "Ann's exit came after her enter"
    );
    assert_eq!(h.lists("bob@x.io"), ["Lytics_vip_customers"]);
}

/// Delivers what is pending through `/run` on every replica in turn until a full round
/// finds nothing to do (no batch, no hold, no lease held).
async fn drain_all(replicas: &[&SpinApp]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut idle = true;
        let mut answers: Vec<Value> = Vec::new();
        for spin in replicas {
            let (status, answer) = post_as(&spin.url("/run/export-realtime"), "", RUN_SECRET).await;
            assert_eq!(status, 200, "{answer}");
            let d = &answer["delivery"];
            if d["delivered"] != 0
                || d["retrying"] != 0
                || d["batches_left"] != 0
                || !d["skipped"].is_null()
            {
                idle = false;
            }
            answers.push(answer);
        }
        if idle {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never emptied: {answers:?}"
        );
    }
}

/// Two `spin up` replicas of the shipped deployment sharing one Redis key-value store, and
/// that Redis, to keep for as long as the replicas run.
async fn two_replicas(h: &Harness) -> (cordial_e2e::redis::RedisServer, SpinApp, SpinApp) {
    let redis = cordial_e2e::redis::RedisServer::start().await;
    let deployment = Deployment::default().redis(&redis.url);
    let a = SpinApp::start(h, deployment.clone()).await;
    let b = SpinApp::start(h, deployment).await;
    (redis, a, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_on_one_redis_deliver_every_event_exactly_once() {
    let h = Harness::start().await;
    let (_redis, a, b) = two_replicas(&h).await;
    // 20 batches of 10 contacts (enter, then exit), posted to both replicas at once.
    let mut posts = tokio::task::JoinSet::new();
    for n in 0..20 {
        let url = if n % 2 == 0 { a.url(HOOK) } else { b.url(HOOK) };
        let events: Vec<String> = (0..10)
            .flat_map(|i| {
                let email = format!("r{n}-{i}@x.io");
                [
                    default_payload(1, &email, "enter", "vip_customers", r#","first_name":"R""#),
                    default_payload(2, &email, "exit", "vip_customers", ""),
                ]
            })
            .collect();
        posts.spawn(async move { post_as(&url, batch(&events), WEBHOOK_SECRET).await });
    }
    let mut busy = 0;
    while let Some(answer) = posts.join_next().await {
        let (status, answer) = answer.unwrap();
        assert_eq!(status, 202, "{answer}");
        busy += usize::from(
            answer["delivery"]["skipped"]
                .as_str()
                .is_some_and(|s| s.contains("lease")),
        );
    }
    drain_all(&[&a, &b]).await;

    let upserts = h
        .emulator
        .handle()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/contacts")
        .count();
    for n in 0..20 {
        for i in 0..10 {
            let email = format!("r{n}-{i}@x.io");
            assert!(h.lists(&email).is_empty(), "{email} entered, then left");
        }
    }
    assert_eq!(
        upserts, 400,
        "each of the 400 events reached Cordial exactly once"
    );
    eprintln!("{busy} of 20 requests found the lease taken by the other replica or request");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_store_locked_a_webhook_gets_503_and_its_retry_is_delivered() {
    let h = Harness::start().await;
    let spin = SpinApp::start(&h, Deployment::default()).await;
    let enter = default_payload(1, "ann@x.io", "enter", "vip_customers", "");
    // Another process holds Spin's key-value file locked: no write can be made durable.
    let lock = rusqlite::Connection::open(spin.key_value_file()).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (status, answer) = post_as(&spin.url(HOOK), enter.clone(), WEBHOOK_SECRET).await;
    assert_eq!(
        status, 503,
        "not durable, so the platform must retry: {answer}"
    );
    assert!(
        answer["error"].as_str().unwrap().contains("retry later"),
        "{answer}"
    );
    assert!(
        h.find_contact("ann@x.io").is_none(),
        "nothing was sent either"
    );

    lock.execute_batch("COMMIT").unwrap();
    let (status, answer) = post_as(&spin.url(HOOK), enter, WEBHOOK_SECRET).await;
    assert_eq!(
        (status, &answer["delivery"]["delivered"]),
        (202, &json!(1)),
        "{answer}"
    );
    assert_eq!(h.lists("ann@x.io"), ["Lytics_vip_customers"]);
}

const BULK_HOOK: &str = "/hooks/export-bulk";
const BULK_RUN: &str = "/run/export-bulk";

/// The bulk run called as the scheduler does until it ends, waiting between calls for
/// Cordial's imports (what the run waits for).
async fn run_bulk_to_the_end(h: &Harness, spin: &SpinApp) -> Vec<(u16, Value)> {
    run_to_the_end(h, spin, BULK_RUN, |e| e.import_jobs()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_run_on_spin_is_imported_by_cordial_from_the_apps_own_address() {
    let h = Harness::start().await;
    let spin = SpinApp::start(
        &h,
        Deployment::default().variable(
            "bulk_field_mapping",
            r#"{"first_name":"first_name","age":"age"}"#,
        ),
    )
    .await;
    let mut accepted = 0;
    for body in webhook_scenario() {
        let (status, answer) = post_as(&spin.url(BULK_HOOK), body, WEBHOOK_SECRET).await;
        assert_eq!(status, 202, "{answer}");
        accepted += answer["accepted"].as_u64().unwrap();
    }
    assert_eq!(
        accepted, 6,
        "every event of the audience, none of the other one"
    );
    assert_eq!(
        post_as(&spin.url(BULK_RUN), "", WEBHOOK_SECRET).await.0,
        401,
        "a run needs the run secret"
    );

    let answers = run_bulk_to_the_end(&h, &spin).await;
    let (status, last) = answers.last().unwrap();
    assert_eq!(*status, 200, "{answers:#?}");
    assert_eq!(answers[0].1["received"], 6, "{answers:#?}");
    assert_eq!(
        last["records_read"], 4,
        "the latest state of each contact: {last}"
    );
    assert_eq!(last["records_written"], 3, "ann, bob and cy: {last}");
    assert_eq!(
        last["records_rejected"], 1,
        "the event without an email: {last}"
    );

    // Cordial fetched the file from the app, over the HTTPS source, at a granted address.
    let imports = h.emulator.handle().import_jobs();
    assert_eq!(imports.len(), 1, "{imports:#?}");
    let fetched = imports[0].to_string();
    let files = spin.url("/files/export-bulk/");
    assert!(fetched.contains(&files), "{fetched}");
    assert_eq!(imports[0]["status"], "Done", "{fetched}");

    // The same Cordial state the bundled host's real-time export reaches for these events,
    // but for the list flag: a bulk file's row sets the list membership of its last state.
    let state = cordial_state(&h, &EMAILS);
    assert_eq!(state[0]["first_name"], "Annie", "{state:#?}");
    assert_eq!(state[0]["lists"], json!(["Lytics_vip_customers"]));
    assert_eq!(state[1]["lists"], json!([]), "bob left: {state:#?}");
    assert_eq!(state[2]["age"], 41);
    assert_eq!(
        state[3]["absent"], true,
        "another audience's member is not sent"
    );

    // The files are gone once imported, and a made-up grant opens nothing.
    let url = fetched
        .split('"')
        .find(|s| s.starts_with(&files))
        .unwrap()
        .to_owned();
    assert_eq!(cordial_e2e::http::get(&url).await.0, 404, "{url}");
    let guessed = spin.url("/files/export-bulk/00000000000000000000000000000000/x.csv");
    assert_eq!(cordial_e2e::http::get(&guessed).await.0, 404);
    assert!(
        spin.stored("files/export-bulk/p/").is_empty(),
        "no file parts left"
    );

    // Nothing more is waiting: the next run does nothing.
    let (_, again) = post_as(&spin.url(BULK_RUN), "", RUN_SECRET).await;
    assert_eq!(again["progress"], "finished", "{again}");
    assert_eq!(again["records_read"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_file_address_fails_the_import_and_keeps_the_members_waiting() {
    let h = Harness::start().await;
    let spin = SpinApp::start(
        &h,
        Deployment::default().variable("bulk_file_url_secs", "0"),
    )
    .await;
    let enter = default_payload(1, "ann@x.io", "enter", "vip_customers", "");
    assert_eq!(
        post_as(&spin.url(BULK_HOOK), enter, WEBHOOK_SECRET).await.0,
        202
    );
    let answers = run_bulk_to_the_end(&h, &spin).await;
    let (status, last) = answers.last().unwrap();
    assert_eq!(
        *status, 500,
        "a failed import is a permanent error: {answers:#?}"
    );
    assert_eq!(last["kind"], "permanent", "{last}");
    let imports = h.emulator.handle().import_jobs();
    assert_eq!(imports.len(), 1, "{imports:#?}");
    assert_eq!(imports[0]["status"], "Failed", "{:#}", imports[0]);
    assert!(imports[0].to_string().contains("404"), "{:#}", imports[0]);
    let error = last["error"].as_str().unwrap();
    assert!(error.contains("could not import 1 of 1 file(s)"), "{error}");
    assert!(
        error.contains("404"),
        "Cordial's reason is passed on: {error}"
    );
    assert!(h.find_contact("ann@x.io").is_none());
    assert_eq!(
        spin.stored("members/export-bulk/m/").len(),
        1,
        "Ann waits for the next batch"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_on_one_redis_run_the_bulk_export_once() {
    let h = Harness::start().await;
    let (_redis, a, b) = two_replicas(&h).await;
    for n in 0..10 {
        let spin = if n % 2 == 0 { &a } else { &b };
        let events: Vec<String> = (0..10)
            .map(|i| default_payload(1, &format!("r{n}-{i}@x.io"), "enter", "vip_customers", ""))
            .collect();
        let (status, answer) = post_as(&spin.url(BULK_HOOK), batch(&events), WEBHOOK_SECRET).await;
        assert_eq!(status, 202, "{answer}");
    }
    // Both replicas are called at once, as two schedulers (or a retried call) would.
    let mut written = 0;
    let mut skipped = 0;
    for _ in 0..20 {
        let (run_a, run_b) = (a.url(BULK_RUN), b.url(BULK_RUN));
        let (first, second) = tokio::join!(
            post_as(&run_a, "", RUN_SECRET),
            post_as(&run_b, "", RUN_SECRET)
        );
        let mut finished = false;
        for (status, answer) in [first, second] {
            assert_eq!(status, 200, "{answer}");
            skipped += usize::from(answer["skipped"].is_string());
            written += answer["records_written"].as_u64().unwrap_or(0);
            finished |= answer["progress"] == "finished" && answer["records_read"] != 0;
        }
        if finished {
            break;
        }
        let handle = h.emulator.handle();
        for job in handle.import_jobs() {
            let id = job["_id"].as_str().unwrap().to_owned();
            tokio::time::timeout(Duration::from_secs(60), handle.wait_for_job(&id))
                .await
                .expect("the emulator finishes its import");
        }
    }
    assert_eq!(written, 100, "every member exported once");
    assert_eq!(
        h.emulator.handle().import_jobs().len(),
        1,
        "one file, registered once"
    );
    for n in 0..10 {
        for i in 0..10 {
            assert_eq!(h.lists(&format!("r{n}-{i}@x.io")), ["Lytics_vip_customers"]);
        }
    }
    eprintln!("{skipped} run calls found the run lease taken");
}
