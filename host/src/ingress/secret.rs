//! Checking the secret the platform presents: `Authorization: Bearer <secret>` (the
//! platform's OAuth/bearer style) or `X-Webhook-Secret: <secret>` (its header style).

use crate::config::Secret;
use axum::http::HeaderMap;

pub fn presented(headers: &HeaderMap, expected: &Secret) -> bool {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let header = headers
        .get("x-webhook-secret")
        .and_then(|v| v.to_str().ok());
    [bearer, header]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.trim().as_bytes(), expected.expose().as_bytes()))
}

/// Compares without an early exit, so response times do not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_header_form_is_accepted_and_nothing_else() {
        let secret = Secret::new("s3cret");
        let mut h = HeaderMap::new();
        assert!(!presented(&h, &secret));
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(presented(&h, &secret));
        let mut h = HeaderMap::new();
        h.insert("x-webhook-secret", "s3cret".parse().unwrap());
        assert!(presented(&h, &secret));
        h.insert("x-webhook-secret", "s3cre".parse().unwrap());
        assert!(!presented(&h, &secret));
    }
}
