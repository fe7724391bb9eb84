//! How often a scheduled job runs: a named frequency or a cron expression.

/// A job's schedule as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frequency {
    Hourly,
    /// Every `n` hours from midnight UTC (`every 6 hours`).
    EveryHours(u32),
    Daily,
    Weekly,
    /// A cron expression (5 fields, or 6 with seconds first); the host's scheduler parses it.
    Cron(String),
}

impl Frequency {
    /// Parses `hourly`, `daily`, `weekly`, `every N hours`, or a cron expression.
    pub fn parse(text: &str) -> Result<Frequency, String> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "hourly" => return Ok(Frequency::Hourly),
            "daily" => return Ok(Frequency::Daily),
            "weekly" => return Ok(Frequency::Weekly),
            _ => {}
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        if let ["every", n, unit] = words.as_slice()
            && matches!(*unit, "hour" | "hours")
        {
            return match n.parse::<u32>() {
                Ok(n) if (1..=168).contains(&n) => Ok(Frequency::EveryHours(n)),
                _ => Err(format!(
                    "`{t}`: the number of hours must be between 1 and 168"
                )),
            };
        }
        if (5..=7).contains(&words.len()) || t.starts_with('@') {
            return Ok(Frequency::Cron(t.to_owned()));
        }
        Err(format!(
            "`{t}` is not a frequency; write `hourly`, `daily`, `weekly`, `every 6 hours`, or a cron expression such as `0 3 * * *`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_interval_and_cron_forms_parse() {
        assert_eq!(Frequency::parse("Daily"), Ok(Frequency::Daily));
        assert_eq!(
            Frequency::parse("every 6 hours"),
            Ok(Frequency::EveryHours(6))
        );
        assert_eq!(
            Frequency::parse("0 3 * * *"),
            Ok(Frequency::Cron("0 3 * * *".into()))
        );
        assert!(Frequency::parse("every 0 hours").is_err());
        assert!(
            Frequency::parse("fortnightly")
                .unwrap_err()
                .contains("daily")
        );
    }
}
