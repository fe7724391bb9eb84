//! The platform's collect API over HTTP(S): one request per batch, and what its answer means
//! for the batch.

use super::config::PlatformConfig;
use crate::secret::Secret;
use std::time::Duration;

/// Which collect endpoint a batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST {base}/collect/json/{stream}`: a JSON array of records.
    Json,
    /// `POST {bulk}/collect/bulk/{stream}`: newline-delimited records, for backlogs.
    Bulk,
}

/// What the platform made of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Stored: `message_count` records taken, `rejected_count` of them dropped.
    Accepted { messages: u64, rejected: u64 },
    /// Refused as it is (a 4xx other than auth, not found and 429): the platform's message.
    /// Smaller batches may pass.
    Refused { status: u16, message: String },
    /// Try again later: a 429 or 5xx, or the platform could not be reached. `maybe_stored`
    /// when the platform may hold the batch even so (a 5xx, a connection lost after sending).
    Retry {
        after: Option<Duration>,
        why: String,
        maybe_stored: bool,
    },
    /// No retry helps until the config is fixed (401, 403, 404).
    Broken(String),
}

/// A client for one platform.
pub struct Collect {
    http: reqwest::Client,
    base_url: String,
    bulk_url: String,
    key: Secret,
}

impl Collect {
    pub fn new(config: &PlatformConfig) -> anyhow::Result<Collect> {
        crate::tls::install_ring();
        let key = config
            .api_key
            .read()
            .map_err(|e| anyhow::anyhow!("[host.platform] API key: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Collect {
            http,
            base_url: config.base_url.clone(),
            bulk_url: config.bulk_url.clone(),
            key,
        })
    }

    /// Sends `records` (each a JSON object's text) to `stream`.
    pub async fn send(
        &self,
        endpoint: Endpoint,
        stream: &str,
        timestamp_field: Option<&str>,
        records: &[&str],
    ) -> Answer {
        let (url, body, content_type) = match endpoint {
            Endpoint::Json => (
                format!("{}/collect/json/{stream}", self.base_url),
                json_array(records),
                "application/json",
            ),
            Endpoint::Bulk => (
                format!("{}/collect/bulk/{stream}", self.bulk_url),
                ndjson(records),
                "application/x-ndjson",
            ),
        };
        let mut request = self
            .http
            .post(&url)
            .header("authorization", self.key.expose())
            .header("content-type", content_type)
            .body(body);
        if let Some(field) = timestamp_field {
            request = request.query(&[("timestamp_field", field)]);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return Answer::Retry {
                    after: None,
                    why: format!("POST {url}: {}", describe(&e)),
                    maybe_stored: !e.is_connect(),
                };
            }
        };
        let status = response.status().as_u16();
        let after = retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        answer(status, after, &text, &url)
    }
}

/// What a response means, from its status, `Retry-After` and body.
fn answer(status: u16, after: Option<Duration>, body: &str, url: &str) -> Answer {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let message = json["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.chars().take(300).collect());
    match status {
        200..=299 => Answer::Accepted {
            messages: json["data"]["message_count"].as_u64().unwrap_or(0),
            rejected: json["data"]["rejected_count"].as_u64().unwrap_or(0),
        },
        401 | 403 => Answer::Broken(format!(
            "the platform refused the key ({status} {message}); check [host.platform] api_key_env or api_key_file"
        )),
        404 => Answer::Broken(format!(
            "POST {url} is not found (404); check [host.platform] base_url and bulk_url"
        )),
        429 => Answer::Retry {
            after,
            why: format!("rate limited (429 {message})"),
            maybe_stored: false,
        },
        500..=599 => Answer::Retry {
            after,
            why: format!("the platform failed ({status} {message})"),
            maybe_stored: true,
        },
        _ => Answer::Refused { status, message },
    }
}

/// A transport error without the request's headers (where the key is).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "the connection failed"
    };
    match std::error::Error::source(e) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}

/// `Retry-After` in seconds (the form rate limiters send).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

fn json_array(records: &[&str]) -> String {
    let mut body = String::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
    body.push('[');
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(record);
    }
    body.push(']');
    body
}

fn ndjson(records: &[&str]) -> String {
    let mut body = String::with_capacity(records.iter().map(|r| r.len() + 1).sum());
    for record in records {
        body.push_str(record);
        body.push('\n');
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_says_what_to_do_with_the_batch() {
        let ok =
            r#"{"status":200,"message":"success","data":{"message_count":3,"rejected_count":1}}"#;
        assert_eq!(
            answer(200, None, ok, "u"),
            Answer::Accepted {
                messages: 3,
                rejected: 1
            }
        );
        assert!(
            matches!(answer(401, None, "{}", "u"), Answer::Broken(m) if m.contains("api_key_env"))
        );
        assert!(matches!(answer(404, None, "", "u"), Answer::Broken(m) if m.contains("base_url")));
        assert_eq!(
            answer(
                429,
                Some(Duration::from_secs(7)),
                r#"{"message":"slow down"}"#,
                "u"
            ),
            Answer::Retry {
                after: Some(Duration::from_secs(7)),
                why: "rate limited (429 slow down)".into(),
                maybe_stored: false
            }
        );
        assert!(matches!(
            answer(503, None, "busy", "u"),
            Answer::Retry {
                maybe_stored: true,
                ..
            }
        ));
        assert_eq!(
            answer(
                400,
                None,
                r#"{"status":400,"message":"record 2: not flat"}"#,
                "u"
            ),
            Answer::Refused {
                status: 400,
                message: "record 2: not flat".into()
            }
        );
    }

    #[test]
    fn bodies_are_an_array_or_lines() {
        assert_eq!(json_array(&["{\"a\":1}", "{}"]), "[{\"a\":1},{}]");
        assert_eq!(json_array(&[]), "[]");
        assert_eq!(ndjson(&["{\"a\":1}", "{}"]), "{\"a\":1}\n{}\n");
    }
}
