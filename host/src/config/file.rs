//! The config file's shape and its checks.

use super::Problem;
use super::limits::{Limits, LimitsOverride};
use super::toml_json::to_json;
use crate::artifact::ComponentSource;
use crate::secret::SecretSource;
use crate::sinks::platform::PlatformConfig;
use cordial_jobs::settings::JobKind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The whole, checked configuration.
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

/// An authorization: a Cordial API key, and the SFTP server for the file-based jobs.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub name: String,
    /// Cordial's REST base without `/v2`, e.g. `https://api.cordial.io`.
    pub base_url: String,
    pub api_key: SecretSource,
    pub sftp: Option<SftpConfig>,
}

impl AuthConfig {
    /// An authorization without SFTP (enough for the real-time and capture jobs).
    pub fn new(name: &str, base_url: &str, api_key: SecretSource) -> AuthConfig {
        AuthConfig {
            name: name.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            sftp: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SftpConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub credential: SftpCredential,
    /// The folder jobs work in; empty means the login's home directory.
    pub folder: String,
    /// The server's host key fingerprint (`SHA256:…`) to pin.
    pub host_key: Option<String>,
}

#[derive(Debug, Clone)]
pub enum SftpCredential {
    Password(SecretSource),
    PrivateKey(PathBuf),
}

/// One job.
#[derive(Debug, Clone)]
pub struct JobConfig {
    pub name: String,
    pub kind: JobKind,
    pub auth: String,
    pub limits: Limits,
    /// The component to run instead of the kind's file in `components_dir`: a path, or an
    /// OCI reference the host pulls (see [`ComponentSource::parse`]).
    pub component: Option<ComponentSource>,
    /// How events are delivered (event-driven jobs).
    pub delivery: DeliveryConfig,
    /// The secret the platform must present on this job's webhook, if any.
    pub webhook_secret: Option<SecretSource>,
    /// The job's own settings, as the component receives them.
    pub settings: serde_json::Value,
}

impl JobConfig {
    /// A job of `kind` using the authorization `auth`, with its settings (a JSON object, as
    /// the manifest's schema describes them) and the defaults of everything else.
    pub fn new(name: &str, kind: JobKind, auth: &str, settings: serde_json::Value) -> JobConfig {
        JobConfig {
            name: name.to_owned(),
            kind,
            auth: auth.to_owned(),
            limits: Limits::default(),
            component: None,
            delivery: DeliveryConfig::default(),
            webhook_secret: None,
            settings,
        }
    }
}

/// `[job.delivery]`: how an event-driven job's queued items are worked off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Component calls in flight at once; each works off its own share of the contacts, so
    /// one contact's events stay in order.
    pub concurrency: u32,
    /// Events handed to the component per call.
    pub batch_size: u32,
    /// Attempts before a failing event is dead-lettered.
    pub max_attempts: u32,
    /// Requests to Cordial in flight at once for this job, across all its calls. A call
    /// sends the next event of every contact in its batch side by side, up to this cap.
    pub max_in_flight: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            concurrency: 8,
            batch_size: 50,
            max_attempts: 10,
            max_in_flight: 128,
        }
    }
}

