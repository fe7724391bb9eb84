//! What every Cordial job component shares: Rust bindings for the capability interfaces of
//! `wit/` (generated once here, reused by each component through `with:`), the wasi:http
//! transport for the Cordial client, and small conversions between the pure logic's types
//! and the WIT types.

pub mod bindings;
mod http;
mod problems;

pub use bindings::cordial::jobs::{log, outcomes, platform, sftp, state, types};
pub use http::WasiHttp;
pub use problems::{cordial_error_outcome, to_wit_problems};

/// A Cordial client for the base URL the host gave this call.
pub fn cordial_client(ctx: &types::RunContext) -> cordial_jobs::cordial::CordialClient<WasiHttp> {
    cordial_jobs::cordial::CordialClient::new(&ctx.cordial_base_url, WasiHttp)
}

/// The transport of scheduled runs: wasi:http with each 429 waited out (see
/// [`WaitOutRateLimits`](cordial_jobs::cordial::WaitOutRateLimits)).
pub type ScheduledHttp = cordial_jobs::cordial::WaitOutRateLimits<WasiHttp, fn(std::time::Duration)>;

fn scheduled_http() -> ScheduledHttp {
    cordial_jobs::cordial::WaitOutRateLimits::new(WasiHttp, std::thread::sleep)
}

/// A Cordial client for a scheduled run, which waits out rate limits instead of failing.
pub fn scheduled_client(
    ctx: &types::RunContext,
) -> cordial_jobs::cordial::CordialClient<ScheduledHttp> {
    cordial_jobs::cordial::CordialClient::new(&ctx.cordial_base_url, scheduled_http())
}

