//! Outgoing HTTP for a job: only its configured Cordial origin, with the API key added by
//! the host. Everything else is denied and logged; the job never sees the key and cannot
//! set an `Authorization` header of its own.

mod connections;
mod job_http;
mod pace;
mod password;
mod resolve;
mod traffic;
mod wait;

pub use job_http::JobHttp;
pub use traffic::JobTraffic;
pub use wait::NetworkWait;

use http::header::AUTHORIZATION;
use std::sync::Arc;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

/// The wasi:http hooks of one call: the job's prepared policy plus this call's wait clock.
pub struct CordialHttpPolicy {
    job: Arc<JobHttp>,
    waited: Arc<NetworkWait>,
}

impl CordialHttpPolicy {
    pub fn for_call(job: Arc<JobHttp>) -> CordialHttpPolicy {
        CordialHttpPolicy {
            job,
            waited: Arc::default(),
        }
    }

    /// The call's network wait.
    pub fn waited(&self) -> Arc<NetworkWait> {
        self.waited.clone()
    }
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
        // What would report a failure of the request body to the guest; the default sender
        // drops it too.
        _body_done: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> ResponseFuture {
        if !self.job.allows(request.uri()) {
            let uri = request.uri();
            tracing::warn!(
                job = %self.job.name(),
                method = %request.method(),
                destination = %format!("{}://{}{}", uri.scheme_str().unwrap_or("?"), uri.authority().map(|a| a.as_str()).unwrap_or("?"), uri.path()),
                allowed = %self.job.origin(),
                "denied an outgoing request outside the job's Cordial base URL"
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        request
            .headers_mut()
            .insert(AUTHORIZATION, self.job.authorization().clone());
        let (waited, traffic) = (self.waited.clone(), self.job.traffic());
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        // The job writes a placeholder where Cordial needs the SFTP password; a POST's
        // small JSON body is read whole and the placeholder replaced on its way out.
        let password = (request.method() == http::Method::POST)
            .then(|| self.job.sftp_password().cloned())
            .flatten();
        let connections = self.job.connections();
        let job = self.job.clone();
        Box::new(async move {
            let request = match password {
                Some(password) => password::substitute(request, &password).await?,
                None => request,
            };
            waited.begin();
            let response = traffic
                .send(&method, &path, connections.send(request, options))
                .await;
            waited.end();
            let status = response.as_ref().ok().map(|(r, _)| r.status());
            crate::telemetry::metrics().cordial_answered(
                job.name(),
                &pace::endpoint(&method, &path),
                status,
            );
            response
        })
    }
}
