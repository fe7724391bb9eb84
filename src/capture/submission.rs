//! One experience submission, read from the JSON object the experience sends, and every way
//! it can be refused.
//!
//! The shape (every field optional except that one identifier is needed):
//!
//! ```json
//! {
//!   "email": "jane@example.com",
//!   "sms": "+1 555 123-4567",
//!   "opt_in": true,
//!   "country": "FR",
//!   "eu": true,
//!   "timestamp": "2026-11-22T10:00:00Z",
//!   "experience_id": "quiz-42",
//!   "answers": {"first_name": "Jane", "shoe_size": "38"}
//! }
//! ```

use super::region::{Region, region_of};
use crate::realtime::looks_like_email;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// The top-level fields a submission may carry.
pub const SUBMISSION_FIELDS: &[&str] = &[
    "email",
    "sms",
    "opt_in",
    "country",
    "eu",
    "timestamp",
    "experience_id",
    "answers",
];

/// A submission that passed every check.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Submission {
    /// Trimmed and lower-cased.
    pub email: Option<String>,
    /// E.164: `+` and 8 to 15 digits, spaces, dashes, dots and brackets removed.
    pub sms: Option<String>,
    /// `None` when the experience does not know (the field is absent or `null`).
    pub opt_in: Option<bool>,
    /// Upper-cased ISO 3166-1 alpha-2 code.
    pub country: Option<String>,
    /// The explicit EU flag; wins over `country`.
    pub eu: Option<bool>,
    /// RFC 3339, normalised to UTC (`2026-11-22T10:00:00Z`).
    pub timestamp: Option<String>,
    pub experience_id: Option<String>,
    /// Experience attribute → value, `null` values dropped.
    pub answers: Map<String, Value>,
    /// Top-level fields outside the documented shape, ignored (only when not `strict`).
    pub ignored: Vec<String>,
}

impl Submission {
    /// Where the submission comes from, before the job's `unknown_region` rule.
    pub fn region(&self) -> Region {
        region_of(self.eu, self.country.as_deref())
    }
}

/// Why a submission is refused: the field at fault (`answers.age`, `sms`, `(submission)`)
/// and what to send instead. The host answers 400 with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSubmission {
    pub field: String,
    pub message: String,
}

impl BadSubmission {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        BadSubmission {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for BadSubmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for BadSubmission {}

/// Reads a submission sent as JSON text (the form the host and the component receive).
pub fn parse_submission_text(
    body: &str,
    strict: bool,
    known_fields: &[&str],
) -> Result<Submission, BadSubmission> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        BadSubmission::new(
            "(submission)",
            format!("not valid JSON ({e}); send one JSON object"),
        )
    })?;
    parse_submission(&value, strict, known_fields)
}

