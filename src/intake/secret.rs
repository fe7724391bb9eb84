//! Checking the secret the platform presents: `Authorization: Bearer <secret>` (the
//! platform's OAuth/bearer style) or `X-Webhook-Secret: <secret>` (its header style).

/// The 401's message.
pub const SECRET_ADVICE: &str = "missing or wrong secret: send it as `Authorization: Bearer <secret>` or `X-Webhook-Secret: <secret>`";

/// Whether either header (their values as sent, if present) carries `expected`.
pub fn presented(
    authorization: Option<&str>,
    webhook_secret: Option<&str>,
    expected: &str,
) -> bool {
    let bearer = authorization.and_then(|v| v.strip_prefix("Bearer "));
    [bearer, webhook_secret]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.trim().as_bytes(), expected.as_bytes()))
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
        assert!(!presented(None, None, "s3cret"));
        assert!(presented(Some("Bearer s3cret"), None, "s3cret"));
        assert!(!presented(Some("s3cret"), None, "s3cret"));
        assert!(presented(None, Some(" s3cret "), "s3cret"));
        assert!(!presented(None, Some("s3cre"), "s3cret"));
        assert!(presented(Some("Bearer nope"), Some("s3cret"), "s3cret"));
    }
}
