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

pub use account::check_against_account;
pub use calendar::parse_iso_date;
pub use frequency::Frequency;
pub use kinds::{
    CaptureSettings, ExportSettings, ImportActivitySettings, JobKind, OptInMode, RegionScope,
};

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
    let mut problems = spec::check(kind.settings_spec(), settings);
    if problems.is_empty() {
        problems.extend(kind.check_values(settings));
    }
    problems
}
