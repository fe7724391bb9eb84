//! The four kinds of job, the settings each accepts, and their typed, defaulted form.

use super::ConfigProblem;
use super::spec::{SettingSpec, Shape, optional, required};
use crate::cordial::check_list_name;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The kinds of job, one component each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    ImportActivity,
    ExportRealtime,
    ExportBulk,
    ExperienceCapture,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::ImportActivity,
        JobKind::ExportRealtime,
        JobKind::ExportBulk,
        JobKind::ExperienceCapture,
    ];

    /// The name used in configs, in the WIT world and for the component file.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ImportActivity => "import-activity",
            JobKind::ExportRealtime => "export-realtime",
            JobKind::ExportBulk => "export-bulk",
            JobKind::ExperienceCapture => "experience-capture",
        }
    }

    pub fn parse(text: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether the host runs this job on a schedule (the others are driven by events).
    pub fn is_scheduled(self) -> bool {
        matches!(self, JobKind::ImportActivity | JobKind::ExportBulk)
    }

    /// Whether the job needs the SFTP part of its authorization.
    pub fn needs_sftp(self) -> bool {
        self.is_scheduled()
    }

    pub(super) fn settings_spec(self) -> &'static [SettingSpec] {
        match self {
            JobKind::ImportActivity => IMPORT_ACTIVITY,
            JobKind::ExportRealtime => EXPORT_REALTIME,
            JobKind::ExportBulk => EXPORT_BULK,
            JobKind::ExperienceCapture => EXPERIENCE_CAPTURE,
        }
    }

    /// Checks that need the values' meaning, run once the shapes are right.
    pub(super) fn check_values(self, settings: &Value) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if let Some(list) = settings.get("list").and_then(Value::as_str)
            && let Some(why) = check_list_name(list)
        {
            problems.push(ConfigProblem::new("list", why));
        }
        // Only field_mapping targets Cordial attributes; extra_mapping names stream fields.
        if let Some(map) = settings.get("field_mapping").and_then(Value::as_object) {
            for (source, target) in map {
                let target = target.as_str().unwrap_or_default();
                if let Some(why) = check_attribute_key(target) {
                    problems.push(ConfigProblem::new(format!("field_mapping.{source}"), why));
                }
            }
        }
        if self == JobKind::ExperienceCapture
            && settings.get("opt_in_mode").and_then(Value::as_str) == Some("all")
            && settings.get("opt_in_attribute").is_none()
        {
            problems.push(ConfigProblem::new(
                "opt_in_attribute",
                "opt_in_mode = \"all\" sends everyone with their opt-in status as a value; name the Cordial attribute that carries it",
            ));
        }
        problems
    }
}

/// Cordial attribute keys are letters, digits and `_`; `a.b` addresses a geo sub-field.
fn check_attribute_key(key: &str) -> Option<String> {
    let ok = !key.is_empty()
        && key.split('.').count() <= 2
        && key.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    (!ok).then(|| {
        format!("`{key}` is not a Cordial attribute key (letters, digits and `_`; `address.city` for a geo field)")
    })
}

const LABEL: SettingSpec = optional("label", Shape::Text);
const DESCRIPTION: SettingSpec = optional("description", Shape::Text);

const IMPORT_ACTIVITY: &[SettingSpec] = &[
    LABEL,
    DESCRIPTION,
    optional("import_since", Shape::Date),
    optional("frequency", Shape::Frequency),
    optional("custom_actions", Shape::TextList),
    optional("overlap_minutes", Shape::Count(0, 24 * 60)),
    optional("extra_mapping", Shape::TextMap),
    optional("keep_files", Shape::Bool),
    optional("sftp_saved_key", Shape::Text),
    optional("export_deadline_minutes", Shape::Count(0, 24 * 60)),
    optional("compress", Shape::Bool),
    optional("records_per_file", Shape::Count(0, 100_000_000)),
];

const EXPORT_REALTIME: &[SettingSpec] = &[
    LABEL,
    DESCRIPTION,
    required("audience", Shape::Text),
    optional("email_field", Shape::Text),
    optional("list", Shape::Text),
    optional("field_mapping", Shape::TextMap),
    optional("existing_users", Shape::Bool),
    optional("force_subscribe", Shape::Bool),
];

const EXPORT_BULK: &[SettingSpec] = &[
    LABEL,
    DESCRIPTION,
    required("audience", Shape::Text),
    optional("email_field", Shape::Text),
    optional("list", Shape::Text),
    optional("field_mapping", Shape::TextMap),
    optional("existing_users", Shape::Bool),
    optional("frequency", Shape::Frequency),
    optional("keep_files", Shape::Bool),
    optional("sftp_saved_key", Shape::Text),
    optional("import_deadline_minutes", Shape::Count(0, 24 * 60)),
];

const EXPERIENCE_CAPTURE: &[SettingSpec] = &[
    LABEL,
    DESCRIPTION,
    optional("field_mapping", Shape::TextMap),
    optional("list", Shape::Text),
    optional("region", Shape::OneOf(&["eu", "non_eu", "both"])),
    optional("unknown_region", Shape::OneOf(&["eu", "non_eu", "skip"])),
    optional("auto_subscribe", Shape::Bool),
    optional(
        "opt_in_mode",
        Shape::OneOf(&["opted_in", "opted_in_or_unknown", "all"]),
    ),
    optional("opt_in_attribute", Shape::Text),
    optional("strict", Shape::Bool),
];

