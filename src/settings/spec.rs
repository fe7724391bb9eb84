//! A small declarative checker: each job kind lists its settings and their shapes, and one
//! function reports every unknown, missing or mistyped setting at once.

use super::ConfigProblem;
use super::calendar::parse_iso_date;
use super::frequency::Frequency;
use serde_json::Value;

/// What a setting's value must look like.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Text,
    Bool,
    /// A whole number in the given inclusive range.
    Count(u64, u64),
    /// `yyyy-mm-dd`.
    Date,
    Frequency,
    /// A table of text to text (`[job.field_mapping]`).
    TextMap,
    TextList,
    OneOf(&'static [&'static str]),
}

impl Shape {
    /// Whether the setting's value is text (everything else is a number, a bool, a table
    /// or a list).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Shape::Text | Shape::Date | Shape::Frequency | Shape::OneOf(_)
        )
    }
}

/// Whether a setting must be written, and what it is when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    /// Absent means "none" (the setting's type is an `Option`).
    Optional,
    /// Absent means this value, written as JSON.
    Default(&'static str),
}

/// One accepted setting: its name, shape, presence and description, declared with its typed
/// field by [`job_settings!`](crate::job_settings).
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub name: &'static str,
    pub shape: Shape,
    pub presence: Presence,
    /// What it does, from the field's doc comment.
    pub doc: &'static str,
    /// The kinds of job that accept it.
    pub kinds: &'static [super::JobKind],
}

impl SettingSpec {
    pub fn required(&self) -> bool {
        self.presence == Presence::Required
    }

    /// The default value, when the setting has one.
    pub fn default_value(&self) -> Option<Value> {
        match self.presence {
            Presence::Default(json) => {
                Some(serde_json::from_str(json).expect("declared defaults are JSON"))
            }
            _ => None,
        }
    }
}

/// Declares the typed settings of one or more kinds of job, and their spec, from one list:
/// each field's type, shape, presence (`required`, `optional` or `default(<json>)`), doc
/// comment and, where not every kind of the struct takes it, the kinds that do. The struct
/// gets `SPEC`; its defaults live only here and are filled in by
/// [`typed`](crate::settings::typed) before the value is read.
#[macro_export]
macro_rules! job_settings {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident for $kinds:tt {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty => $shape:expr, $presence:ident $(($default:tt))? $(, only [$($only:ident),+])? ;
            )*
        }
    ) => {
        $(#[$smeta])*
        #[derive(Debug, Clone, serde::Deserialize)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $name {
            /// Every setting of the struct, with the kinds that take it.
            pub const SPEC: &'static [$crate::settings::SettingSpec] = &[
                $(
                    $crate::settings::SettingSpec {
                        name: stringify!($field),
                        shape: $shape,
                        presence: $crate::job_settings!(@presence $presence $($default)?),
                        doc: concat!($($doc),*),
                        kinds: $crate::job_settings!(@kinds $kinds $([$($only),+])?),
                    },
                )*
            ];
        }
    };
    (@presence required) => { $crate::settings::Presence::Required };
    (@presence optional) => { $crate::settings::Presence::Optional };
    (@presence default $default:tt) => { $crate::settings::Presence::Default(stringify!($default)) };
    (@kinds [$($kind:ident),+]) => { &[$($crate::settings::JobKind::$kind),+] };
    (@kinds [$($kind:ident),+] [$($only:ident),+]) => { &[$($crate::settings::JobKind::$only),+] };
}

