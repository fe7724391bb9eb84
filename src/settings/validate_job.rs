//! The `validate` entry every job shares, over the ports: the settings as the runtime holds
//! them, their shapes first and, only when those are right, the checks that need the
//! Cordial account (a wrong shape would make those checks say nothing useful).

use super::{ConfigProblem, JobKind, check_against_account, from_pairs, validate};
use crate::cordial::CordialClient;
use crate::ports::Env;

/// Every problem with the settings of a job of `kind`; none means they are usable.
pub fn validate_job(kind: JobKind, env: &mut Env<'_>) -> Vec<ConfigProblem> {
    let pairs = match env.config.get_all() {
        Ok(pairs) => pairs,
        Err(e) => {
            return vec![ConfigProblem::unchecked(
                "(job)",
                format!("could not read the job's settings: {e}"),
            )];
        }
    };
    let settings = from_pairs(kind, &pairs);
    let problems = validate(kind, &settings);
    if !problems.is_empty() {
        return problems;
    }
    let mut client = CordialClient::new(&env.ctx.cordial_base_url, &mut *env.http);
    check_against_account(kind, &settings, &mut client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cordial::{HttpRequest, HttpResponse, HttpTransport, Method};
    use crate::job::RunContext;
    use crate::ports::fakes::{
        FakeClock, FakeCordial, MemoryConfig, MemoryKeyValue, RecordingLog, json_response,
    };
    use crate::ports::{Config, PortError};
    use serde_json::{Value, json};

    const BASE: &str = "http://cordial.test";

    /// An account with the attributes `fname` (text) and `address` (geo) and the list `vip`.
    fn account(r: &HttpRequest) -> HttpResponse {
        match (r.method, r.url.strip_prefix(BASE).unwrap()) {
            (Method::Get, "/v2/accountcontactattributes") => json_response(
                200,
                json!([{"key": "fname", "type": "string"}, {"key": "address", "type": "geo"}]),
            ),
            (Method::Get, "/v2/accountlists") => {
                json_response(200, json!([{"id": 1, "name": "vip"}]))
            }
            _ => json_response(404, json!({"error": true, "message": "no such endpoint"})),
        }
    }

    fn validate_with(
        kind: JobKind,
        http: &mut dyn HttpTransport,
        config: &mut dyn Config,
    ) -> Vec<ConfigProblem> {
        let ctx = RunContext {
            job_name: "vip".into(),
            run_id: "check".into(),
            started_at: "2026-12-02T10:00:00Z".into(),
            cordial_base_url: BASE.into(),
        };
        validate_job(
            kind,
            &mut Env {
                ctx: &ctx,
                http,
                state: &mut MemoryKeyValue::default(),
                config,
                log: &mut RecordingLog::default(),
                clock: &mut FakeClock::at(&ctx.started_at),
            },
        )
    }

    /// The realtime export's problems with `settings` against [`account`], and the calls made.
    fn realtime(settings: Value) -> (Vec<ConfigProblem>, usize) {
        let mut http = FakeCordial::new(account);
        let mut config = MemoryConfig::from_json(&settings);
        let problems = validate_with(JobKind::ExportRealtime, &mut http, &mut config);
        (problems, http.requests.len())
    }

    fn fields(problems: &[ConfigProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn good_settings_have_no_problems_once_cordial_agrees() {
        let (problems, calls) = realtime(json!({
            "audience": "vip",
            "list": "vip",
            "field_mapping": {"first_name": "fname", "city": "address.city"},
            "existing_users": true
        }));
        assert_eq!(problems, []);
        assert_eq!(calls, 2, "the attributes and the lists were checked");
    }

    #[test]
    fn a_typo_and_a_wrong_shape_are_named_without_asking_cordial() {
        let (problems, calls) = realtime(json!({
            "audience": "vip",
            "field_mapings": {"first_name": "fname"},
            "existing_users": "yes"
        }));
        assert_eq!(fields(&problems), ["field_mapings", "existing_users"]);
        assert!(
            problems[0]
                .message
                .contains("did you mean `field_mapping`?")
        );
        assert!(problems.iter().all(|p| !p.transient));
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_mapped_attribute_missing_from_the_account_is_found() {
        let (problems, _) = realtime(json!({
            "audience": "vip",
            "field_mapping": {"first_name": "first_name", "last": "fname"}
        }));
        assert_eq!(fields(&problems), ["field_mapping.first_name"]);
        assert!(
            problems[0]
                .message
                .starts_with("Cordial has no contact attribute `first_name`"),
            "{}",
            problems[0]
        );
        assert!(!problems[0].transient);
    }

    #[test]
    fn a_failing_cordial_is_a_transient_problem() {
        let mut http = FakeCordial::new(|_: &HttpRequest| {
            json_response(503, json!({"error": "an error has occurred"}))
        });
        let mut config = MemoryConfig::from_json(&json!({"list": "vip"}));
        let problems = validate_with(JobKind::ExperienceCapture, &mut http, &mut config);
        assert_eq!(fields(&problems), ["auth"]);
        assert!(problems[0].transient);
        assert!(problems[0].message.contains("503"), "{}", problems[0]);
    }

    /// A config store that is down.
    struct DownConfig;

    impl Config for DownConfig {
        fn get_all(&mut self) -> Result<Vec<(String, String)>, PortError> {
            Err(PortError("store unavailable".into()))
        }
    }

    #[test]
    fn an_unreadable_config_store_is_one_transient_problem() {
        let mut http = FakeCordial::new(account);
        let problems = validate_with(JobKind::ExportBulk, &mut http, &mut DownConfig);
        assert_eq!(
            problems,
            [ConfigProblem::unchecked(
                "(job)",
                "could not read the job's settings: store unavailable"
            )]
        );
        assert!(http.requests.is_empty());
    }
}
