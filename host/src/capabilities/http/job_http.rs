//! A job's HTTP policy, prepared once per job: its allowed origin, the `Authorization`
//! header, its traffic controls and its pool of connections. A call only clones the `Arc`.

use super::connections::Connections;
use super::traffic::JobTraffic;
use crate::secret::Secret;
use base64::Engine as _;
use http::header::HeaderValue;
use std::sync::Arc;

pub struct JobHttp {
    name: String,
    scheme: String,
    authority: String,
    authorization: HeaderValue,
    traffic: Arc<JobTraffic>,
    connections: Arc<Connections>,
    /// Substituted for `{{sftp.password}}` in request bodies bound for Cordial.
    sftp_password: Option<Secret>,
}

impl JobHttp {
    /// `base_url` is the checked origin (`https://api.cordial.io`).
    pub fn new(
        name: &str,
        base_url: &str,
        api_key: &Secret,
        max_in_flight: usize,
    ) -> anyhow::Result<JobHttp> {
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
        Ok(JobHttp {
            name: name.to_owned(),
            authority: normalise_authority(&scheme, authority.as_str()),
            scheme,
            authorization,
            traffic: Arc::new(JobTraffic::new(max_in_flight)),
            connections: Arc::new(Connections::new(uri.host().unwrap_or_default())),
            sftp_password: None,
        })
    }

    /// The SFTP password Cordial needs to fetch import files or write export files.
    pub fn with_sftp_password(mut self, password: Option<Secret>) -> JobHttp {
        self.sftp_password = password;
        self
    }

    /// The job's pooled connections to Cordial.
    pub fn connections(&self) -> Arc<Connections> {
        self.connections.clone()
    }

    pub fn sftp_password(&self) -> Option<&Secret> {
        self.sftp_password.as_ref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `scheme://authority`, for messages.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    pub fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    pub fn traffic(&self) -> Arc<JobTraffic> {
        self.traffic.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base: &str) -> JobHttp {
        JobHttp::new("j", base, &Secret::new("k"), 1).unwrap()
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
        assert_eq!(p.authorization().to_str().unwrap(), "Basic azo=");
        assert!(p.authorization().is_sensitive());
    }
}
