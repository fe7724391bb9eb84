//! Audience events as the platform's webhooks post them, in its default (single-user)
//! format and as CloudEvents.

/// The default (single-user) trigger payload. `extra` is spliced into the user's fields
/// (`,"first_name":"Ann"`).
pub fn default_payload(id: u64, email: &str, event: &str, slug: &str, extra: &str) -> String {
    let ts = event_time(event, "2026-11-22T10:00:00.123456789Z");
    format!(
        r#"{{"id":"{id}","data":{{"email":"{email}"{extra},"segment_events":[{{"id":"42976a269a5e6b9d06c681b1c27292df","event":"{event}","slug":"{slug}"{ts}}}]}},"meta":{{"object":"user","subscription_id":"36e243f8fd8f4530bbd330fa7fb1a685","timestamp":"2026-11-22T10:00:01Z"}}}}"#
    )
}

/// The CloudEvents form of the same.
pub fn cloud_event(id: u64, email: &str, event: &str, slug: &str, extra: &str) -> String {
    let ts = event_time(event, "2026-11-22T10:00:00Z");
    format!(
        r#"{{"specversion":"1.0","id":"{id}","source":"/work/abc","type":"com.lytics.audience.user.event","datacontenttype":"application/json","time":"2026-11-22T10:00:01Z","data":{{"email":"{email}"{extra},"segment_events":[{{"id":"42976a269a5e6b9d06c681b1c27292df","event":"{event}","slug":"{slug}"{ts}}}]}}}}"#
    )
}

/// The segment event's time field (`,"enter":"<at>"`); a `change` carries none.
fn event_time(event: &str, at: &str) -> String {
    if event == "change" {
        String::new()
    } else {
        format!(r#","{event}":"{at}""#)
    }
}

/// Several events as one webhook body: a JSON array.
pub fn batch(events: &[String]) -> String {
    format!("[{}]", events.join(","))
}
