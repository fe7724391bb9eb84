//! Checking the secret the platform presents (see [`cordial_jobs::intake::presented`]).

use crate::secret::Secret;
use axum::http::HeaderMap;

pub fn presented(headers: &HeaderMap, expected: &Secret) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    cordial_jobs::intake::presented(
        header("authorization"),
        header("x-webhook-secret"),
        expected.expose(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headers_are_read_from_the_request() {
        let secret = Secret::new("s3cret");
        let mut h = HeaderMap::new();
        assert!(!presented(&h, &secret));
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(presented(&h, &secret));
        let mut h = HeaderMap::new();
        h.insert("x-webhook-secret", "s3cret".parse().unwrap());
        assert!(presented(&h, &secret));
    }
}
