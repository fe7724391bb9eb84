//! Job settings: what each kind of job accepts, their defaults, and validation that lists
//! every problem at once in words that say what to write instead.
//!
//! The host passes a job's settings to its component as a JSON object (the `[[job]]` table
//! of the host config without the host's own keys). The component validates them with this
//! module, so the rules live in one place for every runtime.

mod account;
mod calendar;
mod frequency;
mod kinds;
mod spec;
mod validate_job;

pub use account::check_against_account;
pub use calendar::parse_iso_date;
pub use frequency::Frequency;
pub use kinds::{
    CaptureSettings, ExportSettings, ImportActivitySettings, JobKind, OptInMode, REQUIRED_WHEN,
    RegionScope, RequiredWhen,
};
pub use spec::{Presence, SettingSpec, Shape};
pub use validate_job::validate_job;

/// One problem with a job's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The setting at fault, as written in the config (`field_mapping.first_name`).
    pub field: String,
    pub message: String,
    /// The check could not be completed (Cordial unreachable or failing); the settings may
    /// be right.
    pub transient: bool,
}

impl ConfigProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigProblem {
            field: field.into(),
            message: message.into(),
            transient: false,
        }
    }

    /// A check that could not be completed.
    pub fn unchecked(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigProblem {
            transient: true,
            ..ConfigProblem::new(field, message)
        }
    }
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks the settings of a job of `kind` without contacting anything.
pub fn validate(kind: JobKind, settings: &serde_json::Value) -> Vec<ConfigProblem> {
    let mut problems = spec::check(&kind.settings_spec(), settings);
    if problems.is_empty() {
        problems.extend(kind.check_values(settings));
    }
    problems
}

/// The typed settings of a job of `kind`, from its config port (see [`typed`]).
pub fn read<T: serde::de::DeserializeOwned>(
    kind: JobKind,
    config: &mut dyn crate::ports::Config,
) -> Result<T, crate::job::JobError> {
    use crate::job::JobError;
    let pairs = config
        .get_all()
        .map_err(|e| JobError::Transient(format!("reading the job's settings: {e}")))?;
    typed(kind, &from_pairs(kind, &pairs)).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        JobError::InvalidConfig(format!("settings: {}", lines.join("; ")))
    })
}

/// The typed settings of a job of `kind` from its settings object: the declared defaults
/// filled in, then checked (every problem at once), then read. This is the one way settings
/// are read, by the jobs and by the host alike, so a default is never restated.
pub fn typed<T: serde::de::DeserializeOwned>(
    kind: JobKind,
    settings: &serde_json::Value,
) -> Result<T, Vec<ConfigProblem>> {
    let problems = validate(kind, settings);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut filled = settings.clone();
    if let Some(map) = filled.as_object_mut() {
        for spec in kind.declared_settings() {
            if let Some(default) = spec.default_value() {
                map.entry(spec.name.to_owned()).or_insert(default);
            }
        }
    }
    serde_json::from_value(filled).map_err(|e| vec![ConfigProblem::new("(job)", e.to_string())])
}

/// What becomes of every item handed to an event-driven job whose settings could not be
/// [`read`]: retried when the config store failed (the settings may be fine), dead-lettered
/// when the settings themselves are unusable, since no retry can deliver those items. A
/// retry counts as attempted so the runtime backs off instead of calling again at once.
pub fn unreadable_outcome(error: crate::job::JobError) -> crate::job::Outcome {
    use crate::job::{JobError, Outcome};
    match error {
        JobError::Transient(reason) => Outcome::Retry {
            after: None,
            reason,
            attempted: true,
        },
        JobError::InvalidConfig(why) | JobError::Permanent(why) => {
            Outcome::dead_letter(format!("unusable job settings: {why}"))
        }
    }
}

/// Settings as a runtime's config store holds them (`wasi:config/store`, Spin variables):
/// one text value per top-level setting, text as it is and everything else as JSON.
pub fn to_pairs(settings: &serde_json::Value) -> Vec<(String, String)> {
    settings
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// The settings object back from its text pairs. A setting whose shape is text stays text;
/// any other value is read as JSON, and kept as text when it is not JSON, so that the
/// checks name the setting and say what it should look like.
pub fn from_pairs(kind: JobKind, pairs: &[(String, String)]) -> serde_json::Value {
    let spec = kind.settings_spec();
    let map = pairs
        .iter()
        .map(|(k, text)| {
            let is_text = spec
                .iter()
                .find(|s| s.name == k)
                .is_some_and(|s| s.shape.is_text());
            let value = if is_text {
                serde_json::Value::String(text.clone())
            } else {
                serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone()))
            };
            (k.clone(), value)
        })
        .collect();
    serde_json::Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_survive_the_trip_through_text_pairs() {
        let settings = json!({
            "audience": "123",
            "list": "true",
            "existing_users": true,
            "field_mapping": {"first": "first_name"},
            "frequency": "daily",
        });
        let pairs = to_pairs(&settings);
        assert!(pairs.contains(&("audience".into(), "123".into())));
        assert!(pairs.contains(&("existing_users".into(), "true".into())));
        assert_eq!(from_pairs(JobKind::ExportBulk, &pairs), settings);
    }

    #[test]
    fn a_value_that_is_not_json_stays_text_for_the_checks_to_name() {
        let pairs = vec![
            ("audience".to_owned(), "vip".to_owned()),
            ("existing_users".to_owned(), "yes".to_owned()),
        ];
        let value = from_pairs(JobKind::ExportRealtime, &pairs);
        let problems = validate(JobKind::ExportRealtime, &value);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "existing_users");
    }

    #[test]
    fn unreadable_settings_are_retried_only_when_the_store_failed() {
        use crate::job::{JobError, Outcome};
        let store = unreadable_outcome(JobError::Transient("store unavailable".into()));
        assert_eq!(
            store,
            Outcome::Retry {
                after: None,
                reason: "store unavailable".into(),
                attempted: true
            }
        );
        let unusable =
            unreadable_outcome(JobError::InvalidConfig("settings: no `audience`".into()));
        assert_eq!(
            unusable,
            Outcome::dead_letter("unusable job settings: settings: no `audience`")
        );
    }
}
