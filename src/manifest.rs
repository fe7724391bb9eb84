//! A job component's manifest: what a platform must know before it loads one — the kind of
//! job, the WIT world and package version it implements, what it imports and exports, its
//! settings as a JSON Schema (derived from the same declaration the job checks its
//! settings with, so the two cannot drift), and the credentials the runtime must supply.
//!
//! The manifest travels inside the component as a custom section ([`SECTION`]) and beside
//! it as a file; `cordial-host describe` prints it.

use crate::settings::{JobKind, Presence, REQUIRED_WHEN, SettingSpec, Shape};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The WIT package every job implements; a runtime links only jobs of a package version it
/// supports (the same major version, and a minor no newer than its own).
pub const WIT_PACKAGE: &str = "cordial:jobs";
/// The package's version.
pub const WIT_VERSION: &str = "0.2.0";
/// The name of the component custom section that holds the manifest (JSON).
pub const SECTION: &str = "cordial:manifest";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `import-activity`, `export-bulk`, `export-realtime` or `experience-capture`.
    pub kind: String,
    /// What it imports beyond WASI's core, exactly (standard and project interfaces).
    pub imports: Vec<String>,
    /// The world it implements: `cordial:jobs/<kind>@<version>`.
    pub world: String,
    /// What it exports.
    pub exports: Vec<String>,
    /// The version of the WIT package `cordial:jobs`.
    pub wit_version: String,
    /// Its settings (`wasi:config/store` keys) as a JSON Schema.
    pub settings: Value,
    /// The job's own version (the project's release).
    pub version: String,
    /// What the runtime supplies that never reaches the job: all secret.
    pub credentials: Vec<Credential>,
}

/// A secret the runtime holds for the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub name: String,
    pub secret: bool,
    /// How the job gets its effect without the value.
    pub how: String,
}

/// The manifest of a `kind` job whose component imports and exports what is given.
pub fn manifest(
    kind: JobKind,
    version: &str,
    imports: Vec<String>,
    exports: Vec<String>,
) -> Manifest {
    Manifest {
        kind: kind.as_str().to_owned(),
        imports,
        world: format!("{WIT_PACKAGE}/{}@{WIT_VERSION}", kind.as_str()),
        exports,
        wit_version: WIT_VERSION.to_owned(),
        settings: settings_schema(kind),
        version: version.to_owned(),
        credentials: credentials(kind),
    }
}

/// The settings a job of `kind` accepts, as a JSON Schema (draft 2020-12): one property per
/// setting with its type, its description and its default; the required ones listed (and
/// those required only while another setting has a value, as `if`/`then`); any other key
/// refused.
pub fn settings_schema(kind: JobKind) -> Value {
    let spec = kind.settings_spec();
    let properties: Map<String, Value> = spec
        .iter()
        .map(|s| (s.name.to_owned(), property(s)))
        .collect();
    let required: Vec<&str> = spec
        .iter()
        .filter(|s| s.required())
        .map(|s| s.name)
        .collect();
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("{} settings", kind.as_str()),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let conditions: Vec<Value> = REQUIRED_WHEN
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| {
            json!({
                "if": {"properties": {r.when: {"const": r.is}}, "required": [r.when]},
                "then": {"required": [r.setting]},
            })
        })
        .collect();
    if !conditions.is_empty() {
        schema["allOf"] = Value::Array(conditions);
    }
    schema
}

fn property(spec: &SettingSpec) -> Value {
    let mut p = match spec.shape {
        Shape::Text | Shape::Frequency => json!({"type": "string", "minLength": 1}),
        Shape::Bool => json!({"type": "boolean"}),
        Shape::Count(lo, hi) => json!({"type": "integer", "minimum": lo, "maximum": hi}),
        Shape::Date => json!({"type": "string", "format": "date"}),
        Shape::TextMap => json!({
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1}
        }),
        Shape::TextList => json!({"type": "array", "items": {"type": "string", "minLength": 1}}),
        Shape::OneOf(choices) => json!({"type": "string", "enum": choices}),
    };
    p["description"] = Value::from(spec.doc.trim());
    // Secrets never reach a job through its settings (the runtime holds them: see
    // `credentials`), so none is marked secret; platforms read the mark to mask inputs.
    p["x-secret"] = Value::Bool(false);
    if let Presence::Default(_) = spec.presence {
        p["default"] = spec.default_value().expect("a declared default");
    }
    p
}

fn credentials(kind: JobKind) -> Vec<Credential> {
    let mut needed = vec![Credential {
        name: "cordial_api_key".into(),
        secret: true,
        how: "the runtime adds `Authorization: Basic base64(<key>:)` to the job's requests to its Cordial origin; the job never sees it".into(),
    }];
    if matches!(kind, JobKind::ImportActivity | JobKind::ExportBulk) {
        needed.push(Credential {
            name: "sftp_password".into(),
            secret: true,
            how: "the runtime logs in to the SFTP server itself, and fills `{{sftp.password}}` into the job's import or export request on its way to Cordial".into(),
        });
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_lists_every_setting_with_its_type_default_and_description() {
        let schema = settings_schema(JobKind::ExportRealtime);
        assert_eq!(schema["required"], json!(["audience"]));
        assert_eq!(schema["additionalProperties"], false);
        let p = &schema["properties"];
        assert_eq!(p["email_field"]["default"], "email");
        assert_eq!(p["force_subscribe"]["type"], "boolean");
        assert!(p.get("frequency").is_none(), "bulk only");
        assert!(!p["audience"]["description"].as_str().unwrap().is_empty());
        let activity = settings_schema(JobKind::ImportActivity);
        assert_eq!(
            activity["properties"]["overlap_minutes"],
            json!({"type": "integer", "minimum": 0, "maximum": 1440, "default": 60, "x-secret": false,
                   "description": "How far each window reaches back before the cursor, for late events."})
        );
    }

    #[test]
    fn credentials_are_secret_and_the_file_jobs_need_the_sftp_password() {
        let m = manifest(JobKind::ExportBulk, "0.1.0", vec![], vec![]);
        assert_eq!(m.world, "cordial:jobs/export-bulk@0.2.0");
        assert!(m.credentials.iter().all(|c| c.secret));
        assert_eq!(m.credentials.len(), 2);
        assert_eq!(
            manifest(JobKind::ExportRealtime, "0.1.0", vec![], vec![])
                .credentials
                .len(),
            1
        );
    }
}
