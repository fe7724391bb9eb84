//! Contact imports from an HTTP source: a loopback HTTP server serves the file, as a
//! Spin app serves its bulk files, and the emulator GETs it.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use cordial_emulator::{EmulatorConfig, Seed};
use serde_json::{Value, json};

use crate::api::Api;

const KEY: &str = "http-import-test-key";

/// A loopback server with `/members.csv` (two contacts) and nothing else (404); its base URL.
async fn file_server() -> String {
    let app = Router::new()
        .route(
            "/members.csv",
            get(|| async {
                "channels.email.address,first_name\r\nann@x.io,Ann\r\nbob@x.io,Bob\r\n"
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such file") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The demo account, which has the `first_name` attribute.
async fn demo() -> Api {
    let config = EmulatorConfig {
        seed: Seed::demo(),
        ..Default::default()
    };
    Api::launch(KEY, config).await
}

async fn imported(api: &Api, url: &str) -> (Value, Value) {
    let body = json!({"source": {"transport": "https", "url": url}, "hasHeader": true});
    let id = api.start_job("/v2/contactimports", body, 201).await;
    api.finished(&id).await
}

#[tokio::test]
async fn a_file_served_over_http_is_fetched_and_applied() {
    let api = demo().await;
    let url = format!("{}/members.csv", file_server().await);
    let (doc, details) = imported(&api, &url).await;
    assert_eq!(doc["status"], "Done", "{details}");
    assert_eq!(doc["metadata"]["fileName"], url);
    assert_eq!(doc["result"]["inserted"], 2, "{doc}");
    let ann = api.handle().contact("ann@x.io").expect("ann imported");
    assert_eq!(ann["attributes"]["first_name"], "Ann", "{ann}");
}

#[tokio::test]
async fn a_missing_file_or_an_unreachable_server_fails_the_job_with_its_cause() {
    let api = demo().await;
    let missing = format!("{}/gone.csv", file_server().await);
    let (doc, details) = imported(&api, &missing).await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(
        doc["message"],
        format!("Couldn't download the file ({missing}): the server answered HTTP 404 Not Found.")
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (doc, details) = imported(&api, &format!("http://{closed}/a.csv")).await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(doc["message"], "Can't connect to the server (127.0.0.1)");
    assert!(
        details["failureDetail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(api.handle().contact_count(), 0);
}
