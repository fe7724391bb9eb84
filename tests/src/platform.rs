//! The platform's side of forwarding in a test: a stand-in of its collect API on loopback,
//! and the `[host.platform]` table that forwards to it with the key from a file.

use crate::harness::Harness;
use platform_standin::{RunningStandin, StandinConfig};

/// The stand-in's Data API key: distinctive, so a test can search logs for it.
pub const PLATFORM_KEY: &str = "pk-e2e-5be1c0ffee";

/// A stand-in that takes [`PLATFORM_KEY`].
pub async fn standin() -> RunningStandin {
    platform_standin::start(StandinConfig {
        api_key: PLATFORM_KEY.into(),
        ..StandinConfig::default()
    })
    .await
    .expect("the platform stand-in starts")
}

/// `[host.platform]` forwarding to `standin` with the key in a file of `h`'s scratch folder,
/// then `extra` lines (`batch_size = …`, `[host.platform.streams.…]`). TOML takes the table
/// anywhere after `[host]`, so it can follow the jobs.
pub fn platform_table(h: &Harness, standin: &RunningStandin, extra: &str) -> String {
    platform_table_with_key(h, standin, PLATFORM_KEY, extra)
}

/// [`platform_table`] presenting `key`.
pub fn platform_table_with_key(
    h: &Harness,
    standin: &RunningStandin,
    key: &str,
    extra: &str,
) -> String {
    let key_file = h.dir.path().join("platform-key");
    std::fs::write(&key_file, key).unwrap();
    format!(
        "\n[host.platform]\nbase_url = \"{base}\"\napi_key_file = \"{key}\"\n{extra}\n",
        base = standin.base_url(),
        key = key_file.display(),
    )
}
