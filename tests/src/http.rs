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

/// Waits until a host at `addr` (`127.0.0.1:<port>`) answers `GET /healthz`; a host binds only
/// after its settings check, so an answer means it is up. Fails after 30 s.
pub async fn wait_until_up(addr: &str) {
    let client = client();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the host at {addr} did not come up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
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

/// Announces a JSON body of `length` bytes to `url` (`http://host:port/path`) with `headers`
/// and reads the status line without sending the body: a server that refuses a body on its
/// `content-length` answers at once and may close the connection, which a client still
/// writing the body sees as a broken pipe instead of the answer.
pub async fn status_for_announced_body(url: &str, length: usize, headers: &[(&str, &str)]) -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         content-length: {length}\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut status_line = String::new();
    BufReader::new(stream)
        .read_line(&mut status_line)
        .await
        .unwrap();
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line: {status_line:?}"))
}
