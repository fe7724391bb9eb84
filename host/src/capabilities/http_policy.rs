//! Outgoing HTTP for a job: only its configured Cordial origin, with the API key added by
//! the host. Everything else is denied and logged; the job never sees the key and cannot
//! set an `Authorization` header of its own.

use crate::config::Secret;
use base64::Engine as _;
use http::header::{AUTHORIZATION, HeaderValue};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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
    /// Time this call spent waiting for Cordial, so the host can tell its own overhead from
    /// the network's.
    waited: Arc<NetworkWait>,
    /// The job's traffic controls, shared by all its calls.
    traffic: Arc<JobTraffic>,
}

/// Per job, across all its calls: a cap on requests in flight, and a gate that a 429 from
/// Cordial closes until its `Retry-After` has passed, so no call of the job sends anything
/// new in the meantime, whichever call was told.
pub struct JobTraffic {
    in_flight: tokio::sync::Semaphore,
    not_before: Mutex<Option<tokio::time::Instant>>,
}

impl JobTraffic {
    pub fn new(max_in_flight: usize) -> JobTraffic {
        JobTraffic {
            in_flight: tokio::sync::Semaphore::new(max_in_flight),
            not_before: Mutex::new(None),
        }
    }

    /// Waits until the gate is open.
    async fn gate(&self) {
        loop {
            let until = *self.not_before.lock().expect("gate mutex poisoned");
            match until {
                Some(t) if t > tokio::time::Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Closes the gate for `delay` (keeping a later close that is already set).
    fn close_for(&self, delay: Duration) {
        let until = tokio::time::Instant::now() + delay;
        let mut slot = self.not_before.lock().expect("gate mutex poisoned");
        if slot.is_none_or(|t| t < until) {
            *slot = Some(until);
        }
    }
}

/// Cordial's wait after a 429: `Retry-After`, else `X-Rate-Limit-Reset`, else one second.
fn retry_after(response: &http::Response<WasiBody>) -> Duration {
    ["retry-after", "x-rate-limit-reset"]
        .iter()
        .find_map(|h| {
            response
                .headers()
                .get(*h)?
                .to_str()
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

impl CordialHttpPolicy {
    /// `base_url` is the checked origin (`https://api.cordial.io`); `traffic` is the job's
    /// shared in-flight cap and rate-limit gate.
    pub fn new(
        job: &str,
        base_url: &str,
        api_key: &Secret,
        traffic: Arc<JobTraffic>,
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
            traffic,
        })
    }

    /// The call's network wait.
    pub fn waited(&self) -> Arc<NetworkWait> {
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

/// Wall-clock time with at least one request of the call waiting: overlapping requests
/// count once, so the figure can be taken from the call's duration.
#[derive(Default)]
pub struct NetworkWait(Mutex<WaitState>);

#[derive(Default)]
struct WaitState {
    in_flight: u32,
    since: Option<Instant>,
    total: Duration,
}

impl NetworkWait {
    fn begin(&self) {
        let mut s = self.0.lock().expect("wait mutex poisoned");
        if s.in_flight == 0 {
            s.since = Some(Instant::now());
        }
        s.in_flight += 1;
    }

    fn end(&self) {
        let mut s = self.0.lock().expect("wait mutex poisoned");
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0
            && let Some(since) = s.since.take()
        {
            s.total += since.elapsed();
        }
    }

    /// The time waited so far.
    pub fn total(&self) -> Duration {
        self.0.lock().expect("wait mutex poisoned").total
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
        let traffic = self.traffic.clone();
        Box::new(async move {
            waited.begin();
            traffic.gate().await;
            let permit = traffic.in_flight.acquire().await;
            let response = sent.await;
            drop(permit);
            if let Ok((r, _)) = &response
                && r.status() == http::StatusCode::TOO_MANY_REQUESTS
            {
                traffic.close_for(retry_after(r));
            }
            waited.end();
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
        CordialHttpPolicy::new("j", base, &Secret::new("k"), Arc::new(JobTraffic::new(1))).unwrap()
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
    fn overlapping_waits_count_once() {
        let w = NetworkWait::default();
        w.begin();
        w.begin();
        std::thread::sleep(Duration::from_millis(20));
        w.end();
        w.end();
        let once = w.total();
        assert!(
            once >= Duration::from_millis(20) && once < Duration::from_millis(40),
            "{once:?}"
        );
    }

    #[test]
    fn the_key_travels_as_basic_auth_with_an_empty_password() {
        let p = policy("https://api.cordial.io");
        // base64("k:") = "azo="
        assert_eq!(p.authorization.to_str().unwrap(), "Basic azo=");
        assert!(p.authorization.is_sensitive());
    }
}
