//! Cordial's timestamp format.
//!
//! Cordial answers with `2024-07-12T09:58:14+0000`: no colon in the offset and no
//! milliseconds (recorded traffic, cordial-api.md §1.3). Clients that parse strict
//! RFC 3339 break on it, which is exactly what the fake must expose, so every
//! timestamp the emulator emits goes through [`format`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Formats a UTC instant the way Cordial does.
pub fn format(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// The current instant, truncated to whole seconds so that a value read back from
/// the API compares equal to the one stored.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Parses the ISO-8601 forms Cordial accepts for date attributes: a date, a date
/// and time with or without fraction, with `Z`, `+hh:mm`, `+hhmm` or no offset
/// (taken as UTC), and the `YYYY-MM-DD hh:mm:ss` form its docs also show.
pub fn parse_iso8601(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_colon_or_millis() {
        let t = DateTime::from_timestamp(1_720_778_294, 123_000_000).unwrap();
        assert_eq!(format(t), "2024-07-12T09:58:14+0000");
    }

    #[test]
    fn parses_the_accepted_input_forms() {
        let want = "2024-07-12T09:58:14+0000";
        for input in [
            "2024-07-12T09:58:14Z",
            "2024-07-12T09:58:14.000Z",
            "2024-07-12T11:58:14+02:00",
            "2024-07-12T09:58:14+0000",
            "2024-07-12T09:58:14",
            "2024-07-12 09:58:14",
        ] {
            assert_eq!(
                parse_iso8601(input).map(format).as_deref(),
                Some(want),
                "{input}"
            );
        }
        assert_eq!(
            parse_iso8601("2024-07-12").map(format).as_deref(),
            Some("2024-07-12T00:00:00+0000")
        );
        assert_eq!(parse_iso8601("12/07/2024"), None);
        assert_eq!(parse_iso8601("yesterday"), None);
    }
}