impl DeliveryConfig {
    fn check(&self) -> Option<String> {
        if !(1..=256).contains(&self.concurrency) {
            return Some("delivery.concurrency must be from 1 to 256".into());
        }
        if !(1..=1000).contains(&self.batch_size) {
            return Some("delivery.batch_size must be from 1 to 1000".into());
        }
        if self.max_attempts == 0 {
            return Some("delivery.max_attempts must be at least 1".into());
        }
        if !(1..=1024).contains(&self.max_in_flight) {
            return Some("delivery.max_in_flight must be from 1 to 1024".into());
        }
        None
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    base_url: Option<String>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    sftp: Option<RawSftp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSftp {
    host: String,
    port: Option<u16>,
    username: String,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    private_key_file: Option<PathBuf>,
    #[serde(default)]
    folder: String,
    host_key: Option<String>,
}

/// Keys of a `[[job]]` table that belong to the host; the rest are the job's settings.
pub const HOST_JOB_KEYS: [&str; 7] = [
    "name",
    "kind",
    "auth",
    "limits",
    "component",
    "delivery",
    "webhook",
];

pub(super) fn parse(text: &str) -> Result<HostConfig, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |place: &str, message: String| {
        problems.push(Problem {
            place: place.to_owned(),
            message,
        })
    };
    let root: toml::Table = toml::from_str(text).map_err(|e| {
        vec![Problem {
            place: "config".into(),
            message: format!("not valid TOML: {e}"),
        }]
    })?;
    for key in root.keys() {
        if !["host", "auth", "job"].contains(&key.as_str()) {
            problem(
                &toml_key(key),
                "unknown section; the config has [host], [auth.<name>] and [[job]] sections".into(),
            );
        }
    }
    let host: RawHost = match root.get("host") {
        None => RawHost::default(),
        Some(v) => v.clone().try_into().unwrap_or_else(|e| {
            problem("[host]", e.to_string());
            RawHost::default()
        }),
    };
    let platform =
        host.platform
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
    if host.intake_timeout_secs == Some(0) {
        problem(
            "[host]",
            "intake_timeout_secs must be at least 1 (seconds a client has to send a request)"
                .into(),
        );
    }
    if let Some(grace) = host.shutdown_grace_secs
        && grace > MAX_SHUTDOWN_GRACE_SECS
    {
        problem(
            "[host]",
            format!(
                "shutdown_grace_secs must be at most {MAX_SHUTDOWN_GRACE_SECS} (an hour; container platforms stop waiting long before)"
            ),
        );
    }
    let limits = Limits::default().with(host.limits);
    if let Some(why) = limits.check() {
        problem("[host.limits]", why);
    }

    let mut auths = BTreeMap::new();
    if let Some(table) = root.get("auth") {
        let Some(table) = table.as_table() else {
            return Err(vec![Problem {
                place: "auth".into(),
                message: "write authorizations as [auth.<name>] tables".into(),
            }]);
        };
        for (name, value) in table {
            let place = format!("auth \"{name}\"");
            match value.clone().try_into::<RawAuth>() {
                Err(e) => problem(&place, e.to_string()),
                Ok(raw) => match auth_from_raw(name, raw) {
                    Ok(auth) => {
                        auths.insert(name.clone(), auth);
                    }
                    Err(messages) => messages.into_iter().for_each(|m| problem(&place, m)),
                },
            }
        }
    }

    // Every [auth.<name>] named, including any with problems of their own (reported above).
    let declared_auths: Vec<&str> = root
        .get("auth")
        .and_then(|a| a.as_table())
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut jobs: Vec<JobConfig> = Vec::new();
    let raw_jobs = match root.get("job") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items.clone(),
        Some(_) => {
            problem("job", "write jobs as [[job]] tables".into());
            Vec::new()
        }
    };
    for (index, raw) in raw_jobs.iter().enumerate() {
        let Some(table) = raw.as_table() else {
            problem(&format!("job #{}", index + 1), "must be a table".into());
            continue;
        };
        let name = table.get("name").and_then(|v| v.as_str()).unwrap_or("");
        let place = if name.is_empty() {
            format!("job #{}", index + 1)
        } else {
            format!("job \"{name}\"")
        };
        let mut job_problems = Vec::new();
        if name.is_empty() {
            job_problems.push("needs `name = \"...\"`".to_owned());
        } else if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            job_problems.push(format!(
                "name `{name}` may hold only letters, digits, `-` and `_` (it is used in URLs and commands)"
            ));
        } else if jobs.iter().any(|j| j.name == name) {
            job_problems.push(format!("another job is already named `{name}`"));
        }
        let kinds = JobKind::ALL.map(|k| k.as_str()).join(", ");
        let kind = match table.get("kind").and_then(|v| v.as_str()) {
            None => {
                job_problems.push(format!("needs `kind = \"...\"`, one of: {kinds}"));
                None
            }
            Some(k) => JobKind::parse(k).or_else(|| {
                job_problems.push(format!("kind `{k}` is unknown; use one of: {kinds}"));
                None
            }),
        };
        let auth = table.get("auth").and_then(|v| v.as_str()).unwrap_or("");
        if auth.is_empty() {
            job_problems.push("needs `auth = \"<name of an [auth.<name>] section>\"`".into());
        } else if !declared_auths.contains(&auth) {
            job_problems.push(format!(
                "auth `{auth}` is not defined; add an [auth.{auth}] section"
            ));
        }
        let job_limits = match table.get("limits") {
            None => limits,
            Some(v) => match v.clone().try_into::<LimitsOverride>() {
                Ok(o) => limits.with(o),
                Err(e) => {
                    job_problems.push(format!("limits: {e}"));
                    limits
                }
            },
        };
        if let Some(why) = job_limits.check() {
            job_problems.push(format!("limits: {why}"));
        }
        let delivery = match table.get("delivery") {
            None => DeliveryConfig::default(),
            Some(v) => v.clone().try_into::<DeliveryConfig>().unwrap_or_else(|e| {
                job_problems.push(format!("delivery: {e}"));
                DeliveryConfig::default()
            }),
        };
        if let Some(why) = delivery.check() {
            job_problems.push(why);
        }
        let webhook_secret = match table
            .get("webhook")
            .map(|v| v.clone().try_into::<RawWebhook>())
        {
            None => None,
            Some(Err(e)) => {
                job_problems.push(format!("webhook: {e}"));
                None
            }
            Some(Ok(RawWebhook {
                secret_env: Some(v),
                secret_file: None,
            })) => Some(SecretSource::Env(v)),
            Some(Ok(RawWebhook {
                secret_env: None,
                secret_file: Some(p),
            })) => Some(SecretSource::File(p)),
            Some(Ok(_)) => {
                job_problems.push("webhook: set exactly one of secret_env or secret_file".into());
                None
            }
        };
        let component = table
            .get("component")
            .and_then(|v| v.as_str())
            .map(ComponentSource::parse);
        let settings = serde_json::Value::Object(
            table
                .iter()
                .filter(|(k, _)| !HOST_JOB_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        );
        if !job_problems.is_empty() {
            job_problems.into_iter().for_each(|m| problem(&place, m));
            continue;
        }
        if let (Some(kind), Some(auth)) = (kind, auths.get(auth))
            && let Some(why) = sftp_problem(kind, auth, &settings)
        {
            problem(&place, why);
            continue;
        }
        jobs.push(JobConfig {
            name: name.to_owned(),
            kind: kind.expect("checked above"),
            auth: auth.to_owned(),
            limits: job_limits,
            component,
            delivery,
            webhook_secret,
            settings,
        });
    }

