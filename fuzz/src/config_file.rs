//! The host's config file parser ([`cordial_host::config::parse`]).
//!
//! Promises checked: a refusal lists at least one problem and each names its place and what
//! is wrong; an accepted config has uniquely named jobs with names fit for URLs, each using
//! an authorization it declares, with only the job's own settings passed on to it, and
//! every Cordial base URL reduced to an origin, and every time limit usable as the host uses
//! it (in milliseconds, added to the present instant) instead of overflowing at the first
//! call or at shutdown.

use cordial_host::config::{HOST_JOB_KEYS, Limits, parse};
use std::time::{Duration, Instant};

/// Whether `duration` can be a deadline from now and counted in milliseconds.
fn usable(duration: Duration) -> bool {
    Instant::now().checked_add(duration).is_some() && u64::try_from(duration.as_millis()).is_ok()
}

fn limits_usable(limits: &Limits) -> bool {
    limits
        .timeout_secs
        .checked_mul(1000)
        .is_some_and(|ms| usable(Duration::from_millis(ms)))
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a problem");
            for p in &problems {
                assert!(
                    !p.place.is_empty() && !p.message.is_empty(),
                    "a problem without a place or a message: {p:?}"
                );
            }
        }
        Ok(config) => {
            assert!(
                usable(config.shutdown_grace),
                "shutdown grace {:?} accepted",
                config.shutdown_grace
            );
            assert!(
                limits_usable(&config.limits),
                "{:?} accepted",
                config.limits
            );
            for (i, job) in config.jobs.iter().enumerate() {
                assert!(
                    !job.name.is_empty()
                        && job
                            .name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                    "job name `{}`",
                    job.name
                );
                assert!(
                    config.jobs[..i].iter().all(|j| j.name != job.name),
                    "two jobs named `{}`",
                    job.name
                );
                assert!(
                    config.auths.contains_key(&job.auth),
                    "job `{}` uses the undeclared auth `{}`",
                    job.name,
                    job.auth
                );
                assert!(limits_usable(&job.limits), "{:?} accepted", job.limits);
                let settings = job.settings.as_object().expect("settings are an object");
                assert!(
                    HOST_JOB_KEYS.iter().all(|k| !settings.contains_key(*k)),
                    "host keys in the settings of `{}`: {settings:?}",
                    job.name
                );
            }
            for auth in config.auths.values() {
                let origin = auth
                    .base_url
                    .strip_prefix("https://")
                    .or_else(|| auth.base_url.strip_prefix("http://"));
                assert!(
                    origin.is_some_and(|o| !o.is_empty() && !o.contains('/')),
                    "base_url `{}` is not an origin",
                    auth.base_url
                );
            }
        }
    }
}