/// Reads and checks one submission. `known_fields` are the experience attributes the job
/// maps (the keys of `field_mapping`); with `strict`, any other answer or any top-level
/// field outside [`SUBMISSION_FIELDS`] refuses the submission, and without it they are
/// ignored.
pub fn parse_submission(
    value: &Value,
    strict: bool,
    known_fields: &[&str],
) -> Result<Submission, BadSubmission> {
    let Some(object) = value.as_object() else {
        return Err(BadSubmission::new(
            "(submission)",
            format!(
                "must be a JSON object such as {{\"email\": \"jane@example.com\", \"opt_in\": true}}, not {}",
                kind_of(value)
            ),
        ));
    };
    let mut submission = Submission::default();
    for key in object.keys() {
        if !SUBMISSION_FIELDS.contains(&key.as_str()) {
            if strict {
                return Err(BadSubmission::new(
                    key.as_str(),
                    format!(
                        "unknown field (the job is strict); a submission has: {}; put experience attributes under `answers`",
                        SUBMISSION_FIELDS.join(", ")
                    ),
                ));
            }
            submission.ignored.push(key.clone());
        }
    }
    let present = |name: &str| object.get(name).filter(|v| !v.is_null());

    submission.email = match present("email") {
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            let email = s.trim();
            if !looks_like_email(email) {
                return Err(BadSubmission::new(
                    "email",
                    format!("`{email}` is not an email address (expected name@domain.tld)"),
                ));
            }
            Some(email.to_lowercase())
        }
        Some(other) => {
            return Err(BadSubmission::new(
                "email",
                format!("must be text, not {}", kind_of(other)),
            ));
        }
    };
    submission.sms = match present("sms") {
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(normalise_phone(s)?),
        Some(other) => {
            return Err(BadSubmission::new(
                "sms",
                format!(
                    "must be text in international form such as \"+15551234567\", not {}",
                    kind_of(other)
                ),
            ));
        }
    };
    if submission.email.is_none() && submission.sms.is_none() {
        return Err(BadSubmission::new(
            "(submission)",
            "no identifier: send `email`, `sms` (a phone number such as \"+15551234567\") or both",
        ));
    }
    submission.opt_in = present("opt_in").map(|v| flag("opt_in", v)).transpose()?;
    submission.eu = present("eu").map(|v| flag("eu", v)).transpose()?;
    submission.country = present("country").map(country).transpose()?;
    submission.timestamp = present("timestamp").map(timestamp).transpose()?;
    submission.experience_id = match present("experience_id") {
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(BadSubmission::new(
                "experience_id",
                format!("must be non-empty text, not {other}"),
            ));
        }
    };
    match present("answers") {
        None => {}
        Some(Value::Object(answers)) => {
            for (key, value) in answers {
                if strict && !known_fields.contains(&key.as_str()) {
                    let known = if known_fields.is_empty() {
                        "none; add it to the job's field_mapping".to_owned()
                    } else {
                        known_fields.join(", ")
                    };
                    return Err(BadSubmission::new(
                        format!("answers.{key}"),
                        format!(
                            "unknown attribute (the job is strict and does not map it); mapped attributes: {known}"
                        ),
                    ));
                }
                if !value.is_null() {
                    submission.answers.insert(key.clone(), value.clone());
                }
            }
        }
        Some(other) => {
            return Err(BadSubmission::new(
                "answers",
                format!(
                    "must be an object of attribute → value such as {{\"first_name\": \"Jane\"}}, not {}",
                    kind_of(other)
                ),
            ));
        }
    }
    Ok(submission)
}

/// `+` then 8 to 15 digits, the first not `0`, once spaces, dashes, dots and brackets are
/// removed.
pub fn normalise_phone(text: &str) -> Result<String, BadSubmission> {
    let bad = |why: &str| {
        BadSubmission::new(
            "sms",
            format!(
                "`{}` {why}; write it in international form with `+` and the country code, e.g. \"+15551234567\"",
                text.trim()
            ),
        )
    };
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let Some(digits) = compact.strip_prefix('+') else {
        return Err(bad("does not start with `+`"));
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("has characters other than digits"));
    }
    if !(8..=15).contains(&digits.len()) {
        return Err(bad("must have 8 to 15 digits after `+`"));
    }
    if digits.starts_with('0') {
        return Err(bad(
            "cannot have 0 right after `+` (no country code starts with 0)",
        ));
    }
    Ok(compact)
}

/// `true`/`false`, the words `yes`/`no`, `y`/`n`, `on`/`off`, `true`/`false` (any case),
/// and `1`/`0` as numbers or text.
fn flag(field: &str, value: &Value) -> Result<bool, BadSubmission> {
    let parsed = match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        BadSubmission::new(
            field,
            format!(
                "must be true or false (also \"yes\"/\"no\" or 1/0), not {value}; leave it out when unknown"
            ),
        )
    })
}

fn country(value: &Value) -> Result<String, BadSubmission> {
    match value.as_str().map(str::trim) {
        Some(code) if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) => {
            Ok(code.to_ascii_uppercase())
        }
        _ => Err(BadSubmission::new(
            "country",
            format!("must be a two-letter ISO 3166-1 code such as \"FR\" or \"US\", not {value}"),
        )),
    }
}

