//! Query strings, read as leniently as Cordial reads them.

use std::collections::HashMap;

/// Query parameters by name (the last one wins). A malformed query yields what
/// could be decoded rather than axum's plain-text 400, which Cordial never sends.
pub fn query(raw: Option<String>) -> HashMap<String, String> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .unwrap_or_default()
        .into_iter()
        .collect()
}
