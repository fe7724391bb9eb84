//! Experience capture through `cordial-host serve`: the `POST /capture/<job>` route (what
//! it accepts and every way it refuses), unknown regions, submissions carrying both an
//! email and an SMS number, a contact's submissions kept in order across workers, Cordial's
//! failures (429 and 5xx retried, other 4xx dead-lettered, all audited, replayed with
//! `cordial-host dlq`), and `cordial-host audit`. The decision table itself is checked
//! combination by combination in `capture_table.rs`.

use cordial_e2e::capture::{self, ContactSeeder, capture_job, submit};
use cordial_e2e::cli::{ServeProcess, host};
use cordial_e2e::harness::Harness;
use cordial_e2e::http::{post, status_for_announced_body};
use cordial_e2e::rate_limits;
use cordial_e2e::serving::{Serving, wait_settled};
use cordial_emulator::Fault;
use serde_json::{Value, json};
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(30);

/// A job that subscribes on an explicit opt-in. One worker (`concurrency = 1`) decides its
/// submissions one call at a time in arrival order, across contacts too: the tests below
/// read the audit trail in that order, and count on one request at a time to Cordial.
/// Several workers keep the order per contact only (see
/// `a_contacts_submissions_are_decided_in_arrival_order_across_workers`).
fn quiz() -> String {
    capture_job(
        "quiz",
        "auto_subscribe = true\nopt_in_mode = \"opted_in\"\nopt_in_attribute = \"quiz_opt_in\"\n\
         list = \"quiz_list\"\n[job.field_mapping]\nfirst_name = \"first_name\"\nage = \"age\"\n\
         [job.delivery]\nconcurrency = 1\nbatch_size = 10\nmax_attempts = 3\n",
    )
}

/// A strict job behind the secret `s3cret`.
fn strict_job(h: &Harness) -> String {
    let path = h.dir.path().join("capture-secret");
    std::fs::write(&path, "s3cret\n").unwrap();
    let settings = format!(
        "strict = true\nopt_in_mode = \"all\"\nopt_in_attribute = \"quiz_opt_in\"\n\
         [job.field_mapping]\nfirst_name = \"first_name\"\n\
         [job.webhook]\nsecret_file = \"{}\"\n",
        path.display()
    );
    capture_job("strict", &settings)
}

/// A first submission, decided: the job has checked its settings and cached the account's
/// types, so what a test injects next hits the submissions that follow.
async fn warm_up(s: &Serving, quiz: &str) {
    submit(quiz, &json!({"email": "warm@x.io", "opt_in": true})).await;
    s.settled("quiz", 1, SETTLE).await;
}