fn timestamp(value: &Value) -> Result<String, BadSubmission> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|t| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::AutoSi, true)
        })
        .ok_or_else(|| {
            BadSubmission::new(
                "timestamp",
                format!("must be an RFC 3339 time such as \"2026-11-22T10:00:00Z\", not {value}"),
            )
        })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KNOWN: &[&str] = &["first_name", "age"];

    fn parse(value: Value) -> Result<Submission, BadSubmission> {
        parse_submission(&value, false, KNOWN)
    }

    fn strict(value: Value) -> Result<Submission, BadSubmission> {
        parse_submission(&value, true, KNOWN)
    }

    fn refused(result: Result<Submission, BadSubmission>) -> BadSubmission {
        result.expect_err("the submission should be refused")
    }

    #[test]
    fn a_full_submission_is_read_and_normalised() {
        let s = parse(json!({
            "email": "  Jane@Example.COM ",
            "sms": "+1 (555) 123-4567",
            "opt_in": "yes",
            "country": "fr",
            "eu": 0,
            "timestamp": "2026-11-22T11:00:00+01:00",
            "experience_id": "quiz-42",
            "answers": {"first_name": "Jane", "age": null}
        }))
        .unwrap();
        assert_eq!(s.email.as_deref(), Some("jane@example.com"));
        assert_eq!(s.sms.as_deref(), Some("+15551234567"));
        assert_eq!(s.opt_in, Some(true));
        assert_eq!(s.country.as_deref(), Some("FR"));
        assert_eq!(s.eu, Some(false));
        assert_eq!(s.region(), Region::NonEu, "the flag wins over the country");
        assert_eq!(s.timestamp.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(s.experience_id.as_deref(), Some("quiz-42"));
        assert_eq!(
            s.answers,
            json!({"first_name": "Jane"}).as_object().cloned().unwrap()
        );
        assert!(s.ignored.is_empty());
    }

    #[test]
    fn opt_in_accepts_the_usual_spellings_and_absent_means_unknown() {
        for (v, want) in [
            (json!(true), Some(true)),
            (json!(false), Some(false)),
            (json!("true"), Some(true)),
            (json!("False"), Some(false)),
            (json!("yes"), Some(true)),
            (json!("NO"), Some(false)),
            (json!(1), Some(true)),
            (json!(0), Some(false)),
            (json!("1"), Some(true)),
            (json!("0"), Some(false)),
            (json!(null), None),
        ] {
            let s = parse(json!({"email": "a@b.co", "opt_in": v})).unwrap();
            assert_eq!(s.opt_in, want, "{v}");
        }
        assert_eq!(parse(json!({"email": "a@b.co"})).unwrap().opt_in, None);
    }

    #[test]
    fn one_identifier_is_enough() {
        let email_only = parse(json!({"email": "a@b.co"})).unwrap();
        assert_eq!(email_only.sms, None);
        let sms_only = parse(json!({"sms": "+44 7700-900123", "email": ""})).unwrap();
        assert_eq!(sms_only.email, None);
        assert_eq!(sms_only.sms.as_deref(), Some("+447700900123"));
    }

    #[test]
    fn no_identifier_is_refused() {
        for body in [
            json!({}),
            json!({"opt_in": true}),
            json!({"email": "", "sms": " "}),
            json!({"email": null}),
        ] {
            let bad = refused(parse(body));
            assert_eq!(bad.field, "(submission)");
            assert!(bad.message.contains("no identifier"), "{}", bad.message);
        }
    }

    #[test]
    fn an_invalid_email_is_refused() {
        for email in [
            "jane",
            "jane@example",
            "jane @example.com",
            "@example.com",
            "a@b@c.co",
        ] {
            let bad = refused(parse(json!({"email": email, "sms": "+15551234567"})));
            assert_eq!(bad.field, "email");
            assert!(
                bad.message.contains("not an email address"),
                "{}",
                bad.message
            );
        }
        let bad = refused(parse(json!({"email": 42})));
        assert_eq!(
            bad,
            BadSubmission::new("email", "must be text, not a number")
        );
    }

    #[test]
    fn an_invalid_phone_is_refused_with_the_reason() {
        for (sms, why) in [
            ("5551234567", "does not start with `+`"),
            ("+1555CALLNOW", "other than digits"),
            ("+1234567", "8 to 15 digits"),
            ("+1234567890123456", "8 to 15 digits"),
            ("+0155512345", "0 right after"),
        ] {
            let bad = refused(parse(json!({"sms": sms})));
            assert_eq!(bad.field, "sms");
            assert!(bad.message.contains(why), "{sms}: {}", bad.message);
            assert!(bad.message.contains("+15551234567"), "says what to write");
        }
        assert_eq!(refused(parse(json!({"sms": 15551234567u64}))).field, "sms");
    }

    #[test]
    fn bad_flags_countries_times_and_answers_are_refused() {
        let cases = [
            (
                json!({"email": "a@b.co", "opt_in": "maybe"}),
                "opt_in",
                "true or false",
            ),
            (
                json!({"email": "a@b.co", "opt_in": ""}),
                "opt_in",
                "leave it out",
            ),
            (
                json!({"email": "a@b.co", "opt_in": 2}),
                "opt_in",
                "true or false",
            ),
            (
                json!({"email": "a@b.co", "eu": "EU"}),
                "eu",
                "true or false",
            ),
            (
                json!({"email": "a@b.co", "country": "France"}),
                "country",
                "two-letter",
            ),
            (
                json!({"email": "a@b.co", "country": "F1"}),
                "country",
                "two-letter",
            ),
            (
                json!({"email": "a@b.co", "timestamp": "yesterday"}),
                "timestamp",
                "RFC 3339",
            ),
            (
                json!({"email": "a@b.co", "timestamp": 1764000000}),
                "timestamp",
                "RFC 3339",
            ),
            (
                json!({"email": "a@b.co", "experience_id": ""}),
                "experience_id",
                "non-empty",
            ),
            (
                json!({"email": "a@b.co", "answers": ["Jane"]}),
                "answers",
                "an object",
            ),
        ];
        for (body, field, says) in cases {
            let bad = refused(parse(body.clone()));
            assert_eq!(bad.field, field, "{body}");
            assert!(bad.message.contains(says), "{body}: {}", bad.message);
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        let bad = refused(parse(json!(["a@b.co"])));
        assert_eq!(bad.field, "(submission)");
        assert!(bad.message.contains("not a list"));
        let bad = parse_submission_text("{\"email\": ", false, KNOWN).unwrap_err();
        assert_eq!(bad.field, "(submission)");
        assert!(bad.message.contains("not valid JSON"));
    }

    #[test]
    fn unknown_fields_are_ignored_unless_strict() {
        let body =
            json!({"email": "a@b.co", "utm": "x", "answers": {"first_name": "A", "colour": "red"}});
        let loose = parse(body.clone()).unwrap();
        assert_eq!(loose.ignored, ["utm"]);
        assert!(
            loose.answers.contains_key("colour"),
            "kept, the mapping decides what is sent"
        );

        let bad = refused(strict(body));
        assert_eq!(bad.field, "utm");
        assert!(bad.message.contains("unknown field"));
        assert!(bad.message.contains("under `answers`"));

        let bad = refused(strict(
            json!({"email": "a@b.co", "answers": {"first_name": "A", "colour": "red"}}),
        ));
        assert_eq!(bad.field, "answers.colour");
        assert!(bad.message.contains("first_name, age"), "{}", bad.message);

        let bad = parse_submission(&json!({"email": "a@b.co", "answers": {"x": 1}}), true, &[])
            .unwrap_err();
        assert!(bad.message.contains("add it to the job's field_mapping"));

        assert!(strict(json!({"email": "a@b.co", "answers": {"age": 4}})).is_ok());
    }
}
