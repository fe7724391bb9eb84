//! Reading the config file: its sections in order ([`super::host`], [`super::auth`],
//! [`super::job`]), every problem collected with its place instead of stopping at the first.

use super::Problem;
use super::auth::read_auths;
use super::host::{HostConfig, read_host};
use super::job::{Earlier, read_job};

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
    let host = read_host(root.get("host"), &mut problem);
    let auths = read_auths(root.get("auth"), &mut problem).map_err(|p| vec![p])?;

    // Every [auth.<name>] named, including any with problems of their own (reported above).
    let declared_auths: Vec<&str> = root
        .get("auth")
        .and_then(|a| a.as_table())
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let raw_jobs = match root.get("job") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items.clone(),
        Some(_) => {
            problem("job", "write jobs as [[job]] tables".into());
            Vec::new()
        }
    };
    let mut jobs = Vec::new();
    for (index, raw) in raw_jobs.iter().enumerate() {
        let earlier = Earlier {
            limits: host.limits,
            declared_auths: &declared_auths,
            auths: &auths,
            jobs: &jobs,
        };
        match read_job(index, raw, &earlier) {
            Ok(job) => jobs.push(job),
            Err((place, messages)) => messages.into_iter().for_each(|m| problem(&place, m)),
        }
    }

    if problems.is_empty() {
        Ok(host.into_config(auths, jobs))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretSource;
    use cordial_jobs::settings::JobKind;

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
    fn a_webhook_secret_comes_from_exactly_one_place() {
        let job = |webhook: &str| {
            format!(
                "[auth.a]\napi_key_env = \"K\"\n[[job]]\nname = \"rt\"\nkind = \"export-realtime\"\nauth = \"a\"\naudience = \"vip\"\n[job.webhook]\n{webhook}"
            )
        };
        let c = parse(&job("secret_env = \"HOOK\"")).unwrap();
        assert!(matches!(
            &c.job("rt").unwrap().webhook_secret,
            Some(SecretSource::Env(v)) if v == "HOOK"
        ));
        let c = parse(&job("secret_file = \"/run/hook\"")).unwrap();
        assert!(matches!(
            &c.job("rt").unwrap().webhook_secret,
            Some(SecretSource::File(p)) if p.as_os_str() == "/run/hook"
        ));
        for (webhook, said) in [
            (
                "secret_env = \"A\"\nsecret_file = \"/b\"",
                "job \"rt\": webhook: set exactly one of secret_env or secret_file",
            ),
            (
                "",
                "job \"rt\": webhook: set exactly one of secret_env or secret_file",
            ),
            (
                "secret = \"inline\"",
                "job \"rt\": webhook: unknown field `secret`",
            ),
        ] {
            let problems = parse(&job(webhook)).unwrap_err();
            assert!(problems[0].to_string().starts_with(said), "{problems:?}");
        }
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
