//! Resolving the Cordial origin's host name, refusing addresses inside the host's own
//! networks. A job reaches only its origin, but the origin is a name: if that name resolves
//! (by a tampered or rebinding DNS answer, or a numeric form such as `127.1` that the
//! resolver reads as `127.0.0.1`) to loopback, a private range or a link-local address (the
//! cloud metadata service at 169.254.169.254), the job's requests would land on services
//! beside the host (SSRF). Such addresses are dropped from every answer, and a name left
//! with none is refused before any connection is made.
//!
//! The exception is an origin that names such an address itself: an IP literal (which is
//! connected to without resolving) or `localhost` — how a local emulator or proxy is
//! reached. See the README, "Security model".

use hyper_util::client::legacy::connect::dns::Name;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The resolver of one job's connections to Cordial.
#[derive(Clone)]
pub struct GuardedResolver {
    /// Whether the configured origin itself is local (`localhost`): then its answers are
    /// taken as they are.
    trust_local: bool,
}

impl GuardedResolver {
    /// The resolver for an origin whose host is `host` (as written in `base_url`).
    pub fn for_origin(host: &str) -> GuardedResolver {
        GuardedResolver {
            trust_local: host.eq_ignore_ascii_case("localhost"),
        }
    }
}

/// Whether `ip` is inside the host's own networks: loopback, private (RFC 1918, unique
/// local), link-local, shared address space (RFC 6598), unspecified, or an IPv4 address of
/// those written as IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
            }
        },
    }
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let trust_local = self.trust_local;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let answers: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if trust_local {
                return Ok(answers.into_iter());
            }
            let (internal, public): (Vec<SocketAddr>, Vec<SocketAddr>) =
                answers.into_iter().partition(|a| is_internal(a.ip()));
            if public.is_empty() && !internal.is_empty() {
                let ips: Vec<String> = internal.iter().map(|a| a.ip().to_string()).collect();
                let refusal = format!(
                    "refused to connect to `{host}`: it resolves to {}, inside the host's own \
                     networks (loopback, private or link-local); the host connects there only \
                     when the auth's base_url names such an address itself (an IP address or \
                     `localhost`)",
                    ips.join(", ")
                );
                tracing::warn!("{refusal}");
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    refusal,
                ));
            }
            Ok(public.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_service::Service;

    #[test]
    fn loopback_private_and_link_local_ranges_are_internal() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "52.1.2.3",
            "2606:4700::1111",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_the_origin_is_localhost() {
        use std::str::FromStr;
        // `127.1` is not an IP literal to the connector, but the resolver reads it as
        // 127.0.0.1, as it does on every machine.
        let refused = GuardedResolver::for_origin("127.1")
            .call(Name::from_str("127.1").unwrap())
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(
            refused.to_string().contains("resolves to 127.0.0.1"),
            "{refused}"
        );
        let local: Vec<_> = GuardedResolver::for_origin("localhost")
            .call(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(local.iter().all(|a| a.ip().is_loopback()) && !local.is_empty());
    }
}
