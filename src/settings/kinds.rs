//! The four kinds of job, the settings each accepts, and their typed, defaulted form.

use super::ConfigProblem;
use super::spec::{SettingSpec, Shape};
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

    /// Every field of this kind's typed settings, including those only a sibling kind
    /// sharing the struct accepts (their defaults still fill the struct).
    pub fn declared_settings(self) -> &'static [SettingSpec] {
        match self {
            JobKind::ImportActivity => ImportActivitySettings::SPEC,
            JobKind::ExportRealtime | JobKind::ExportBulk => ExportSettings::SPEC,
            JobKind::ExperienceCapture => CaptureSettings::SPEC,
        }
    }

    /// How often a job of this kind runs, from its typed settings (the declared default
    /// when it names none); `None` for the kinds driven by events.
    pub fn frequency(self, settings: &Value) -> Result<Option<String>, Vec<ConfigProblem>> {
        Ok(match self {
            JobKind::ImportActivity => {
                Some(super::typed::<ImportActivitySettings>(self, settings)?.frequency)
            }
            JobKind::ExportBulk => Some(super::typed::<ExportSettings>(self, settings)?.frequency),
            JobKind::ExportRealtime | JobKind::ExperienceCapture => None,
        })
    }

    /// The settings this kind accepts, from the declaration of its typed settings.
    pub fn settings_spec(self) -> Vec<&'static SettingSpec> {
        self.declared_settings()
            .iter()
            .filter(|s| s.kinds.contains(&self))
            .collect()
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
        for rule in REQUIRED_WHEN.iter().filter(|r| r.kind == self) {
            if settings.get(rule.when).and_then(Value::as_str) == Some(rule.is)
                && settings.get(rule.setting).is_none()
            {
                problems.push(ConfigProblem::new(rule.setting, rule.why));
            }
        }
        problems
    }
}

/// A setting that is required only while another has a given value; declared here once, for
/// the checks above and for the manifest's schema (an `if`/`then`).
pub struct RequiredWhen {
    pub kind: JobKind,
    pub setting: &'static str,
    pub when: &'static str,
    pub is: &'static str,
    pub why: &'static str,
}

pub const REQUIRED_WHEN: [RequiredWhen; 1] = [RequiredWhen {
    kind: JobKind::ExperienceCapture,
    setting: "opt_in_attribute",
    when: "opt_in_mode",
    is: "all",
    why: "opt_in_mode = \"all\" sends everyone with their opt-in status as a value; name the Cordial attribute that carries it",
}];

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

crate::job_settings! {
    /// Settings of an Import Activity job.
    pub struct ImportActivitySettings for [ImportActivity] {
        /// A name for people.
        label: Option<String> => Shape::Text, optional;
        /// What the job is for.
        description: Option<String> => Shape::Text, optional;
        /// First day to import (`yyyy-mm-dd`); none means the last 7 days.
        import_since: Option<String> => Shape::Date, optional;
        /// How often the job runs: hourly, daily, weekly, "every N hours", or cron.
        frequency: String => Shape::Frequency, default("every 6 hours");
        /// Custom event names exported besides the reserved message events.
        custom_actions: Vec<String> => Shape::TextList, default([]);
        /// How far each window reaches back before the cursor, for late events.
        overlap_minutes: u64 => Shape::Count(0, 24 * 60), default(60);
        /// Export field → stream field, added to the default mapping.
        extra_mapping: BTreeMap<String, String> => Shape::TextMap, default({});
        /// Keep the export files on the SFTP server after their records are stored.
        keep_files: bool => Shape::Bool, default(false);
        /// The name of the SFTP key saved in Cordial, for servers without a password.
        sftp_saved_key: Option<String> => Shape::Text, optional;
        /// How long a run follows Cordial's export before leaving it to the next run.
        export_deadline_minutes: u64 => Shape::Count(0, 24 * 60), default(30);
        /// Ask Cordial for gzip-compressed export files (smaller transfers).
        compress: bool => Shape::Bool, default(true);
        /// Split the export into files of at most this many records; 0 = one file.
        records_per_file: u64 => Shape::Count(0, 100_000_000), default(0);
    }
}

