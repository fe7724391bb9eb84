//! When a scheduled job's slots fall: each job's frequency (hourly, daily, weekly, every N hours, or a
//! cron expression) as a cron schedule in UTC, and the last slot that fired, kept in the
//! store so a restart neither fires a slot twice nor forgets one it missed.

use chrono::{DateTime, Utc};
use cordial_jobs::settings::Frequency;

/// A job's schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
    text: String,
}

/// What the scheduler should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// A slot passed without a run (the host was down, or this is its time): run now and
    /// record `slot` as fired.
    Now { slot: DateTime<Utc> },
    /// Nothing is due before `slot`.
    At { slot: DateTime<Utc> },
}

impl Schedule {
    pub fn parse(frequency: &str) -> Result<Schedule, String> {
        let expression = match Frequency::parse(frequency)? {
            Frequency::Hourly => "0 * * * *".to_owned(),
            Frequency::EveryHours(n) => format!("0 */{n} * * *"),
            Frequency::Daily => "0 0 * * *".to_owned(),
            Frequency::Weekly => "0 0 * * 1".to_owned(),
            Frequency::Cron(text) => text,
        };
        let cron: croner::Cron = expression
            .parse()
            .map_err(|e| format!("`{frequency}` is not a usable schedule: {e}"))?;
        Ok(Schedule {
            cron,
            text: expression,
        })
    }

    /// The cron expression the frequency stands for.
    pub fn expression(&self) -> &str {
        &self.text
    }

    /// The first slot strictly after `time`.
    pub fn next_after(&self, time: DateTime<Utc>) -> DateTime<Utc> {
        self.cron
            .find_next_occurrence(&time, false)
            .unwrap_or(time + chrono::Duration::days(366))
    }

    /// What is due at `now`, given the last slot that fired. A job that never fired waits for
    /// its first slot (use `cordial-host run` to run it at once). Several missed slots give
    /// one catch-up run, recorded as the latest of them.
    pub fn due(&self, last_fired: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Due {
        let Some(last) = last_fired else {
            return Due::At {
                slot: self.next_after(now),
            };
        };
        let mut slot = self.next_after(last);
        if slot > now {
            return Due::At { slot };
        }
        loop {
            let next = self.next_after(slot);
            if next > now {
                return Due::Now { slot };
            }
            slot = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn named_frequencies_become_cron_schedules() {
        assert_eq!(Schedule::parse("daily").unwrap().expression(), "0 0 * * *");
        assert_eq!(
            Schedule::parse("every 6 hours").unwrap().expression(),
            "0 */6 * * *"
        );
        let weekly = Schedule::parse("weekly").unwrap();
        // 2026-11-22 is a Sunday; weekly runs on Mondays at midnight UTC.
        assert_eq!(
            weekly.next_after(t("2026-11-22T10:00:00Z")),
            t("2026-11-23T00:00:00Z")
        );
        let cron = Schedule::parse("30 3 * * *").unwrap();
        assert_eq!(
            cron.next_after(t("2026-11-22T10:00:00Z")),
            t("2026-11-23T03:30:00Z")
        );
        assert!(Schedule::parse("sometimes").is_err());
        assert!(Schedule::parse("61 * * * *").is_err());
    }

    #[test]
    fn a_restart_does_not_fire_a_slot_twice() {
        let hourly = Schedule::parse("hourly").unwrap();
        // Fired at 10:00, restarted at 10:20: nothing until 11:00.
        assert_eq!(
            hourly.due(Some(t("2026-11-22T10:00:00Z")), t("2026-11-22T10:20:00Z")),
            Due::At {
                slot: t("2026-11-22T11:00:00Z")
            }
        );
    }

    #[test]
    fn missed_slots_give_one_catch_up_run() {
        let hourly = Schedule::parse("hourly").unwrap();
        // Down from 10:30 to 13:10: one run now, recorded as the 13:00 slot.
        assert_eq!(
            hourly.due(Some(t("2026-11-22T10:00:00Z")), t("2026-11-22T13:10:00Z")),
            Due::Now {
                slot: t("2026-11-22T13:00:00Z")
            }
        );
        // Never fired: wait for the first slot.
        assert_eq!(
            hourly.due(None, t("2026-11-22T10:20:00Z")),
            Due::At {
                slot: t("2026-11-22T11:00:00Z")
            }
        );
    }
}
