//! Outgoing HTTP for a job: only its configured Cordial origin, with the API key added by
//! the host. Everything else is denied and logged; the job never sees the key and cannot
//! set an `Authorization` header of its own.

use crate::config::Secret;
use base64::Engine as _;
use http::header::{AUTHORIZATION, HeaderValue};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

/// The allow-list and credential for one job's calls.
pub struct CordialHttpPolicy {
    job: String,
    scheme: String,
    authority: String,
    authorization: HeaderValue,
    /// Nanoseconds this call spent waiting for Cordial's responses, so the host can tell its
    /// own overhead from the network's.
    waited: Arc<AtomicU64>,
    /// The job's cap on requests in flight, shared by all its calls.
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl CordialHttpPolicy {
    /// `base_url` is the checked origin (`https://api.cordial.io`); `in_flight` caps the
    /// job's concurrent requests.
    pub fn new(
        job: &str,
        base_url: &str,
        api_key: &Secret,
        in_flight: Arc<tokio::sync::Semaphore>,
    ) -> anyhow::Result<Self> {
        let uri: http::Uri = base_url.parse()?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| anyhow::anyhow!("base_url {base_url} has no scheme"))?
            .to_ascii_lowercase();
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("base_url {base_url} has no host"))?;
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", api_key.expose()));
        let mut authorization = HeaderValue::from_str(&format!("Basic {token}"))?;
        authorization.set_sensitive(true);
        Ok(CordialHttpPolicy {
            job: job.to_owned(),
            authority: normalise_authority(&scheme, authority.as_str()),
            scheme,
            authorization,
            waited: Arc::default(),
            in_flight,
        })
    }

    /// The counter of time spent waiting for responses.
    pub fn waited(&self) -> Arc<AtomicU64> {
        self.waited.clone()
    }

    /// Whether a request to `uri` may leave the host.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
        let authority = uri
            .authority()
            .map(|a| normalise_authority(&self.scheme, a.as_str()));
        scheme.as_deref() == Some(self.scheme.as_str())
            && authority.as_deref() == Some(self.authority.as_str())
    }
}

/// Lower-cases the host and drops the scheme's default port, so `API.cordial.io:443` and
/// `api.cordial.io` compare equal.
fn normalise_authority(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default_port)
        .map(str::to_owned)
        .unwrap_or(authority)
}

type ResponseFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for CordialHttpPolicy {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(|name| *name == AUTHORIZATION || DEFAULT_FORBIDDEN_HEADERS.contains(name))
    }

    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> ResponseFuture {
        if !self.allows(request.uri()) {
            let uri = request.uri();
            tracing::warn!(
                job = %self.job,
                method = %request.method(),
                destination = %format!("{}://{}{}", uri.scheme_str().unwrap_or("?"), uri.authority().map(|a| a.as_str()).unwrap_or("?"), uri.path()),
                allowed = %format!("{}://{}", self.scheme, self.authority),
                "denied an outgoing request outside the job's Cordial base URL"
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        request
            .headers_mut()
            .insert(AUTHORIZATION, self.authorization.clone());
        let default: &mut dyn WasiHttpHooks = &mut DefaultSend;
        let sent = Box::into_pin(default.send_request(request, options, fut));
        let waited = self.waited.clone();
        let in_flight = self.in_flight.clone();
        Box::new(async move {
            let start = Instant::now();
            let _permit = in_flight.acquire_owned().await;
            let response = sent.await;
            waited.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            response
        })
    }
}

/// wasmtime-wasi-http's own sender (hyper, rustls with the webpki roots).
struct DefaultSend;
impl WasiHttpHooks for DefaultSend {}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: &str) -> CordialHttpPolicy {
        let in_flight = Arc::new(tokio::sync::Semaphore::new(1));
        CordialHttpPolicy::new("j", base, &Secret::new("k"), in_flight).unwrap()
    }

    #[test]
    fn only_the_configured_origin_is_allowed() {
        let p = policy("https://api.cordial.io");
        assert!(p.allows(&"https://api.cordial.io/v2/contacts".parse().unwrap()));
        assert!(p.allows(&"https://API.cordial.io:443/v2/x".parse().unwrap()));
        assert!(!p.allows(&"http://api.cordial.io/v2/x".parse().unwrap()));
        assert!(!p.allows(&"https://api.cordial.io.evil.com/v2/x".parse().unwrap()));
        assert!(!p.allows(&"https://example.com/".parse().unwrap()));
        let local = policy("http://127.0.0.1:8787");
        assert!(local.allows(&"http://127.0.0.1:8787/v2/contacts".parse().unwrap()));
        assert!(!local.allows(&"http://127.0.0.1:8788/v2/contacts".parse().unwrap()));
    }

    #[test]
    fn the_key_travels_as_basic_auth_with_an_empty_password() {
        let p = policy("https://api.cordial.io");
        // base64("k:") = "azo="
        assert_eq!(p.authorization.to_str().unwrap(), "Basic azo=");
        assert!(p.authorization.is_sensitive());
    }
}