    if problems.is_empty() {
        Ok(HostConfig {
            store: host.store.unwrap_or_else(|| "cordial-host.sqlite".into()),
            components_dir: host
                .components_dir
                .unwrap_or_else(|| "jobs/target/wasm32-wasip2/release".into()),
            limits,
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
            platform,
        })
    } else {
        Err(problems)
    }
}

/// A key as it is written in TOML: bare when it can be, else quoted, so that a problem's
/// place is never blank (`'' = 1` is a key with no text).
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// What a file-based job needs of its authorization's SFTP settings. Cordial fetches import
/// files itself, with the password or a key saved in Cordial, never our private key.
fn sftp_problem(kind: JobKind, auth: &AuthConfig, settings: &serde_json::Value) -> Option<String> {
    if !crate::jobs::descriptor(kind).needs_sftp() {
        return None;
    }
    // A missing [auth.<name>.sftp] is reported by the job itself when it runs.
    let sftp = auth.sftp.as_ref()?;
    let saved_key = settings.get("sftp_saved_key").and_then(|v| v.as_str());
    match (&sftp.credential, saved_key) {
        (SftpCredential::PrivateKey(_), None) if kind == JobKind::ExportBulk => Some(format!(
            "auth `{}` logs in to SFTP with a private key, which Cordial cannot use to fetch the files: \
             save the key in Cordial and set sftp_saved_key = \"<its name in Cordial>\", or log in with a password",
            auth.name
        )),
        _ => None,
    }
}

