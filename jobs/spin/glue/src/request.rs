//! Reading an incoming `wasi:http` request: what the entry needs of its head, and its body
//! up to a limit.

use wasip2::http::types::{IncomingBody, IncomingRequest, Method};
use wasip2::io::streams::StreamError;

/// The head of a request.
pub struct Head {
    pub method: Method,
    /// The path without the query.
    pub path: String,
    path_with_query: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    pub fn of(request: &IncomingRequest) -> Head {
        let path_with_query = request.path_with_query().unwrap_or_default();
        let path = path_with_query
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        Head {
            method: request.method(),
            path,
            path_with_query,
            headers: request.headers().entries(),
        }
    }

    /// A header's first value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The path with its query, for passing a request on.
    pub fn path_with_query(&self) -> &str {
        &self.path_with_query
    }

    /// Every header, for passing a request on.
    pub fn headers(&self) -> &[(String, Vec<u8>)] {
        &self.headers
    }
}

/// Why a body was not read.
pub enum BodyError {
    TooLarge,
    Broken(String),
}

/// The whole body, refusing one over `max` bytes (by its `content-length` first, without
/// reading it, then by what arrives).
pub fn read_body(request: IncomingRequest, head: &Head, max: usize) -> Result<Vec<u8>, BodyError> {
    if let Some(length) = head.header("content-length")
        && length.trim().parse::<usize>().is_ok_and(|n| n > max)
    {
        return Err(BodyError::TooLarge);
    }
    let body = request
        .consume()
        .map_err(|_| BodyError::Broken("the body was taken twice".into()))?;
    let bytes = read_all(&body, max)?;
    IncomingBody::finish(body);
    Ok(bytes)
}

fn read_all(body: &IncomingBody, max: usize) -> Result<Vec<u8>, BodyError> {
    let stream = body
        .stream()
        .map_err(|_| BodyError::Broken("the body stream was taken twice".into()))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                out.extend_from_slice(&chunk);
                if out.len() > max {
                    return Err(BodyError::TooLarge);
                }
            }
            Err(StreamError::Closed) => return Ok(out),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(BodyError::Broken(e.to_debug_string()));
            }
        }
    }
}