crate::job_settings! {
    /// Settings of the audience exports, real time and bulk.
    pub struct ExportSettings for [ExportRealtime, ExportBulk] {
        /// A name for people.
        label: Option<String> => Shape::Text, optional;
        /// What the job is for.
        description: Option<String> => Shape::Text, optional;
        /// The audience's slug (or segment id).
        audience: String => Shape::Text, required;
        /// The user field that holds the email address.
        email_field: String => Shape::Text, default("email");
        /// The Cordial list; none means `Lytics_{audience}`, created on first use.
        list: Option<String> => Shape::Text, optional;
        /// Platform field → Cordial attribute key.
        field_mapping: BTreeMap<String, String> => Shape::TextMap, default({});
        /// Send the audience's current members first ("Existing Users").
        existing_users: bool => Shape::Bool, default(false);
        /// How often the bulk export runs: hourly, daily, weekly, "every N hours", or cron.
        frequency: String => Shape::Frequency, default("daily"), only [ExportBulk];
        /// Send `forceSubscribe`, resubscribing unsubscribed contacts. Off unless asked for.
        force_subscribe: bool => Shape::Bool, default(false), only [ExportRealtime];
        /// Keep the CSV files on the SFTP server after Cordial imported them.
        keep_files: bool => Shape::Bool, default(false), only [ExportBulk];
        /// The name of the SFTP key saved in Cordial, for servers without a password.
        sftp_saved_key: Option<String> => Shape::Text, optional, only [ExportBulk];
        /// How long a run follows Cordial's imports before leaving them to the next run.
        import_deadline_minutes: u64 => Shape::Count(0, 24 * 60), default(30), only [ExportBulk];
    }
}

/// Which submissions a capture job accepts by region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionScope {
    Eu,
    NonEu,
    Both,
}

/// Which users a capture job sends, by opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptInMode {
    /// (a) only users who opted in.
    OptedIn,
    /// (b) users who opted in or whose opt-in is unknown.
    OptedInOrUnknown,
    /// (c) everyone, with the opt-in status as a data value.
    All,
}

crate::job_settings! {
    /// Settings of an Experience Capture job.
    pub struct CaptureSettings for [ExperienceCapture] {
        /// A name for people.
        label: Option<String> => Shape::Text, optional;
        /// What the job is for.
        description: Option<String> => Shape::Text, optional;
        /// Submission field → Cordial attribute key.
        field_mapping: BTreeMap<String, String> => Shape::TextMap, default({});
        /// A Cordial list every sent contact joins.
        list: Option<String> => Shape::Text, optional;
        /// Which submissions are accepted by region: `eu`, `non_eu` or `both`.
        region: RegionScope => Shape::OneOf(&["eu", "non_eu", "both"]), default("both");
        /// Treat a submission with no known region as `eu` (the safe default), `non_eu`, or `skip` it.
        unknown_region: Option<String> => Shape::OneOf(&["eu", "non_eu", "skip"]), optional;
        /// Subscribe contacts who opted in.
        auto_subscribe: bool => Shape::Bool, default(false);
        /// Who is sent: `opted_in`, `opted_in_or_unknown`, or `all` (with the status as a value).
        opt_in_mode: OptInMode => Shape::OneOf(&["opted_in", "opted_in_or_unknown", "all"]), default("opted_in");
        /// The Cordial attribute that receives the opt-in status.
        opt_in_attribute: Option<String> => Shape::Text, optional;
        /// Refuse submissions with fields the job does not map.
        strict: bool => Shape::Bool, default(false);
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate;
    use super::*;
    use serde_json::json;

    #[test]
    fn export_settings_get_their_defaults() {
        let s: ExportSettings =
            super::super::typed(JobKind::ExportBulk, &json!({"audience": "vip"})).unwrap();
        assert_eq!(s.email_field, "email");
        assert_eq!(s.frequency, "daily");
        assert!(!s.force_subscribe);
        assert!(validate(JobKind::ExportBulk, &json!({"audience": "vip"})).is_empty());
    }

    #[test]
    fn every_declared_default_is_json_of_its_own_shape() {
        for kind in JobKind::ALL {
            for spec in kind.declared_settings() {
                if let Some(default) = spec.default_value() {
                    let one = serde_json::Map::from_iter([(spec.name.to_owned(), default)]);
                    let problems = super::super::spec::check(&[spec], &Value::Object(one));
                    assert!(problems.is_empty(), "{}: {problems:?}", spec.name);
                }
                assert!(
                    !spec.doc.trim().is_empty(),
                    "{} needs a doc comment",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn schedules_come_from_the_typed_settings() {
        let activity = JobKind::ImportActivity.frequency(&json!({})).unwrap();
        assert_eq!(activity.as_deref(), Some("every 6 hours"));
        let bulk = JobKind::ExportBulk
            .frequency(&json!({"audience": "vip", "frequency": "hourly"}))
            .unwrap();
        assert_eq!(bulk.as_deref(), Some("hourly"));
        assert_eq!(
            JobKind::ExportRealtime
                .frequency(&json!({"audience": "vip"}))
                .unwrap(),
            None
        );
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