fn auth_from_raw(name: &str, raw: RawAuth) -> Result<AuthConfig, Vec<String>> {
    let mut messages = Vec::new();
    let base_url =
        match normalise_base_url(raw.base_url.as_deref().unwrap_or("https://api.cordial.io")) {
            Ok(u) => u,
            Err(m) => {
                messages.push(m);
                String::new()
            }
        };
    let api_key = match (raw.api_key_env, raw.api_key_file) {
        (Some(var), None) => Some(SecretSource::Env(var)),
        (None, Some(path)) => Some(SecretSource::File(path)),
        (Some(_), Some(_)) => {
            messages.push("set api_key_env or api_key_file, not both".into());
            None
        }
        (None, None) => {
            messages.push(
                "needs the Cordial API key: api_key_env = \"CORDIAL_API_KEY\" or api_key_file = \"/path/to/key\"".into(),
            );
            None
        }
    };
    let sftp = raw.sftp.and_then(|s| match sftp_from_raw(s) {
        Ok(s) => Some(s),
        Err(m) => {
            messages.push(format!("sftp: {m}"));
            None
        }
    });
    match api_key {
        Some(api_key) if messages.is_empty() => Ok(AuthConfig {
            name: name.to_owned(),
            base_url,
            api_key,
            sftp,
        }),
        _ => Err(messages),
    }
}

fn sftp_from_raw(raw: RawSftp) -> Result<SftpConfig, String> {
    let credential = match (raw.password_env, raw.password_file, raw.private_key_file) {
        (Some(var), None, None) => SftpCredential::Password(SecretSource::Env(var)),
        (None, Some(path), None) => SftpCredential::Password(SecretSource::File(path)),
        (None, None, Some(path)) => SftpCredential::PrivateKey(path),
        _ => {
            return Err(
                "set exactly one of password_env, password_file or private_key_file".into(),
            );
        }
    };
    if raw.host.trim().is_empty() {
        return Err("host must not be empty".into());
    }
    Ok(SftpConfig {
        host: raw.host,
        port: raw.port.unwrap_or(22),
        username: raw.username,
        credential,
        folder: raw.folder,
        host_key: raw.host_key,
    })
}

