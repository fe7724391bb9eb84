//! What a 429 guarantees, checked on the emulator's request log: once the host has been told
//! to wait, nothing it sends reaches Cordial before the `Retry-After` has passed. The only
//! requests that may land inside the window are those already on their way when the 429
//! arrived, and there can be no more of them than the job's other in-flight permits.

use cordial_emulator::RecordedRequest;
use std::time::Duration;

/// For every 429 in `requests`, counts the requests Cordial received after it and inside
/// its `retry_after` window, and fails when any 429 has more than `in_flight` of them.
/// Returns how many 429s were checked.
pub fn assert_retry_after_held(
    requests: &[RecordedRequest],
    retry_after: Duration,
    in_flight: usize,
) -> usize {
    let limits: Vec<_> = requests
        .iter()
        .filter(|r| r.fault_status == Some(429))
        .map(|r| r.received_at)
        .collect();
    for limit in &limits {
        let inside: Vec<(Duration, &str)> = requests
            .iter()
            .filter(|r| r.received_at > *limit && r.received_at < *limit + retry_after)
            .map(|r| (r.received_at - *limit, r.path.as_str()))
            .collect();
        assert!(
            inside.len() <= in_flight,
            "{} request(s) reached Cordial inside a Retry-After of {retry_after:?}, \
             where at most {in_flight} could have been in flight already: {inside:?}",
            inside.len()
        );
    }
    limits.len()
}
