//! `[[job]]`: one job — its name, kind and authorization, its limits, how its events are
//! delivered, its webhook's secret — and its own settings, handed to the component as they
//! are.

use super::auth::{AuthConfig, SftpCredential};
use super::limits::{Limits, LimitsOverride};
use super::toml_json::to_json;
use crate::artifact::ComponentSource;
use crate::secret::SecretSource;
use cordial_jobs::settings::JobKind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

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

/// What a `[[job]]` table is checked against: what the config says before and beside it.
pub(super) struct Earlier<'a> {
    /// The host's limits, which a job's own `limits` override key by key.
    pub limits: Limits,
    /// Every `[auth.<name>]` named, including any with problems of their own.
    pub declared_auths: &'a [&'a str],
    /// The authorizations that read well.
    pub auths: &'a BTreeMap<String, AuthConfig>,
    /// The jobs read so far (names are unique).
    pub jobs: &'a [JobConfig],
}

/// Reads the `index`th `[[job]]` table; on failure, the place to name and every problem
/// found there.
pub(super) fn read_job(
    index: usize,
    raw: &toml::Value,
    earlier: &Earlier,
) -> Result<JobConfig, (String, Vec<String>)> {
    let Some(table) = raw.as_table() else {
        return Err((
            format!("job #{}", index + 1),
            vec!["must be a table".into()],
        ));
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
    } else if earlier.jobs.iter().any(|j| j.name == name) {
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
    } else if !earlier.declared_auths.contains(&auth) {
        job_problems.push(format!(
            "auth `{auth}` is not defined; add an [auth.{auth}] section"
        ));
    }
    let job_limits = match table.get("limits") {
        None => earlier.limits,
        Some(v) => match v.clone().try_into::<LimitsOverride>() {
            Ok(o) => earlier.limits.with(o),
            Err(e) => {
                job_problems.push(format!("limits: {e}"));
                earlier.limits
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
    let webhook_secret = table.get("webhook").and_then(|v| {
        webhook_secret(v)
            .map_err(|why| job_problems.push(format!("webhook: {why}")))
            .ok()
    });
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
        return Err((place, job_problems));
    }
    if let (Some(kind), Some(auth)) = (kind, earlier.auths.get(auth))
        && let Some(why) = sftp_problem(kind, auth, &settings)
    {
        return Err((place, vec![why]));
    }
    Ok(JobConfig {
        name: name.to_owned(),
        kind: kind.expect("checked above"),
        auth: auth.to_owned(),
        limits: job_limits,
        component,
        delivery,
        webhook_secret,
        settings,
    })
}

/// `[job.webhook]`: where the secret the platform must present is read from.
fn webhook_secret(value: &toml::Value) -> Result<SecretSource, String> {
    match value.clone().try_into::<RawWebhook>() {
        Err(e) => Err(e.to_string()),
        Ok(RawWebhook {
            secret_env: Some(v),
            secret_file: None,
        }) => Ok(SecretSource::Env(v)),
        Ok(RawWebhook {
            secret_env: None,
            secret_file: Some(p),
        }) => Ok(SecretSource::File(p)),
        Ok(_) => Err("set exactly one of secret_env or secret_file".into()),
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
