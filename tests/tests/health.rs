//! `cordial-host serve`'s own health, through the real binary: `/healthz` while the process
//! answers, `/readyz` with a check per thing the host needs (the store takes a write, every
//! job's component loads, every schedule is driven) and `503` naming the one that fails.

use cordial_e2e::activity::Activity;
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::http::get;
use serde_json::{Value, json};

/// `/readyz`: its status and its checks by name.
async fn readyz(host: &ServeProcess) -> (u16, Value) {
    let (status, body) = get(&host.url("/readyz")).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    let checks: serde_json::Map<String, Value> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c.clone()))
        .collect();
    assert_eq!(body["ready"], json!(status == 200), "{body}");
    (status, Value::Object(checks))
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_while_the_store_takes_writes_and_not_while_another_process_locks_it() {
    let a = Activity::start().await;
    let host = ServeProcess::start(&a.h, &a.config("")).await;
    assert_eq!(get(&host.url("/healthz")).await, (200, "ok".to_owned()));

    let (status, checks) = readyz(&host).await;
    assert_eq!(status, 200, "{checks}");
    assert_eq!(checks["store"]["detail"], "takes writes");
    assert_eq!(checks["components"]["detail"], "1 job(s) loaded");
    assert_eq!(checks["scheduler"]["detail"], "1 schedule(s) running");

    // Another process holds the store's write lock: not ready, and the answer says why.
    let other = rusqlite::Connection::open(a.h.store_path()).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (status, checks) = readyz(&host).await;
    assert_eq!(status, 503, "{checks}");
    assert_eq!(checks["store"]["ok"], false);
    let detail = checks["store"]["detail"].as_str().unwrap();
    assert!(detail.contains("locked by another process"), "{detail}");
    assert_eq!(checks["components"]["ok"], true);
    // The process itself is fine: a restart would not help.
    assert_eq!(get(&host.url("/healthz")).await.0, 200);

    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(readyz(&host).await.0, 200);
}
