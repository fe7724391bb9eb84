//! The one HTTP capability a job needs, as a trait so the same client runs over wasi:http in
//! a component and over a fake in unit tests.

use std::fmt;

/// HTTP methods the Cordial client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A request, fully built: the transport only has to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    /// Absolute URL, e.g. `https://api.cordial.io/v2/contacts`.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// The body parsed as JSON, for tests and contract checks.
    pub fn json_body(&self) -> Option<serde_json::Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }
}

/// A response as received.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no HTTP response at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The host refused to send it: the destination is not this job's Cordial origin.
    Denied(String),
    /// DNS, connect, TLS or a dropped connection.
    Connection(String),
    Timeout(String),
    Other(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Denied(m) => write!(f, "request denied by the host: {m}"),
            TransportError::Connection(m) => write!(f, "connection failed: {m}"),
            TransportError::Timeout(m) => write!(f, "timed out: {m}"),
            TransportError::Other(m) => write!(f, "{m}"),
        }
    }
}

/// Sends one request and returns the whole response.
pub trait HttpTransport {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Sends every request and answers in the same order. A transport that can have many
    /// requests in flight (wasi:http) sends them side by side, so a round of requests costs
    /// about one round trip; this default sends them one after another.
    fn send_all(&mut self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        requests.iter().map(|r| self.send(r)).collect()
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for &mut T {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request)
    }

    fn send_all(&mut self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        (**self).send_all(requests)
    }
}
