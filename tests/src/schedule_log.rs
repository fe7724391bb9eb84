//! The scheduler's decisions as `cordial-host serve` logs them: which slot each scheduled
//! run started for, which slots were skipped, what it waits for next. Tests read these
//! lines rather than the clock, so they assert what was decided, not when.

use crate::cli::ServeProcess;
use chrono::{DateTime, Utc};
use std::time::Duration;

pub const STARTING: &str = "scheduled run starting";
pub const DONE: &str = "scheduled run done";
pub const NEXT: &str = "next scheduled run";
pub const SKIPPING: &str = "skipping";

/// One log line with its time.
#[derive(Debug, Clone)]
pub struct Line {
    pub at: DateTime<Utc>,
    pub text: String,
}

impl Line {
    /// The value of the field `name` (`name=value`) as a time.
    pub fn time(&self, name: &str) -> DateTime<Utc> {
        let key = format!("{name}=");
        let value = self
            .text
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&key))
            .unwrap_or_else(|| panic!("no `{name}` in {}", self.text));
        value
            .parse()
            .unwrap_or_else(|e| panic!("`{name}` in {}: {e}", self.text))
    }
}

/// The lines of `log` holding `message`.
pub fn lines(log: &str, message: &str) -> Vec<Line> {
    log.lines()
        .filter(|l| l.contains(message))
        .map(|l| Line {
            at: l
                .split_whitespace()
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("a log line without its time: {l}")),
            text: l.to_owned(),
        })
        .collect()
}

/// The slots runs started for, in the order they started.
pub fn started_slots(log: &str) -> Vec<DateTime<Utc>> {
    lines(log, STARTING)
        .iter()
        .map(|l| l.time("slot"))
        .collect()
}

/// Waits until the host's log past byte `from` holds `count` lines with `message`, and
/// returns that part of the log; fails with the whole log after `limit`.
pub async fn wait_for(
    host: &ServeProcess,
    from: usize,
    message: &str,
    count: usize,
    limit: Duration,
) -> String {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let log = host.log();
        let tail = log.get(from..).unwrap_or_default().to_owned();
        if lines(&tail, message).len() >= count {
            return tail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {count} lines with `{message}` were logged:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
