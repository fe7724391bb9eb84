//! Where the streams go besides the store: an NDJSON file per stream ([`ndjson`]) and the
//! platform's collect API ([`platform`]). SQLite stays the record of truth; each sink keeps
//! its own position in the store and moves it only once its copy is safe.

pub mod ndjson;
pub mod platform;

use crate::db::Db;

/// Runs the configured mirrors after a run; a failing mirror is logged, not fatal: the
/// records are safe in the store and the next run catches up.
pub fn after_run(config: &crate::config::HostConfig, store: &Db) {
    if let Some(dir) = &config.stream_ndjson_dir {
        match ndjson::mirror_ndjson(store, dir) {
            Ok(n) if n > 0 => {
                tracing::info!(records = n, dir = %dir.display(), "streams mirrored to NDJSON")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("could not mirror the streams to NDJSON: {e:#}"),
        }
    }
}