/// Every problem with `settings` against `spec`.
pub(super) fn check(spec: &[&SettingSpec], settings: &Value) -> Vec<ConfigProblem> {
    let Some(map) = settings.as_object() else {
        return vec![ConfigProblem::new(
            "(job)",
            "the job's settings must be a table of key = value",
        )];
    };
    let mut problems = Vec::new();
    for key in map.keys() {
        if !spec.iter().any(|s| s.name == key) {
            let known: Vec<&str> = spec.iter().map(|s| s.name).collect();
            let hint = closest(key, &known)
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            problems.push(ConfigProblem::new(
                key.as_str(),
                format!(
                    "unknown setting; {hint}this job accepts: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    for s in spec {
        match map.get(s.name) {
            None | Some(Value::Null) if s.required() => problems.push(ConfigProblem::new(
                s.name,
                format!("required; add `{} = ...` to the job", s.name),
            )),
            None | Some(Value::Null) => {}
            Some(value) => problems.extend(check_shape(s.name, s.shape, value)),
        }
    }
    problems
}

fn check_shape(name: &str, shape: Shape, value: &Value) -> Option<ConfigProblem> {
    let problem = |msg: String| Some(ConfigProblem::new(name, msg));
    match shape {
        Shape::Text => match value.as_str() {
            Some(s) if s.trim().is_empty() => problem("must not be empty".into()),
            Some(_) => None,
            None => problem(format!("must be text in quotes, not {value}")),
        },
        Shape::Bool => (!value.is_boolean())
            .then(|| ConfigProblem::new(name, format!("must be true or false, not {value}"))),
        Shape::Count(lo, hi) => match value.as_u64() {
            Some(n) if (lo..=hi).contains(&n) => None,
            _ => problem(format!(
                "must be a whole number from {lo} to {hi}, not {value}"
            )),
        },
        Shape::Date => match value.as_str() {
            Some(s) if parse_iso_date(s).is_some() => None,
            _ => problem(format!(
                "must be a date written yyyy-mm-dd (e.g. \"2026-11-01\"), not {value}"
            )),
        },
        Shape::Frequency => match value.as_str().map(Frequency::parse) {
            Some(Ok(_)) => None,
            Some(Err(e)) => problem(e),
            None => problem(format!("must be text such as \"daily\", not {value}")),
        },
        Shape::TextMap => match value.as_object() {
            None => problem("must be a table of `source = \"target\"` pairs".into()),
            Some(map) => map.iter().find_map(|(k, v)| match v.as_str() {
                Some(t) if !t.trim().is_empty() && !k.trim().is_empty() => None,
                _ => Some(ConfigProblem::new(
                    format!("{name}.{k}"),
                    format!("must map to a non-empty name in quotes, not {v}"),
                )),
            }),
        },
        Shape::TextList => match value.as_array() {
            Some(items)
                if items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| !s.is_empty())) =>
            {
                None
            }
            _ => problem(format!(
                "must be a list of names in quotes, e.g. [\"a\", \"b\"], not {value}"
            )),
        },
        Shape::OneOf(choices) => match value.as_str() {
            Some(s) if choices.contains(&s) => None,
            _ => problem(format!(
                "must be one of {}, not {value}",
                choices
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
    }
}

/// The known name nearest to `key`, if it is a likely typo (edit distance ≤ 2).
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::job_settings! {
        /// A small kind for the tests (only its spec is used).
        #[allow(dead_code)]
        pub struct Sample for [ExportRealtime] {
            /// The audience.
            audience: String => Shape::Text, required;
            existing_users: bool => Shape::Bool, default(false);
            import_since: Option<String> => Shape::Date, optional;
            field_mapping: std::collections::BTreeMap<String, String> => Shape::TextMap, default({});
        }
    }

    fn spec() -> Vec<&'static SettingSpec> {
        Sample::SPEC.iter().collect()
    }

    #[test]
    fn the_spec_comes_from_the_declaration() {
        let s = spec();
        assert_eq!(
            s.iter().map(|s| s.name).collect::<Vec<_>>(),
            [
                "audience",
                "existing_users",
                "import_since",
                "field_mapping"
            ]
        );
        assert!(s[0].required());
        assert_eq!(s[0].doc.trim(), "The audience.");
        assert_eq!(s[1].default_value(), Some(serde_json::json!(false)));
        assert_eq!(s[2].presence, Presence::Optional);
        assert_eq!(s[3].default_value(), Some(serde_json::json!({})));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = check(
            &spec(),
            &json!({"existing_users": "yes", "import_sinse": "2026-01-01", "field_mapping": {"a": 3}}),
        );
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "import_sinse",
                "audience",
                "existing_users",
                "field_mapping.a"
            ]
        );
        assert!(problems[0].message.contains("did you mean `import_since`?"));
    }

    #[test]
    fn good_settings_have_no_problems() {
        assert!(
            check(
                &spec(),
                &json!({"audience": "vip", "import_since": "2026-02-28"})
            )
            .is_empty()
        );
    }
}
