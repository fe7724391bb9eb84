//! Small helpers over Spin's key-value store shared by the outbox, the bulk members, the
//! served files and the leases: opening the `default` store, errors that say which step
//! failed, and listing the keys under a prefix.

use crate::keyvalue::store::{self, Bucket};

/// The app's `default` store (local SQLite, or Redis through a runtime config).
pub fn open() -> Result<Bucket, String> {
    store::open("default").map_err(error("open `default`"))
}

/// Turns a store error into a message naming the step.
pub fn error<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("Spin key-value store, {what}: {e:?}")
}

/// Every key under `prefix`, sorted. Spin's stores list the whole bucket, so callers keep
/// what they list small (one job's batches, files or grants).
pub fn keys_under(bucket: &Bucket, prefix: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = bucket
            .list_keys(cursor.as_deref())
            .map_err(error("list keys"))?;
        keys.extend(page.keys.into_iter().filter(|k| k.starts_with(prefix)));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    keys.sort();
    Ok(keys)
}

/// A key and its value, if it has one.
pub type Entry = (String, Option<Vec<u8>>);

/// The values of `keys` (`None` for a missing one), in order. One `get` each, not
/// `wasi:keyvalue/batch` `get-many`: Spin's Redis store answers `get-many` with a `KEYS`
/// command (crates/key-value-redis in Spin 4.1) and fails. Reads take no transaction, so
/// one by one costs little; writes go through `set-many`, which both stores do at once.
pub fn get_each(bucket: &Bucket, keys: &[String]) -> Result<Vec<Entry>, String> {
    keys.iter()
        .map(|key| Ok((key.clone(), bucket.get(key).map_err(error("read"))?)))
        .collect()
}

/// A counter's value (0 when it was never written).
pub fn number(bucket: &Bucket, key: &str) -> Result<u64, String> {
    let value = bucket.get(key).map_err(error("read a counter"))?;
    Ok(value
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0))
}

/// Writes a counter.
pub fn set_number(bucket: &Bucket, key: &str, value: u64) -> Result<(), String> {
    bucket
        .set(key, value.to_string().as_bytes())
        .map_err(error("write a counter"))
}

/// The time a hold, lease or grant value (`<until>` or `<until>:<token>`) runs to; 0 for none.
pub fn until(value: Option<Vec<u8>>) -> u64 {
    value
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split(':').next()?.parse().ok())
        .unwrap_or(0)
}

/// The wall clock in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    let now = wasip2::clocks::wall_clock::now();
    now.seconds * 1000 + u64::from(now.nanoseconds / 1_000_000)
}

/// 128 random bits as hex: batch names, lease tokens, file-address capabilities.
pub fn random_token() -> String {
    format!(
        "{:016x}{:016x}",
        wasip2::random::random::get_random_u64(),
        wasip2::random::random::get_random_u64()
    )
}
