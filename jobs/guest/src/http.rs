//! [`HttpTransport`] over the standard `wasi:http/outgoing-handler`, so the same component
//! runs in the bundled host and under Spin. Blocking, one request at a time: the host runs
//! many component calls side by side instead.

use cordial_jobs::cordial::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method as WasiMethod, OutgoingBody, OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

/// The wasi:http transport.
pub struct WasiHttp;

impl HttpTransport for WasiHttp {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        finish(start(request)?)
    }

    /// Sends every request at once and returns their responses in the same order. The host
    /// runs the requests side by side (and caps how many a job has in flight), so a round
    /// costs about one round trip instead of one per request.
    fn send_all(&mut self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        let started: Vec<Result<Pending, TransportError>> = requests.iter().map(start).collect();
        started.into_iter().map(|p| p.and_then(finish)).collect()
    }
}

/// A request on its way: the body is written, the response not yet read.
struct Pending {
    response: wasip2::http::types::FutureIncomingResponse,
}

fn start(request: &HttpRequest) -> Result<Pending, TransportError> {
    let (scheme, authority, path) = split_url(&request.url)?;
    let headers = Fields::new();
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|e| TransportError::Other(format!("header {name}: {e:?}")))?;
    }
    if let Some(body) = &request.body {
        headers
            .set("content-length", &[body.len().to_string().into_bytes()])
            .map_err(|e| TransportError::Other(format!("content-length: {e:?}")))?;
    }
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Delete => WasiMethod::Delete,
    };
    let invalid = |what: &str| TransportError::Other(format!("invalid {what} in {}", request.url));
    outgoing
        .set_method(&method)
        .map_err(|_| invalid("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|_| invalid("scheme"))?;
    outgoing
        .set_authority(Some(authority))
        .map_err(|_| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(path))
        .map_err(|_| invalid("path"))?;
    let body = outgoing
        .body()
        .map_err(|_| TransportError::Other("request body taken twice".into()))?;
    let response = outgoing_handler::handle(outgoing, None).map_err(map_error_code)?;
    if let Some(bytes) = &request.body {
        let stream = body
            .write()
            .map_err(|_| TransportError::Other("request body stream taken twice".into()))?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| TransportError::Connection(format!("writing the body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(map_error_code)?;
    Ok(Pending { response })
}

fn finish(pending: Pending) -> Result<HttpResponse, TransportError> {
    let response = loop {
        match pending.response.get() {
            Some(result) => break result,
            None => pending.response.subscribe().block(),
        }
    };
    let response = response
        .map_err(|_| TransportError::Other("response taken twice".into()))?
        .map_err(map_error_code)?;
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|_| TransportError::Other("response body taken twice".into()))?;
    let body = read_all(&incoming)?;
    IncomingBody::finish(incoming);
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn read_all(body: &IncomingBody) -> Result<Vec<u8>, TransportError> {
    let stream = body
        .stream()
        .map_err(|_| TransportError::Other("response stream taken twice".into()))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(out),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(TransportError::Connection(format!(
                    "reading the response: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
}

fn split_url(url: &str) -> Result<(Scheme, &str, &str), TransportError> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(TransportError::Other(format!("not an http(s) URL: {url}")));
    };
    Ok(match rest.find('/') {
        Some(i) => (scheme, &rest[..i], &rest[i..]),
        None => (scheme, rest, "/"),
    })
}

fn map_error_code(code: ErrorCode) -> TransportError {
    match code {
        ErrorCode::HttpRequestDenied => {
            TransportError::Denied("the host allows only this job's Cordial base URL".into())
        }
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => TransportError::Timeout(format!("{code:?}")),
        ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => TransportError::Connection(format!("{code:?}")),
        other => TransportError::Other(format!("{other:?}")),
    }
}