/// `https://api.cordial.io/v2/` and friends → `https://api.cordial.io`.
fn normalise_base_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v2").unwrap_or(trimmed);
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("base_url `{url}` must start with https:// (or http:// for a local emulator)")
        })?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!(
            "base_url `{url}` must be just the origin, e.g. https://api.cordial.io"
        ));
    }
    if rest.contains("admin.cordial.io") {
        return Err(format!(
            "base_url `{url}` is Cordial's admin UI, not its API; use https://api.cordial.io (or https://api.usw2.cordial.io)"
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [host]
        store = "x.sqlite"
        [host.limits]
        memory_mb = 64

        [auth.cordial]
        base_url = "https://api.cordial.io/v2/"
        api_key_env = "CORDIAL_API_KEY"

        [[job]]
        name = "activity"
        kind = "import-activity"
        auth = "cordial"
        import_since = 2026-11-01
        [job.limits]
        timeout_secs = 5
    "#;

    #[test]
    fn a_good_config_parses_with_defaults_and_overrides() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.auths["cordial"].base_url, "https://api.cordial.io");
        let job = c.job("activity").unwrap();
        assert_eq!(job.kind, JobKind::ImportActivity);
        assert_eq!(job.limits.memory_mb, 64);
        assert_eq!(job.limits.timeout_secs, 5);
        assert_eq!(
            job.settings,
            serde_json::json!({"import_since": "2026-11-01"})
        );
    }

    #[test]
    fn every_problem_names_its_place() {
        let problems = parse(
            r#"
            [auth.a]
            base_url = "https://admin.cordial.io"
            [[job]]
            name = "x"
            kind = "export-everything"
            auth = "missing"
            [[job]]
            kind = "export-bulk"
            auth = "a"
            "#,
        )
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.starts_with("auth \"a\": base_url") && t.contains("admin UI")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("auth \"a\": needs the Cordial API key")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("job \"x\": kind `export-everything` is unknown")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("job \"x\": auth `missing` is not defined")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.starts_with("job #2: needs `name")),
            "{text:?}"
        );
    }

    /// Found by fuzzing (`config_file`): an empty top-level key gave a problem with a blank
    /// place (": unknown section; …").
    #[test]
    fn an_unknown_key_without_text_is_named_quoted() {
        let problems = parse("'' = ''\n\"a b\" = 1\nother = 2").unwrap_err();
        let places: Vec<&str> = problems.iter().map(|p| p.place.as_str()).collect();
        assert_eq!(places, ["\"\"", "\"a b\"", "other"]);
    }

    /// Found while writing the `config_file` fuzz target's property that accepted time limits
    /// are usable: these were accepted, and then overflowed computing a call's deadline
    /// (`timeout_secs * 1000`) or the shutdown deadline (`now + grace`, a panic at SIGTERM).
    #[test]
    fn time_limits_too_long_to_be_deadlines_are_refused() {
        let problems = parse(
            "[host]\nshutdown_grace_secs = 9223372036854775807\n[host.limits]\ntimeout_secs = 18446744073709552",
        )
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("[host]: shutdown_grace_secs must be at most 3600"));
        assert!(text[1].starts_with("[host.limits]: timeout_secs must be at most 86400"));
        assert!(
            parse("[host]\nshutdown_grace_secs = 3600\n[host.limits]\ntimeout_secs = 86400")
                .is_ok()
        );
    }

    /// The real-time and capture components start with 4 MiB of memory: a smaller limit
    /// would stop every call at instantiation, so the config refuses it.
    #[test]
    fn memory_limits_leave_room_for_the_components_initial_memory() {
        let problems = parse("[host.limits]\nmemory_mb = 4").unwrap_err();
        assert!(
            problems[0]
                .to_string()
                .contains("memory_mb must be at least 8"),
            "{problems:?}"
        );
        assert!(parse("[host.limits]\nmemory_mb = 8").is_ok());
    }

    #[test]
    fn sftp_needs_exactly_one_credential() {
        let problems = parse(
            r#"
            [auth.a]
            api_key_env = "K"
            [auth.a.sftp]
            host = "h"
            username = "u"
            "#,
        )
        .unwrap_err();
        assert!(problems[0].message.contains("exactly one of password_env"));
    }

    #[test]
    fn a_bulk_job_with_a_private_key_login_must_name_the_key_saved_in_cordial() {
        let config = |extra: &str| {
            format!(
                r#"
                [auth.a]
                api_key_env = "K"
                [auth.a.sftp]
                host = "h"
                username = "u"
                private_key_file = "/k"
                [[job]]
                name = "bulk"
                kind = "export-bulk"
                auth = "a"
                audience = "vip"
                {extra}
                "#
            )
        };
        let problems = parse(&config("")).unwrap_err();
        assert!(
            problems[0].message.contains("sftp_saved_key"),
            "{problems:?}"
        );
        assert!(parse(&config("sftp_saved_key = \"lytics\"")).is_ok());
    }
}
