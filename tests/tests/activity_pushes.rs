//! Cordial's activity pushes end to end: webhook posts to `cordial-host serve`'s
//! `/cordial-events/<job>`, mapped as the export's records are and committed to the
//! `cordial_activity` stream in SQLite before the answer; and the 6-hourly export of the same
//! window afterwards, which adds only what the pushes missed.

use chrono::{Duration, Utc};
use cordial_e2e::activity::{Activity, event, event_id, oid, pushed, stream_ids, stream_records};
use cordial_e2e::http::{post, status_for_announced_body};
use cordial_e2e::serving::Serving;
use cordial_host::runtime::RunOutcome;
use cordial_jobs::activity::record::RecordMapper;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const SECRET: &str = "push-secret-2c41e";
const BEARER: (&str, &str) = ("authorization", "Bearer push-secret-2c41e");

/// The `activity` job taking pushes with [`SECRET`], mapping `properties.url` as `url`
/// beside the default mapping.
fn taking_pushes(a: &Activity) -> String {
    let file = a.h.dir.path().join("push-secret");
    std::fs::write(&file, SECRET).unwrap();
    a.config(&format!(
        "[job.extra_mapping]\n\"properties.url\" = \"url\"\n\
         [job.webhook]\nsecret_file = \"{}\"\n",
        file.display()
    ))
}

/// What the export's mapping (the same extra mapping) makes of `event`.
fn as_exported(event: &Value) -> Value {
    let extra = BTreeMap::from([("properties.url".to_owned(), "url".to_owned())]);
    let record = RecordMapper::new(&extra).map(&event.to_string()).unwrap();
    serde_json::from_str(&record.json).unwrap()
}

/// An export-shaped event from an hour or two ago with a page URL in its properties.
fn browse(label: &str, hours_ago: i64) -> Value {
    let mut e = event(label, "open", Utc::now() - Duration::hours(hours_ago));
    e["properties"] = json!({"url": format!("https://shop.example/{label}")});
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn single_and_batched_pushes_are_stored_before_the_answer_as_the_export_maps_them() {
    let a = Activity::start().await;
    let s = Serving::start(&a.h, &taking_pushes(&a)).await;
    let events: Vec<Value> = ["one", "two", "three", "four"]
        .iter()
        .map(|l| browse(l, 1))
        .collect();
    let url = s.events("activity");
    let (status, body) = post(&url, pushed(&events[0]).to_string(), &[BEARER]).await;
    assert_eq!(
        (status, &body),
        (202, &json!({"accepted": 1, "duplicates": 0}))
    );
    // Committed before the answer: the store, read now, holds it.
    assert_eq!(stream_ids(&s.store), BTreeSet::from([oid("one")]));
    // Batched mode, one element as the bare event (an account that reshaped its payload),
    // the secret in the other header Cordial can send.
    let batch = json!([pushed(&events[1]), pushed(&events[2]), events[3]]);
    let (status, body) = post(&url, batch.to_string(), &[("x-webhook-secret", SECRET)]).await;
    assert_eq!(
        (status, &body),
        (202, &json!({"accepted": 3, "duplicates": 0}))
    );
    let stored = stream_records(&s.store);
    let expected: Vec<Value> = events.iter().map(as_exported).collect();
    assert_eq!(
        stored, expected,
        "pushed records equal the export's mapping"
    );
    assert_eq!(stored[2]["url"], "https://shop.example/three");
    s.stop().await;
}

/// Events pushed as they happen, then the 6-hourly export of the same window: the export adds
/// only the event the pushes missed, and a late re-push is a duplicate.
#[tokio::test(flavor = "multi_thread")]
async fn an_event_pushed_and_then_exported_is_in_the_stream_once() {
    let events = vec![browse("p1", 3), browse("p2", 2), browse("missed", 1)];
    let a = Activity::with_events(events.clone()).await;
    let config = taking_pushes(&a);
    let s = Serving::start(&a.h, &config).await;
    let url = s.events("activity");
    let both = json!([pushed(&events[0]), pushed(&events[1])]);
    let (status, body) = post(&url, both.to_string(), &[BEARER]).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (202, Some(2)),
        "{body}"
    );

    assert!(matches!(a.run(&config).await, RunOutcome::Completed(_)));
    let stored = stream_records(&s.store);
    let ids: Vec<String> = stored.iter().map(event_id).collect();
    assert_eq!(
        ids,
        [oid("p1"), oid("p2"), oid("missed")],
        "each event once"
    );

    let (status, body) = post(&url, pushed(&events[2]).to_string(), &[BEARER]).await;
    assert_eq!(
        (status, &body),
        (202, &json!({"accepted": 0, "duplicates": 1}))
    );
    assert_eq!(stream_records(&s.store).len(), 3);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_push_gets_400_naming_the_element_at_fault_and_stores_nothing() {
    let a = Activity::start().await;
    let s = Serving::start(&a.h, &taking_pushes(&a)).await;
    let url = s.events("activity");
    let good = pushed(&browse("good", 1));
    let mut bad_time = pushed(&browse("late", 1));
    bad_time["event"]["ats"] = json!("yesterday");
    let cases = [
        ("{\"contact\": ".to_owned(), "(body)", "not valid JSON"),
        (
            json!([good, {"contact": {}}]).to_string(),
            "[1].event",
            "missing",
        ),
        (
            json!([good, good, {"event": {"a": "open"}}]).to_string(),
            "[2].event",
            "`_id`",
        ),
        (json!([good, bad_time]).to_string(), "[1].event", "`time`"),
        (json!([good, 7]).to_string(), "[1]", "object"),
        (json!("open").to_string(), "(body)", "array"),
    ];
    for (body, path, says) in cases {
        let (status, answer) = post(&url, body.clone(), &[BEARER]).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["path"], path, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(says), "{body}: {error}");
    }
    assert!(stream_records(&s.store).is_empty(), "nothing of a bad push");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pushes_without_the_secret_or_to_jobs_that_take_none_are_refused() {
    let a = Activity::start().await;
    // A second Import Activity job without [job.webhook]: it takes no pushes.
    let config = format!(
        "{}\n[[job]]\nname = \"no-secret\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         sftp_saved_key = \"{}\"\n",
        taking_pushes(&a),
        cordial_e2e::sftp::SAVED_KEY
    );
    let s = Serving::start(&a.h, &config).await;
    let body = pushed(&browse("e", 1)).to_string();
    let url = s.events("activity");
    assert_eq!(post(&url, body.clone(), &[]).await.0, 401, "no secret");
    let wrong = ("authorization", "Bearer not-the-secret");
    assert_eq!(
        post(&url, body.clone(), &[wrong]).await.0,
        401,
        "a wrong secret"
    );
    let (status, answer) = post(&s.events("no-secret"), body.clone(), &[BEARER]).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.to_string().contains("secret_env"), "{answer}");
    assert_eq!(
        post(&s.events("nope"), body.clone(), &[BEARER]).await.0,
        404
    );
    let too_big = status_for_announced_body(&url, 17 << 20, &[BEARER]).await;
    assert_eq!(too_big, 413, "over the 16 MiB push limit");
    assert!(stream_records(&s.store).is_empty());
    // The right secret still gets in.
    assert_eq!(post(&url, body, &[BEARER]).await.0, 202);
    s.stop().await;
}
