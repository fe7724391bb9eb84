//! Putting the SFTP password into a request body at the last moment, so that a job can ask
//! Cordial to use the SFTP server without ever holding the password itself.

use crate::secret::Secret;
use bytes::Bytes;
use cordial_jobs::cordial::jobs::fill_password;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// Reads the body whole and replaces each placeholder with the JSON-escaped password.
pub async fn substitute(
    request: http::Request<WasiBody>,
    password: &Secret,
) -> Result<http::Request<WasiBody>, HttpError> {
    let (mut parts, body) = request.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let replaced = replace(&bytes, password.expose());
    if let Ok(len) = http::HeaderValue::from_str(&replaced.len().to_string())
        && parts.headers.contains_key(http::header::CONTENT_LENGTH)
    {
        parts.headers.insert(http::header::CONTENT_LENGTH, len);
    }
    let body = Full::new(replaced)
        .map_err(|never| match never {})
        .boxed_unsync();
    Ok(http::Request::from_parts(parts, body))
}

fn replace(body: &Bytes, password: &str) -> Bytes {
    fill_password(body, password).map_or_else(|| body.clone(), Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_becomes_the_json_escaped_password() {
        let body = Bytes::from(r#"{"source":{"password":"{{sftp.password}}"}}"#);
        let out = replace(&body, r#"p"w\d"#);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["source"]["password"], r#"p"w\d"#);
        assert_eq!(replace(&Bytes::from("plain"), "x"), Bytes::from("plain"));
    }
}
