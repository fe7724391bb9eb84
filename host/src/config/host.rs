//! The whole configuration and its `[host]` section: where the store and the components
//! are, where `serve` listens and for how long it waits, the default limits, the mirrors.

use super::auth::AuthConfig;
use super::job::JobConfig;
use super::limits::{Limits, LimitsOverride};
use crate::sinks::platform::PlatformConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What `serve` gives calls in flight when told to stop: well inside the 30 s a container
/// platform (Kubernetes' default `terminationGracePeriodSeconds`) waits before SIGKILL.
const DEFAULT_SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);
/// How long run records are kept: a month of history answers "what happened last week"
/// while a host running real-time windows every minute keeps its table small.
const DEFAULT_RUN_HISTORY_DAYS: u32 = 30;
/// How long `serve` waits for a request's headers, and then for its whole body: a client
/// that trickles them (slowloris) holds a connection no longer than this.
const DEFAULT_INTAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The longest grace period `serve` may be given: its end is a deadline from the moment of
/// the stop signal, which a far larger value would overflow.
const MAX_SHUTDOWN_GRACE_SECS: u64 = 60 * 60;

/// The whole, checked configuration.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The SQLite file holding job state, the durable queue, pending members and streams.
    pub store: PathBuf,
    /// Where the job components (`import_activity.wasm`, …) are.
    pub components_dir: PathBuf,
    pub limits: Limits,
    /// Where `cordial-host serve` listens for the platform's webhooks.
    pub listen: std::net::SocketAddr,
    /// How long `serve`, told to stop, lets component calls in flight finish.
    pub shutdown_grace: std::time::Duration,
    /// Run records that started longer ago than this many days are deleted.
    pub run_history_days: u32,
    /// How long `serve` gives a client to send a request's headers, and again its body.
    pub intake_timeout: std::time::Duration,
    pub auths: BTreeMap<String, AuthConfig>,
    pub jobs: Vec<JobConfig>,
    /// When set, every stream is also mirrored to `<dir>/<stream>.ndjson` after each run.
    pub stream_ndjson_dir: Option<PathBuf>,
    /// When set, streams are forwarded to the platform's collect API.
    pub platform: Option<PlatformConfig>,
}

impl HostConfig {
    /// A config built in code by a platform that embeds the host: its authorizations and
    /// jobs, the components in `components_dir` (or named per job), default limits. The
    /// fields that only the host's own commands use get values that are never read.
    pub fn for_platform(
        components_dir: impl Into<PathBuf>,
        auths: impl IntoIterator<Item = AuthConfig>,
        jobs: Vec<JobConfig>,
    ) -> HostConfig {
        HostConfig {
            store: std::env::temp_dir().join("cordial-host-embedded.sqlite"),
            components_dir: components_dir.into(),
            limits: Limits::default(),
            listen: ([127, 0, 0, 1], 0).into(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            run_history_days: DEFAULT_RUN_HISTORY_DAYS,
            intake_timeout: DEFAULT_INTAKE_TIMEOUT,
            auths: auths.into_iter().map(|a| (a.name.clone(), a)).collect(),
            jobs,
            stream_ndjson_dir: None,
            platform: None,
        }
    }

    pub fn job(&self, name: &str) -> Option<&JobConfig> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

/// `[host]` as written: everything optional, the defaults applied by [`CheckedHost::into_config`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHost {
    listen: Option<std::net::SocketAddr>,
    shutdown_grace_secs: Option<u64>,
    run_history_days: Option<u32>,
    intake_timeout_secs: Option<u64>,
    store: Option<PathBuf>,
    components_dir: Option<PathBuf>,
    stream_ndjson_dir: Option<PathBuf>,
    #[serde(default)]
    limits: LimitsOverride,
    platform: Option<toml::Value>,
}

/// The `[host]` section checked: the platform to forward to (when set and well formed) and
/// the limits every job starts from.
pub(super) struct CheckedHost {
    raw: RawHost,
    pub platform: Option<PlatformConfig>,
    pub limits: Limits,
}

/// Reads and checks the `[host]` section (all defaults when there is none), telling
/// `problem` (place, message) of each mistake.
pub(super) fn read_host(
    section: Option<&toml::Value>,
    problem: &mut impl FnMut(&str, String),
) -> CheckedHost {
    let raw: RawHost = match section {
        None => RawHost::default(),
        Some(v) => v.clone().try_into().unwrap_or_else(|e| {
            problem("[host]", e.to_string());
            RawHost::default()
        }),
    };
    raw.check(problem)
}

impl RawHost {
    fn check(self, problem: &mut impl FnMut(&str, String)) -> CheckedHost {
        let platform =
            self.platform
                .as_ref()
                .and_then(|value| match PlatformConfig::from_toml(value) {
                    Ok(platform) => Some(platform),
                    Err(messages) => {
                        messages
                            .into_iter()
                            .for_each(|m| problem("[host.platform]", m));
                        None
                    }
                });
        if self.intake_timeout_secs == Some(0) {
            problem(
                "[host]",
                "intake_timeout_secs must be at least 1 (seconds a client has to send a request)"
                    .into(),
            );
        }
        if let Some(grace) = self.shutdown_grace_secs
            && grace > MAX_SHUTDOWN_GRACE_SECS
        {
            problem(
                "[host]",
                format!(
                    "shutdown_grace_secs must be at most {MAX_SHUTDOWN_GRACE_SECS} (an hour; container platforms stop waiting long before)"
                ),
            );
        }
        let limits = Limits::default().with(self.limits);
        if let Some(why) = limits.check() {
            problem("[host.limits]", why);
        }
        CheckedHost {
            raw: self,
            platform,
            limits,
        }
    }
}

impl CheckedHost {
    /// The whole configuration: this section with its defaults applied, and the
    /// authorizations and jobs read beside it.
    pub(super) fn into_config(
        self,
        auths: BTreeMap<String, AuthConfig>,
        jobs: Vec<JobConfig>,
    ) -> HostConfig {
        let host = self.raw;
        HostConfig {
            store: host.store.unwrap_or_else(|| "cordial-host.sqlite".into()),
            components_dir: host
                .components_dir
                .unwrap_or_else(|| "jobs/target/wasm32-wasip2/release".into()),
            limits: self.limits,
            listen: host
                .listen
                .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
            shutdown_grace: host
                .shutdown_grace_secs
                .map_or(DEFAULT_SHUTDOWN_GRACE, std::time::Duration::from_secs),
            run_history_days: host.run_history_days.unwrap_or(DEFAULT_RUN_HISTORY_DAYS),
            intake_timeout: host
                .intake_timeout_secs
                .map_or(DEFAULT_INTAKE_TIMEOUT, std::time::Duration::from_secs),
            auths,
            jobs,
            stream_ndjson_dir: host.stream_ndjson_dir,
            platform: self.platform,
        }
    }
}
