//! Posting to a served host as the platform or a web form would.

use serde_json::Value;

/// `127.0.0.1:<port>` with a port free right now, for a server a test starts.
pub fn free_local_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", listener.local_addr().unwrap().port())
}

/// An HTTP client for the tests. The workspace builds reqwest with rustls but without a
/// crypto provider (for the host's registry client), so `ring` is installed first.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Posts `body` (JSON text, well-formed or not) as `application/json` with `headers`; the
/// status and the JSON answer (`Null` when the answer is not JSON).
pub async fn post(url: &str, body: impl Into<String>, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.into());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Gets `url`: the status and the body's text.
pub async fn get(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}