/// Logs at info level.
pub fn info(message: &str) {
    log::log(log::Level::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log::log(log::Level::Warn, message);
}

/// Generates a component's bindings for its world, reusing this crate's capability bindings
/// so every component shares one definition of the WIT types. `wit` is the path of the
/// repository's `wit/` folder relative to the component crate. wit-bindgen refuses mappings a
/// world does not use, hence one arm per family of worlds.
#[macro_export]
macro_rules! job_bindings {
    (scheduled $wit:literal, $world:literal) => {
        wit_bindgen::generate!({
            path: $wit,
            world: $world,
            with: {
                "cordial:jobs/types@0.1.0": cordial_guest::types,
                "cordial:jobs/log@0.1.0": cordial_guest::log,
                "cordial:jobs/state@0.1.0": cordial_guest::state,
                "cordial:jobs/sftp@0.1.0": cordial_guest::sftp,
                "cordial:jobs/platform@0.1.0": cordial_guest::platform,
            },
            generate_all,
        });
    };
    (event_driven $wit:literal, $world:literal) => {
        wit_bindgen::generate!({
            path: $wit,
            world: $world,
            with: {
                "cordial:jobs/types@0.1.0": cordial_guest::types,
                "cordial:jobs/outcomes@0.1.0": cordial_guest::outcomes,
                "cordial:jobs/log@0.1.0": cordial_guest::log,
                "cordial:jobs/state@0.1.0": cordial_guest::state,
            },
            generate_all,
        });
    };
}

/// The `configurable.validate` export every job shares: the settings' shapes first, then,
/// when those are right, the checks that need the Cordial account.
pub fn validate_settings(
    kind: cordial_jobs::settings::JobKind,
    ctx: &types::RunContext,
    config: &str,
) -> Vec<types::ConfigProblem> {
    use cordial_jobs::settings;
    let value: serde_json::Value = match serde_json::from_str(config) {
        Ok(v) => v,
        Err(e) => {
            return vec![types::ConfigProblem {
                field: "(job)".into(),
                message: format!("the host passed settings that are not JSON: {e}"),
                transient: false,
            }];
        }
    };
    let mut problems = settings::validate(kind, &value);
    if problems.is_empty() {
        problems = settings::check_against_account(kind, &value, &mut cordial_client(ctx));
    }
    to_wit_problems(problems)
}

/// Parses the settings the host passed, for a job whose `validate` already accepted them.
pub fn parse_settings<T: serde::de::DeserializeOwned>(config: &str) -> Result<T, String> {
    serde_json::from_str(config).map_err(|e| format!("settings: {e}"))
}

/// A failed Cordial call as a run error: 401 means the authorization is wrong, other
/// refusals are permanent, and what may pass later is transient.
pub fn job_error(error: &cordial_jobs::cordial::CordialError) -> types::JobError {
    use cordial_jobs::cordial::CordialError;
    match error {
        CordialError::Unauthorized(_) => types::JobError::InvalidConfig(error.to_string()),
        e if e.is_retryable() => types::JobError::Transient(e.to_string()),
        e => types::JobError::Permanent(e.to_string()),
    }
}

/// A line describing the SFTP connection the host holds for this job, for reports.
pub fn describe_sftp() -> String {
    match sftp::describe() {
        Ok(r) => format!("SFTP {}@{}:{}{}", r.username, r.server, r.port, r.folder),
        Err(e) => format!("SFTP unavailable ({e:?})"),
    }
}

/// The report of a run that did its first step (settings, access, plan) and moved no
/// records yet, logged as well so the operator sees it in the host's log.
pub fn first_step_report(summary: String) -> types::RunReport {
    info(&summary);
    types::RunReport {
        records_read: 0,
        records_written: 0,
        records_rejected: 0,
        summary,
    }
}

/// Makes sure the Cordial list exists, creating it once; remembered in job state so later
/// calls skip the lookup.
pub fn ensure_list<T: cordial_jobs::cordial::HttpTransport>(
    client: &mut cordial_jobs::cordial::CordialClient<T>,
    list: &str,
) -> Result<(), cordial_jobs::cordial::CordialError> {
    use cordial_jobs::cordial::CordialError;
    let key = format!("list-ready:{list}");
    if state::get(&key).is_some() {
        return Ok(());
    }
    if !client.account_lists()?.iter().any(|l| l.name == list) {
        match client.create_list(list) {
            Ok(id) => info(&format!("created Cordial list `{list}` (id {id})")),
            // Another call created it between our read and our create.
            Err(CordialError::Rejected {
                status: 422,
                ref message,
                ..
            }) if message.contains("unique") => {}
            Err(e) => return Err(e),
        }
    }
    state::set(&key, b"1");
    Ok(())
}

/// The types of the mapped attributes, from the state cache or, when stale, from Cordial.
pub fn attribute_types<T: cordial_jobs::cordial::HttpTransport>(
    client: &mut cordial_jobs::cordial::CordialClient<T>,
    ctx: &types::RunContext,
    settings: &cordial_jobs::settings::ExportSettings,
) -> Result<cordial_jobs::realtime::AttributeTypes, cordial_jobs::cordial::CordialError> {
    attribute_types_for(
        client,
        ctx,
        &cordial_jobs::realtime::typed_targets(settings),
    )
}

/// The types of the attributes `needed`, from the state cache or, when stale, from Cordial
/// (for jobs whose settings are not [`ExportSettings`](cordial_jobs::settings::ExportSettings)).
pub fn attribute_types_for<T: cordial_jobs::cordial::HttpTransport>(
    client: &mut cordial_jobs::cordial::CordialClient<T>,
    ctx: &types::RunContext,
    needed: &[&str],
) -> Result<cordial_jobs::realtime::AttributeTypes, cordial_jobs::cordial::CordialError> {
    use cordial_jobs::realtime::{AttributeTypes, attribute_cache};
    if needed.is_empty() {
        return Ok(AttributeTypes::new());
    }
    let cached = state::get(attribute_cache::KEY);
    if let Some(types) = attribute_cache::read(cached.as_deref(), &ctx.started_at, needed) {
        return Ok(types);
    }
    let types: AttributeTypes = client
        .contact_attributes()?
        .into_iter()
        .map(|a| (a.key, a.kind))
        .collect();
    state::set(
        attribute_cache::KEY,
        &attribute_cache::write(&types, &ctx.started_at),
    );
    Ok(types)
}

/// One Cordial request of a scheduled run whose 2xx JSON answer is needed (rate limits
/// waited out); failures become run errors.
pub fn call_json(
    request: &cordial_jobs::cordial::HttpRequest,
) -> Result<serde_json::Value, types::JobError> {
    use cordial_jobs::cordial::{CordialError, HttpTransport, json_response};
    let response = scheduled_http()
        .send(request)
        .map_err(|e| job_error(&CordialError::Transport(e)))?;
    json_response(&response)
        .map(|(_, v)| v)
        .map_err(|e| job_error(&e))
}

/// An SFTP failure while `doing` something, as a run error: settings problems are
/// `invalid-config`, a lost connection is transient, the rest permanent.
pub fn sftp_job_error(doing: &str, error: sftp::SftpError) -> types::JobError {
    use sftp::SftpError as E;
    use types::JobError;
    match error {
        E::NotConfigured(m) => JobError::InvalidConfig(format!("SFTP {doing}: {m}")),
        E::Connection(m) => JobError::Transient(format!("SFTP {doing}: {m}")),
        E::OutsideRoot(m) | E::PermissionDenied(m) => {
            JobError::InvalidConfig(format!("SFTP {doing}: {m}"))
        }
        E::NotFound(m) | E::Other(m) => JobError::Permanent(format!("SFTP {doing}: {m}")),
    }
}