fn default_email_field() -> String {
    "email".into()
}

fn default_activity_frequency() -> String {
    "every 6 hours".into()
}

fn default_bulk_frequency() -> String {
    "daily".into()
}

fn default_overlap_minutes() -> u64 {
    60
}

/// Settings of an Import Activity job, with defaults filled in.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportActivitySettings {
    pub label: Option<String>,
    pub description: Option<String>,
    /// First day to import (`yyyy-mm-dd`); none means the last 7 days.
    pub import_since: Option<String>,
    #[serde(default = "default_activity_frequency")]
    pub frequency: String,
    /// Custom event names exported besides the reserved message events.
    #[serde(default)]
    pub custom_actions: Vec<String>,
    /// How far each window reaches back before the cursor, for late events.
    #[serde(default = "default_overlap_minutes")]
    pub overlap_minutes: u64,
    /// Export field → stream field, added to the default mapping.
    #[serde(default)]
    pub extra_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub keep_files: bool,
    /// The name of the SFTP key saved in Cordial, for servers without a password.
    pub sftp_saved_key: Option<String>,
    /// How long a run waits for Cordial's export before leaving it to the next run.
    #[serde(default = "default_import_deadline")]
    pub export_deadline_minutes: u64,
    /// Ask Cordial for gzip-compressed export files (smaller transfers).
    #[serde(default = "default_true")]
    pub compress: bool,
    /// Split the export into files of at most this many records; 0 = one file.
    #[serde(default)]
    pub records_per_file: u64,
}

fn default_true() -> bool {
    true
}

/// Settings shared by the real-time and bulk audience exports.
#[derive(Debug, Clone, Deserialize)]
pub struct ExportSettings {
    pub label: Option<String>,
    pub description: Option<String>,
    /// The audience's slug.
    pub audience: String,
    /// The user field that holds the email address.
    #[serde(default = "default_email_field")]
    pub email_field: String,
    /// The Cordial list; none means `Lytics_{audience}`, created on first use.
    pub list: Option<String>,
    /// Platform field → Cordial attribute key.
    #[serde(default)]
    pub field_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub existing_users: bool,
    /// Bulk only.
    #[serde(default = "default_bulk_frequency")]
    pub frequency: String,
    /// Real time only: send `forceSubscribe`. Off unless the operator asks for it.
    #[serde(default)]
    pub force_subscribe: bool,
    /// Bulk only: keep the CSV files on the SFTP server after Cordial imported them.
    #[serde(default)]
    pub keep_files: bool,
    /// Bulk only: the name of the SFTP key saved in Cordial, for servers without a password.
    pub sftp_saved_key: Option<String>,
    /// Bulk only: how long a run waits for Cordial to finish its imports before it stops and
    /// leaves the rest to the next run.
    #[serde(default = "default_import_deadline")]
    pub import_deadline_minutes: u64,
}

fn default_import_deadline() -> u64 {
    30
}

/// Which submissions a capture job accepts by region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegionScope {
    Eu,
    NonEu,
    #[default]
    Both,
}

/// Which users a capture job sends, by opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OptInMode {
    /// (a) only users who opted in.
    #[default]
    OptedIn,
    /// (b) users who opted in or whose opt-in is unknown.
    OptedInOrUnknown,
    /// (c) everyone, with the opt-in status as a data value.
    All,
}

/// Settings of an Experience Capture job.
#[derive(Debug, Clone, Deserialize)]
pub struct CaptureSettings {
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub field_mapping: BTreeMap<String, String>,
    pub list: Option<String>,
    #[serde(default)]
    pub region: RegionScope,
    /// Treat a submission with no known region as `eu` (the safe default), `non_eu`, or skip it.
    pub unknown_region: Option<String>,
    #[serde(default)]
    pub auto_subscribe: bool,
    #[serde(default)]
    pub opt_in_mode: OptInMode,
    pub opt_in_attribute: Option<String>,
    #[serde(default)]
    pub strict: bool,
}

#[cfg(test)]
mod tests {
    use super::super::validate;
    use super::*;
    use serde_json::json;

    #[test]
    fn export_settings_get_their_defaults() {
        let s: ExportSettings = serde_json::from_value(json!({"audience": "vip"})).unwrap();
        assert_eq!(s.email_field, "email");
        assert_eq!(s.frequency, "daily");
        assert!(!s.force_subscribe);
        assert!(validate(JobKind::ExportBulk, &json!({"audience": "vip"})).is_empty());
    }

    #[test]
    fn bad_list_and_attribute_names_are_reported_with_their_setting() {
        let problems = validate(
            JobKind::ExportRealtime,
            &json!({"audience": "vip", "list": "my list", "field_mapping": {"fname": "first name"}}),
        );
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["list", "field_mapping.fname"]);
    }

    #[test]
    fn capture_mode_all_needs_the_status_attribute() {
        let problems = validate(JobKind::ExperienceCapture, &json!({"opt_in_mode": "all"}));
        assert_eq!(problems[0].field, "opt_in_attribute");
        let ok = validate(
            JobKind::ExperienceCapture,
            &json!({"opt_in_mode": "all", "opt_in_attribute": "opt_in"}),
        );
        assert!(ok.is_empty());
    }

    #[test]
    fn import_activity_rejects_an_impossible_since_date() {
        let problems = validate(
            JobKind::ImportActivity,
            &json!({"import_since": "2026-02-30"}),
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("yyyy-mm-dd"));
    }
}