/// The capture account served with `jobs`, and the submission route of `quiz`.
async fn serve_quiz(jobs: &str) -> (Harness, Serving, String) {
    let h = capture::start().await;
    let s = Serving::start(&h, jobs).await;
    let quiz = s.capture("quiz");
    (h, s, quiz)
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_submissions_get_400_with_the_field_and_nothing_is_stored() {
    let h = capture::start().await;
    let jobs = format!("{}\n{}", quiz(), strict_job(&h));
    let s = Serving::start(&h, &jobs).await;
    let quiz = s.capture("quiz");
    let strict = s.capture("strict");
    let auth = [("authorization", "Bearer s3cret")];

    let refused = [
        (
            &quiz,
            json!({"opt_in": true}),
            "(submission)",
            "no identifier",
        ),
        (
            &quiz,
            json!({"email": "not-an-email"}),
            "email",
            "not an email address",
        ),
        (
            &quiz,
            json!({"sms": "5551234567"}),
            "sms",
            "does not start with `+`",
        ),
        (
            &quiz,
            json!({"email": "a@x.io", "opt_in": "maybe"}),
            "opt_in",
            "",
        ),
        (
            &quiz,
            json!({"email": "a@x.io", "country": "France"}),
            "country",
            "",
        ),
        (
            &quiz,
            json!({"email": "a@x.io", "timestamp": "yesterday"}),
            "timestamp",
            "",
        ),
        (
            &quiz,
            json!([{"email": "ok@x.io"}, {"email": "b@x.io", "sms": "+1"}]),
            "[1].sms",
            "",
        ),
        (
            &quiz,
            json!([{"email": "ok@x.io"}, 7]),
            "[1]",
            "must be a JSON object",
        ),
        (
            &strict,
            json!({"email": "a@x.io", "utm_source": "ad"}),
            "utm_source",
            "unknown field",
        ),
        (
            &strict,
            json!({"email": "a@x.io", "answers": {"colour": "red"}}),
            "answers.colour",
            "mapped attributes: first_name",
        ),
    ];
    for (url, body, field, says) in refused {
        let (status, answer) = post(url, body.to_string(), &auth).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(answer["field"], field, "{body} → {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(says), "{body} → {error}");
    }
    let (status, answer) = post(&quiz, "{\"email\":", &[]).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("(submission)"))
    );

    // Unknown job, wrong or missing secret, too large.
    let (status, answer) = post(&s.capture("nope"), r#"{"email": "a@x.io"}"#, &[]).await;
    assert_eq!(status, 404);
    assert!(
        answer["error"].as_str().unwrap().contains("quiz, strict"),
        "{answer}"
    );
    let good = json!({"email": "a@x.io", "answers": {"first_name": "Ann"}});
    assert_eq!(post(&strict, good.to_string(), &[]).await.0, 401);
    let wrong = [("x-webhook-secret", "nope")];
    assert_eq!(post(&strict, good.to_string(), &wrong).await.0, 401);
    // Refused on its content-length, before any of the 5 MiB is read.
    assert_eq!(status_for_announced_body(&quiz, 5 << 20, &[]).await, 413);

    let counts = s.store.queue_counts("quiz").unwrap();
    assert_eq!(
        (counts.pending, counts.done, counts.dead),
        (0, 0, 0),
        "nothing refused was stored"
    );
    assert_eq!(s.store.queue_counts("strict").unwrap().done, 0);
    assert_eq!(h.emulator.handle().contact_count(), 0);

    // The same job takes a good one, with the secret in either header form.
    let ids = capture::submit_with(&strict, &good, &[("x-webhook-secret", "s3cret")]).await;
    assert_eq!(ids, ["strict-1"]);
    s.settled("strict", 1, SETTLE).await;
    let ann = capture::contact(&h, "a@x.io").unwrap();
    assert_eq!(ann["attributes"]["first_name"], "Ann");
    assert_eq!(ann["attributes"]["quiz_opt_in"], "unknown");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_region_is_treated_as_eu_as_non_eu_or_skipped_as_configured() {
    let h = capture::start().await;
    let mut jobs = String::new();
    for rule in ["eu", "non_eu", "skip"] {
        jobs.push_str(&capture_job(
            &format!("unknown-{rule}"),
            &format!(
                "unknown_region = \"{rule}\"\nauto_subscribe = true\n\
                 opt_in_mode = \"opted_in_or_unknown\"\n"
            ),
        ));
    }
    let s = Serving::start(&h, &jobs).await;
    let mut expected = Vec::new();
    for (rule, action, status) in [
        ("eu", "R12 eu-needs-explicit-opt-in", Some("none")),
        ("non_eu", "R13 subscribe-implied-opt-in", Some("subscribed")),
        ("skip", "R1 unknown-region-skipped", None),
    ] {
        let email = format!("{rule}@unknown.test");
        let job = format!("unknown-{rule}");
        submit(&s.capture(&job), &json!({"email": email})).await;
        s.settled(&job, 1, SETTLE).await;
        let audit = s.store.capture_audit(&job, None).unwrap();
        assert_eq!(audit[0].rule, action);
        expected.push((email, status));
    }
    for (email, status) in expected {
        let contact = capture::contact(&h, &email);
        let got = contact
            .as_ref()
            .map(|c| c["channels"]["email"]["subscribeStatus"].as_str().unwrap());
        assert_eq!(got, status, "{email}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_both_identifiers_each_channel_is_decided_on_its_own_status() {
    let (h, s, url) = serve_quiz(&quiz()).await;
    // Subscribed by email, unsubscribed by SMS: an explicit opt-in resubscribes the SMS
    // channel only (forceSubscribe), and the email channel is left as it is.
    ContactSeeder::new(&h)
        .seed(
            json!({"email": {"address": "both@x.io", "subscribeStatus": "subscribed"},
                   "sms": {"address": "+15550001111", "subscribeStatus": "unsubscribed"}}),
            false,
        )
        .await;
    submit(
        &url,
        &json!({"email": "Both@X.io", "sms": "+1 555 000 1111", "opt_in": "yes", "country": "US",
                "answers": {"first_name": "Bo", "age": "41"}}),
    )
    .await;
    // A new contact from the EU with both identifiers, opting in: both channels subscribed.
    submit(
        &url,
        &json!({"email": "new@x.io", "sms": "+33612345678", "opt_in": true, "country": "FR"}),
    )
    .await;
    s.settled("quiz", 2, SETTLE).await;
    let audit = s.store.capture_audit("quiz", None).unwrap();
    assert_eq!(
        (audit[0].rule.as_str(), audit[0].action.as_str()),
        (
            "email: R5 already-subscribed; sms: R7 resubscribe-explicit-opt-in",
            "subscribed"
        )
    );
    assert_eq!(
        (audit[1].rule.as_str(), audit[1].action.as_str()),
        ("R10 subscribe-explicit-opt-in", "subscribed")
    );
    let both = capture::contact(&h, "both@x.io").unwrap();
    assert_eq!(both["channels"]["email"]["subscribeStatus"], "subscribed");
    assert_eq!(both["channels"]["sms"]["subscribeStatus"], "subscribed");
    assert_eq!(
        both["attributes"]["age"], 41,
        "the answer is sent as a number"
    );
    let new = capture::contact(&h, "+33612345678").unwrap();
    assert_eq!(new["channels"]["email"]["address"], "new@x.io");
    assert_eq!(new["channels"]["sms"]["subscribeStatus"], "subscribed");
    let forced = capture::force_subscribed(&h);
    assert!(forced.contains("+15550001111") && !forced.contains("+33612345678"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cordial_ignores_a_resubscribe_without_force_subscribe() {
    // What the policy relies on (cordial-api.md §2.2): an unsubscribed contact written with
    // `subscribeStatus: subscribed` and no `forceSubscribe` stays unsubscribed, silently.
    let h = capture::start().await;
    let seeder = ContactSeeder::new(&h);
    for (channel, address) in [("email", "u@x.io"), ("sms", "+15550002222")] {
        for status in ["unsubscribed", "subscribed"] {
            let channels = json!({channel: {"address": address, "subscribeStatus": status}});
            seeder.seed(channels, channel == "sms").await;
        }
        let u = capture::contact(&h, address).unwrap();
        assert_eq!(u["channels"][channel]["subscribeStatus"], "unsubscribed");
    }
    let u = capture::contact(&h, "+15550002222").unwrap();
    assert!(u["channels"].get("email").is_none());
    assert_eq!(h.emulator.handle().contact_count(), 2);
}

/// Every 5th request answered with a 429 while a batch of submissions is worked off: the
/// capture component sends one request at a time, so after each 429 nothing at all may reach
/// Cordial until its `Retry-After` has passed.
#[tokio::test(flavor = "multi_thread")]
async fn repeated_rate_limits_are_each_waited_out_and_every_submission_lands() {
    let (h, s, url) = serve_quiz(&quiz().replace("max_attempts = 3", "max_attempts = 10")).await;
    warm_up(&s, &url).await;
    h.emulator.handle().inject(Fault::RateLimitedEvery {
        nth: 5,
        retry_after_secs: 1,
        count: 4,
    });
    let batch: Vec<Value> = (0..20)
        .map(|i| json!({"email": format!("rl{i}@x.io"), "opt_in": true}))
        .collect();
    submit(&url, &Value::Array(batch)).await;
    let counts = s.settled("quiz", 21, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (21, 0));
    let requests = h.emulator.handle().requests();
    assert_eq!(
        rate_limits::assert_retry_after_held(&requests, Duration::from_secs(1), 0),
        4
    );
    for i in 0..20 {
        assert!(capture::contact(&h, &format!("rl{i}@x.io")).is_some());
    }
}

/// Several workers, each contact always on the same one: a contact's submissions are decided
/// in the order they arrived, whichever other contacts' go first.
#[tokio::test(flavor = "multi_thread")]
async fn a_contacts_submissions_are_decided_in_arrival_order_across_workers() {
    let jobs = quiz()
        .replace("concurrency = 1", "concurrency = 4")
        .replace("batch_size = 10", "batch_size = 3");
    let (h, s, url) = serve_quiz(&jobs).await;
    let contacts = 12;
    let rounds: Vec<Value> = (1..=3)
        .flat_map(|round| {
            (0..contacts).map(move |i| {
                json!({"email": format!("o{i}@x.io"), "opt_in": true,
                       "answers": {"first_name": format!("v{round}")}})
            })
        })
        .collect();
    let ids = submit(&url, &Value::Array(rounds)).await;
    let counts = s.settled("quiz", ids.len() as u64, SETTLE).await;
    assert_eq!((counts.done, counts.dead), (ids.len() as u64, 0));
    let arrival = |id: &str| ids.iter().position(|i| i == id).unwrap();
    let audit = s.store.capture_audit("quiz", None).unwrap();
    for i in 0..contacts {
        let contact = format!("o{i}@x.io");
        let decided: Vec<usize> = audit
            .iter()
            .filter(|r| r.contact == contact)
            .map(|r| arrival(&r.submission_id))
            .collect();
        assert_eq!(decided.len(), 3, "{contact}: {decided:?}");
        assert!(
            decided.is_sorted(),
            "{contact} decided out of order: {decided:?}"
        );
        assert_eq!(
            capture::contact(&h, &contact).unwrap()["attributes"]["first_name"],
            "v3",
            "{contact}"
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_and_server_errors_are_retried_refusals_dead_lettered_all_audited() {
    let (h, s, url) = serve_quiz(&quiz()).await;
    warm_up(&s, &url).await;

    // 429 on the first request: the whole batch waits for Retry-After, and the second
    // submission, held back behind the first, is not counted as an attempt.
    h.emulator.handle().inject(Fault::RateLimited {
        retry_after_secs: 1,
        count: 1,
    });
    let asked = std::time::Instant::now();
    submit(
        &url,
        &json!([{"email": "r1@x.io", "opt_in": true}, {"email": "r2@x.io", "opt_in": true}]),
    )
    .await;
    s.settled("quiz", 3, SETTLE).await;
    assert!(
        asked.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let audit = s.store.capture_audit("quiz", None).unwrap();
    let attempts: Vec<(String, u32, String)> = audit[1..]
        .iter()
        .map(|r| (r.contact.clone(), r.attempts, r.outcome.clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            ("r1@x.io".to_string(), 2, "delivered".to_string()),
            ("r2@x.io".to_string(), 1, "delivered".to_string())
        ]
    );

    // Two 503s, then it passes on the third attempt.
    h.emulator.handle().inject(Fault::ServerError {
        status: 503,
        count: 2,
    });
    submit(&url, &json!({"email": "s1@x.io", "opt_in": true})).await;
    s.settled("quiz", 4, SETTLE).await;
    let last = s.store.capture_audit("quiz", Some(1)).unwrap().remove(0);
    assert_eq!((last.attempts, last.outcome.as_str()), (3, "delivered"));
    assert_eq!(
        capture::contact(&h, "s1@x.io").unwrap()["channels"]["email"]["subscribeStatus"],
        "subscribed"
    );

    // 5xx past max_attempts (3): dead-lettered with the decision it was carrying out.
    h.emulator.handle().inject(Fault::ServerError {
        status: 500,
        count: 3,
    });
    let s2 = submit(&url, &json!({"email": "s2@x.io", "opt_in": true})).await;
    s.settled("quiz", 5, SETTLE).await;
    let last = s.store.capture_audit("quiz", Some(1)).unwrap().remove(0);
    assert_eq!(
        (last.outcome.as_str(), last.attempts),
        ("dead-letter", 3),
        "{last:?}"
    );
    assert!(
        last.message
            .unwrap()
            .starts_with("gave up after 3 attempts")
    );

    // A 4xx is final at once: the mapped attribute was deleted in Cordial, so the upsert
    // gets 422. The audit keeps the decision and Cordial's status and message.
    h.delete_attribute("first_name").await;
    let gone = submit(
        &url,
        &json!({"email": "gone@x.io", "opt_in": true, "answers": {"first_name": "G"}}),
    )
    .await;
    let counts = s.settled("quiz", 6, SETTLE).await;
    assert_eq!((counts.done, counts.dead), (4, 2));
    let last = s.store.capture_audit("quiz", Some(1)).unwrap().remove(0);
    assert_eq!(
        (
            last.contact.as_str(),
            last.rule.as_str(),
            last.action.as_str(),
            last.outcome.as_str(),
            last.status,
            last.attempts
        ),
        (
            "gone@x.io",
            "R10 subscribe-explicit-opt-in",
            "subscribed",
            "dead-letter",
            Some(422),
            1
        )
    );
    assert!(last.message.unwrap().contains("first_name"));
    assert!(capture::contact(&h, "gone@x.io").is_none());

    // `dlq` lists both dead letters by submission id and replays them under their ids:
    // s2 passes now, gone@x.io is refused again, and each gets a second audit row.
    let config = h.config_file(&quiz());
    let listed = host(&[&"dlq", &"list", &config, &"quiz"]).await;
    assert!(listed.ok, "{listed}");
    let listed = listed.stdout;
    for (id, contact) in [(&s2[0], "s2@x.io"), (&gone[0], "gone@x.io")] {
        let line = listed
            .lines()
            .find(|l| l.contains(&format!(" {id} ")))
            .unwrap_or_else(|| panic!("{id} is not listed: {listed}"));
        assert!(line.contains(contact), "{line}");
    }
    assert!(
        listed.contains("key first_name is not part of the schema"),
        "{listed}"
    );
    let replayed = host(&[&"dlq", &"retry", &config, &"quiz"]).await;
    assert!(
        replayed.ok && replayed.stdout.contains("queued 2 dead letter(s)"),
        "{replayed}"
    );
    let counts = s.settled("quiz", 6, SETTLE).await;
    assert_eq!((counts.done, counts.dead), (5, 1));
    let replays: Vec<(String, String)> = s
        .store
        .capture_audit("quiz", Some(2))
        .unwrap()
        .into_iter()
        .map(|r| (r.submission_id, r.outcome))
        .collect();
    assert_eq!(
        replays,
        [
            (s2[0].clone(), "delivered".to_string()),
            (gone[0].clone(), "dead-letter".to_string())
        ]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_command_lists_every_decision() {
    let (h, s, url) = serve_quiz(&quiz()).await;
    submit(
        &url,
        &json!([
            {"email": "yes@x.io", "opt_in": true, "country": "DE"},
            {"email": "no@x.io", "opt_in": false, "country": "DE"},
            {"sms": "+15550003333", "opt_in": true, "country": "US"}
        ]),
    )
    .await;
    s.settled("quiz", 3, SETTLE).await;
    let config = h.config_file(&quiz());
    let audit = host(&[&"audit", &config, &"quiz"]).await;
    assert!(audit.ok, "{audit}");
    let table = audit.stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("decided_at") && lines[0].contains("rule"),
        "{table}"
    );
    for (line, (id, contact, action, rule)) in lines[1..4].iter().zip([
        (
            "quiz-1",
            "yes@x.io",
            "subscribed",
            "R10 subscribe-explicit-opt-in",
        ),
        ("quiz-2", "no@x.io", "skipped", "R3 not-opted-in"),
        (
            "quiz-3",
            "+15550003333",
            "subscribed",
            "R10 subscribe-explicit-opt-in",
        ),
    ]) {
        for part in [id, contact, action, rule, "delivered"] {
            assert!(line.contains(part), "{part} missing in {line}");
        }
    }
    assert_eq!(lines[4], "3 decision(s)");

    let ndjson = host(&[&"audit", &config, &"quiz", &"--json", &"--limit", &"2"]).await;
    assert!(ndjson.ok);
    let rows: Vec<Value> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["submission_id"], "quiz-2");
    assert_eq!(rows[1]["contact"], "+15550003333");
    assert_eq!(rows[1]["action"], "subscribed");
    assert_eq!(rows[1]["status"], Value::Null);

    let nope = host(&[&"audit", &config, &"nope"]).await;
    assert!(
        !nope.ok && nope.stderr.contains("no job named `nope`"),
        "{nope}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_accepted_submission_survives_a_sigkill_and_is_audited_once() {
    let h = capture::start().await;
    // A slow Cordial keeps submissions pending long enough to kill the host among them.
    h.emulator.handle().set_latency(Duration::from_millis(20));
    let mut host = ServeProcess::start(&h, &quiz()).await;
    let url = host.url("/capture/quiz");
    let mut accepted = 0;
    for batch in 0..5 {
        let items: Vec<Value> = (0..20)
            .map(|i| json!({"email": format!("k{batch}-{i}@x.io"), "opt_in": true}))
            .collect();
        accepted += submit(&url, &Value::Array(items)).await.len() as u64;
    }
    let store = host.kill_while_pending("quiz", accepted).await;

    host.restart().await;
    let counts = wait_settled(&store, "quiz", accepted, Duration::from_secs(60)).await;
    assert_eq!((counts.done, counts.dead), (accepted, 0));
    let audit = store.capture_audit("quiz", None).unwrap();
    assert_eq!(audit.len() as u64, accepted, "one audit row per submission");
    for batch in 0..5 {
        for i in 0..20 {
            let c = capture::contact(&h, &format!("k{batch}-{i}@x.io")).unwrap();
            assert_eq!(c["channels"]["email"]["subscribeStatus"], "subscribed");
        }
    }
    host.kill().await;
}
