//! The connections a job's requests to Cordial travel on: one pooled HTTP/1.1 client per job
//! (TLS by rustls with the webpki roots, as wasmtime-wasi-http's own sender uses), so a
//! request reuses an idle keep-alive connection instead of opening a TCP connection and a TLS
//! session of its own. That sender's per-request connection was most of the host's CPU time
//! under load (the kernel's TCP setup and teardown), and against a real Cordial over HTTPS it
//! would add a TLS handshake to every request.

use super::resolve::GuardedResolver;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// How long an idle connection stays open for the next request.
const IDLE: Duration = Duration::from_secs(60);
/// Waiting for a response's first byte (connecting included) when the job sets no timeout.
const FIRST_BYTE: Duration = Duration::from_secs(600);

type Connector = hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>;

/// What wasi:http awaits after the response: a connection's I/O to its end.
pub type Driven = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

pub struct Connections {
    client: Client<Connector, WasiBody>,
}

impl Connections {
    /// The pool for an origin whose host is `host`; its name is resolved by a
    /// [`GuardedResolver`].
    pub fn new(host: &str) -> Connections {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        })
        .with_no_client_auth();
        let mut http = HttpConnector::new_with_resolver(GuardedResolver::for_origin(host));
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Connections {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(IDLE)
                .build(connector),
        }
    }

    /// Sends `request` on a pooled connection; the response body streams from it. The
    /// second half is wasi:http's "connection finished" future: the pool drives its
    /// connections itself, so there is nothing to wait for.
    pub async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<(http::Response<WasiBody>, Driven), HttpError> {
        let first_byte = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(FIRST_BYTE);
        let response = tokio::time::timeout(first_byte, self.client.request(request))
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)?
            .map_err(failure)?;
        let done: Driven = Box::new(async { Ok(()) });
        Ok((
            response.map(|body| body.map_err(HttpError::from).boxed_unsync()),
            done,
        ))
    }
}

/// The client's failure as wasi:http's: a connection that could not be made keeps its I/O
/// error (refused, unreachable, DNS), anything later its message.
fn failure(e: hyper_util::client::legacy::Error) -> HttpError {
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            let io = std::io::Error::new(io.kind(), io.to_string());
            return if e.is_connect() {
                HttpError::Connect(io)
            } else {
                HttpError::InternalError(Some(format!("{e}: {io}")))
            };
        }
        source = cause.source();
    }
    if e.is_connect() {
        HttpError::Connect(std::io::Error::other(format!("{e:#}")))
    } else {
        HttpError::InternalError(Some(format!("{e:#}")))
    }
}
