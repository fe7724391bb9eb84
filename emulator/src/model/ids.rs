//! 24-hex MongoDB ObjectIds, the form of Cordial's `cID`, `_id` and `jobId`.
//!
//! Real ObjectIds start with a 4-byte creation time; clients sometimes sort or
//! eyeball them, so the fake keeps that layout: time, 5 bytes unique to this
//! process, then a 3-byte counter. No randomness crate is needed: std's hasher is
//! randomly keyed per process, which is all the uniqueness a local fake needs.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A new ObjectId as 24 lower-case hex digits.
pub fn object_id() -> String {
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let process = *PROCESS.get_or_init(|| {
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish()
    });
    let secs = u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(u32::MAX);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    format!("{secs:08x}{:010x}{count:06x}", process & 0xff_ffff_ffff)
}

/// Whether `s` has the shape of an ObjectId.
#[cfg(test)]
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_and_unique() {
        let a = object_id();
        let b = object_id();
        assert!(is_object_id(&a), "{a}");
        assert!(is_object_id(&b), "{b}");
        assert_ne!(a, b);
        assert!(!is_object_id("jane@example.com"));
    }
}
