//! The Import Activity job: its time window, the export request, reading the export files
//! and mapping their records to the `cordial_activity` stream, and the run's whole sequence
//! ([`job::run`]).

pub mod export;
pub mod job;
pub mod reader;
pub mod record;
mod timestamp;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

/// Where the first run's window starts: `import_since` at midnight UTC, or seven days before
/// `now` when it is not set. Both as RFC 3339 UTC.
pub fn first_window_start(import_since: Option<&str>, now: &str) -> Result<String, String> {
    let now = parse_rfc3339(now)?;
    let start = match import_since {
        Some(day) => NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|e| format!("import_since `{day}`: {e}"))?
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc(),
        None => now - Duration::days(7),
    };
    if start > now {
        return Err(format!(
            "import_since {} is in the future",
            start.date_naive()
        ));
    }
    Ok(start.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_seven_days_back() {
        assert_eq!(
            first_window_start(None, "2026-11-22T13:00:00Z").unwrap(),
            "2026-11-15T13:00:00Z"
        );
    }

    #[test]
    fn import_since_starts_at_midnight_utc_and_cannot_be_in_the_future() {
        assert_eq!(
            first_window_start(Some("2026-11-01"), "2026-11-22T13:00:00+02:00").unwrap(),
            "2026-11-01T00:00:00Z"
        );
        assert!(
            first_window_start(Some("2026-12-01"), "2026-11-22T13:00:00Z")
                .unwrap_err()
                .contains("future")
        );
    }
}
