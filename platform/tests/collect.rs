//! The stand-in over real HTTP on loopback: what it stores, what it refuses and why, and the
//! faults it injects.

use platform_standin::{Endpoint, Fault, RunningStandin, StandinConfig};
use serde_json::{Value, json};
use std::time::Duration;

const KEY: &str = "standin-test-key-9a1";

/// A plain-HTTP client. The workspace builds reqwest with rustls but no crypto provider (for
/// the host), so `ring` is installed first.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn standin() -> RunningStandin {
    platform_standin::start(StandinConfig {
        api_key: KEY.into(),
        ..StandinConfig::default()
    })
    .await
    .unwrap()
}

/// POSTs `body` to `{base}{path}` with `auth` as the Authorization header: status and JSON.
async fn post(s: &RunningStandin, path: &str, auth: Option<&str>, body: String) -> (u16, Value) {
    let mut request = client().post(format!("{}{path}", s.base_url())).body(body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").cloned();
    let mut body: Value = response.json().await.unwrap_or(Value::Null);
    if let Some(after) = retry_after {
        body["retry_after"] = json!(after.to_str().unwrap());
    }
    (status, body)
}

async fn json_batch(s: &RunningStandin, stream: &str, records: Value) -> (u16, Value) {
    post(
        s,
        &format!("/collect/json/{stream}"),
        Some(KEY),
        records.to_string(),
    )
    .await
}

#[tokio::test]
async fn json_batches_and_single_objects_are_stored_and_counted() {
    let s = standin().await;
    let (status, body) = json_batch(&s, "events", json!([{"a": 1}, {"a": 2, "tags": ["x"]}])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["message_count"], 2);
    assert_eq!(body["data"]["rejected_count"], 0);
    let (status, _) = json_batch(&s, "events", json!({"a": 3})).await;
    assert_eq!(status, 200);
    let stored: Vec<i64> = s
        .handle()
        .records("events")
        .iter()
        .map(|r| r["a"].as_i64().unwrap())
        .collect();
    assert_eq!(stored, [1, 2, 3]);
    assert!(s.handle().records("other").is_empty());
}

#[tokio::test]
async fn bulk_takes_ndjson_and_names_a_bad_line() {
    let s = standin().await;
    let (status, body) = post(
        &s,
        "/collect/bulk/b?filename=f.json",
        Some(KEY),
        "{\"a\":1}\n\n{\"a\":2}\n".into(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["message_count"], 2);
    assert_eq!(body["data"]["filename"], "f.json");
    assert_eq!(s.handle().requests()[0].endpoint, Endpoint::Bulk);

    let bad = "{\"a\":3}\n{\"a\":{\"b\":1}}\n{\"a\":4}\n".to_owned();
    let (status, body) = post(&s, "/collect/bulk/b", Some(KEY), bad.clone()).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().starts_with("line 2:"),
        "{body}"
    );
    assert_eq!(
        s.handle().records("b").len(),
        2,
        "nothing of a refused request"
    );

    let (status, body) = post(&s, "/collect/bulk/b?droperrors", Some(KEY), bad).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["data"]["message_count"].as_u64(),
            body["data"]["rejected_count"].as_u64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(s.handle().records("b").len(), 4);
}

#[tokio::test]
async fn the_key_is_required_in_any_of_its_three_places() {
    let s = standin().await;
    let body = json!({"a": 1}).to_string();
    assert_eq!(post(&s, "/collect/json/k", None, body.clone()).await.0, 401);
    let (status, answer) = post(&s, "/collect/json/k", Some("wrong"), body.clone()).await;
    assert_eq!((status, answer["status"].as_u64()), (401, Some(401)));
    assert_eq!(
        post(
            &s,
            "/collect/json/k",
            Some(&format!("Bearer {KEY}")),
            body.clone()
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            &s,
            &format!("/collect/json/k?access_token={KEY}"),
            None,
            body
        )
        .await
        .0,
        200
    );
    assert_eq!(s.handle().records("k").len(), 2);
    let log = s.handle().requests();
    assert_eq!(log.iter().filter(|r| !r.authorized).count(), 2);
    assert!(
        !serde_json::to_string(&log).unwrap().contains(KEY),
        "the key is never logged"
    );
    // The inspection routes take the key too.
    let client = client();
    let url = format!("{}/_standin/streams/k", s.base_url());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let held: Value = client
        .get(&url)
        .header("authorization", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(held.as_array().unwrap().len(), 2);
    let counts: Value = client
        .get(format!("{}/_standin/streams", s.base_url()))
        .header("authorization", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts, json!({"k": 2}));
}

#[tokio::test]
async fn records_that_are_not_flat_or_too_big_refuse_the_request_naming_the_record() {
    let s = standin().await;
    for (records, says) in [
        (json!([{"a": 1}, {"a": {"b": 2}}]), "record 1:"),
        (json!([{"a": 1}, {"a": 2}, {"l": [{"b": 2}]}]), "record 2:"),
        (json!([{"a": 1}, 7]), "record 1:"),
        (json!([{"big": "x".repeat(17_000)}]), "record 0:"),
        (json!("text"), "object"),
    ] {
        let (status, body) = json_batch(&s, "f", records).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{body}");
    }
    let (status, _) = post(&s, "/collect/json/f", Some(KEY), "{oops".into()).await;
    assert_eq!(status, 400);
    assert!(s.handle().records("f").is_empty());
}

#[tokio::test]
async fn empty_records_and_unreadable_timestamps_are_taken_but_rejected() {
    let s = standin().await;
    let records =
        json!([{}, {"t": "2026-12-01T10:00:00Z"}, {"t": "whenever"}, {"t": 1764583200}, {"x": 1}]);
    let (status, body) = post(
        &s,
        "/collect/json/t?timestamp_field=t",
        Some(KEY),
        records.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["data"]["message_count"].as_u64(),
            body["data"]["rejected_count"].as_u64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(body["data"]["timestamp_field"], "t");
    assert_eq!(s.handle().records("t").len(), 3);
    assert_eq!(s.handle().rejected("t").len(), 2);
    assert_eq!(
        s.handle().requests()[0].timestamp_field.as_deref(),
        Some("t")
    );
}

#[tokio::test]
async fn dryrun_stores_nothing_and_oversized_bodies_get_413() {
    let s = standin().await;
    let (status, body) = post(
        &s,
        "/collect/json/d?dryrun",
        Some(KEY),
        json!([{"a": 1}]).to_string(),
    )
    .await;
    assert_eq!(
        (status, body["data"]["dryrun"].as_bool()),
        (200, Some(true))
    );
    assert!(s.handle().records("d").is_empty());
    let huge = format!(
        "[{}]",
        vec![r#"{"a":"0123456789abcdef"}"#; 500_000].join(",")
    );
    assert!(huge.len() > 10 << 20);
    let (status, _) = post(&s, "/collect/json/d", Some(KEY), huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn injected_faults_come_in_order_and_store_nothing() {
    let s = standin().await;
    s.handle().fail_next(Fault::RateLimited {
        retry_after_secs: 7,
        count: 2,
    });
    s.handle().fail_next(Fault::ServerError {
        status: 503,
        count: 1,
    });
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (status, body) = json_batch(&s, "r", json!([{"a": 1}])).await;
        seen.push((status, body["retry_after"].as_str().map(str::to_owned)));
    }
    assert_eq!(
        seen,
        [
            (429, Some("7".into())),
            (429, Some("7".into())),
            (503, None),
            (200, None)
        ]
    );
    assert_eq!(s.handle().records("r").len(), 1);
    let statuses: Vec<u16> = s.handle().requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 503, 200]);
}

#[tokio::test]
async fn held_answers_come_after_the_records_are_stored() {
    let s = standin().await;
    s.handle().hold_acks(true);
    let url = format!("{}/collect/json/h", s.base_url());
    let sent = tokio::spawn(async move {
        client()
            .post(url)
            .header("authorization", KEY)
            .body(json!([{"a": 1}, {"a": 2}]).to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let stored = s
        .handle()
        .wait_for_records("h", 2, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(!sent.is_finished(), "the answer is held");
    s.handle().hold_acks(false);
    assert_eq!(sent.await.unwrap(), 200);
    let waited = s
        .handle()
        .wait_for_records("h", 3, Duration::from_millis(100))
        .await;
    assert!(waited.unwrap_err().to_string().contains("2 of the 3"));
}
