//! The jobs as artifacts a platform loads: packaged with their manifest, described, pushed
//! to a real OCI registry (Debian's `docker-registry`) and run from it by tag and by
//! digest; a tampered blob, a wrong digest, a wrong world and another WIT version refused;
//! and each manifest's settings schema checked against what the job's component accepts.

use cordial_e2e::cli::host;
use cordial_e2e::harness::{Harness, components_dir};
use cordial_e2e::realtime_job::vip;
use cordial_e2e::registry::LocalRegistry;
use cordial_emulator::{EmulatorConfig, Seed};
use cordial_host::artifact::cache::sha256;
use cordial_host::runtime::Runtime;
use cordial_jobs::job::Outcome;
use cordial_jobs::manifest::{Manifest, WIT_VERSION};
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::JobKind;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The built component of `kind`, as `./dev build` leaves it.
fn built(kind: JobKind) -> PathBuf {
    components_dir().join(format!("{}.wasm", kind.as_str().replace('-', "_")))
}

/// `cordial-host package` of `kind` into `out`: the packaged component.
async fn package(kind: JobKind, out: &Path) -> PathBuf {
    let ran = host(&[&"package", &built(kind), &"--out", &out]).await;
    assert!(ran.ok, "{ran}");
    out.join(format!("{}.wasm", kind.as_str().replace('-', "_")))
}

/// `cordial-host publish` of a packaged component to `reference`: the reference by digest.
async fn publish(component: &Path, reference: &str) -> String {
    let ran = host(&[&"publish", &component, &reference]).await;
    assert!(ran.ok, "{ran}");
    let pinned = ran
        .stdout
        .split_whitespace()
        .find(|w| w.contains("@sha256:"))
        .unwrap_or_else(|| panic!("no reference by digest in: {ran}"));
    pinned.to_owned()
}

fn enter(id: u64, email: &str) -> AudienceEvent {
    AudienceEvent {
        event_id: id,
        audience: "vip_customers".into(),
        kind: Membership::Enter,
        user: json!({ "email": email }).to_string(),
        occurred_at: None,
    }
}

/// Delivers one enter of `email` through `job`; the outcomes, or the host's refusal.
async fn deliver(runtime: &Runtime, job: &str, email: &str) -> Result<Vec<Outcome>, String> {
    let job = runtime.config().job(job).unwrap().clone();
    runtime
        .deliver(&job, &[enter(1, email)])
        .await
        .map_err(|e| format!("{e:#}"))
}

/// A second real-time job, `vip_pinned`, running `component`.
fn pinned_job(component: &str) -> String {
    format!(
        "\n[[job]]\nname = \"vip_pinned\"\nkind = \"export-realtime\"\nauth = \"cordial\"\n\
         audience = \"vip_customers\"\ncomponent = \"{component}\"\n"
    )
}

/// A job of `kind` packaged and published to a fresh registry beside a fresh emulator.
struct Published {
    registry: LocalRegistry,
    h: Harness,
    /// The packaged component (its folder lives as long as this).
    packaged: PathBuf,
    _dist: tempfile::TempDir,
    /// `<registry>/cordial/<kind>:0.1.0`
    tag: String,
    /// The same by digest, as `publish` printed it.
    pinned: String,
}

async fn published(kind: JobKind) -> Published {
    let registry = LocalRegistry::start().await;
    let h = Harness::start().await;
    let dist = tempfile::tempdir().unwrap();
    let packaged = package(kind, dist.path()).await;
    let tag = format!("{}/cordial/{}:0.1.0", registry.addr, kind.as_str());
    let pinned = publish(&packaged, &tag).await;
    Published {
        registry,
        h,
        packaged,
        _dist: dist,
        tag,
        pinned,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_pushed_to_a_registry_runs_from_it_by_tag_and_by_digest() {
    let p = published(JobKind::ExportRealtime).await;
    let (h, packaged, tag, pinned) = (&p.h, &p.packaged, &p.tag, &p.pinned);
    assert!(pinned.starts_with(&format!(
        "{}/cordial/export-realtime@sha256:",
        p.registry.addr
    )));

    let jobs = vip(&format!("component = \"{tag}\"\n")) + &pinned_job(pinned);
    let runtime = h.runtime(&jobs);
    assert_eq!(
        deliver(&runtime, "vip", "tag@example.com").await,
        Ok(vec![Outcome::Delivered])
    );
    assert_eq!(
        deliver(&runtime, "vip_pinned", "digest@example.com").await,
        Ok(vec![Outcome::Delivered])
    );
    for email in ["tag@example.com", "digest@example.com"] {
        assert_eq!(h.lists(email), ["Lytics_vip_customers"], "{email}");
    }

    // The pulled blob is cached, verified, beside the store: a new host on the same store
    // runs the job pinned by digest with the registry gone.
    let blob = std::fs::read(packaged).unwrap();
    let cached = h
        .store_path()
        .with_extension("components")
        .join("blobs/sha256")
        .join(sha256(&blob).trim_start_matches("sha256:"));
    assert_eq!(std::fs::read(&cached).unwrap(), blob);
    drop(p.registry);
    let offline = h.runtime(&pinned_job(pinned));
    assert_eq!(
        deliver(&offline, "vip_pinned", "offline@example.com").await,
        Ok(vec![Outcome::Delivered])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_blob_and_a_wrong_digest_are_refused_and_nothing_runs() {
    let p = published(JobKind::ExportRealtime).await;
    let (registry, h, packaged, tag, pinned) = (&p.registry, &p.h, &p.packaged, &p.tag, &p.pinned);

    let wrong_digest = format!(
        "{}/cordial/export-realtime@sha256:{}",
        registry.addr,
        "0".repeat(64)
    );
    let runtime = h.runtime(&pinned_job(&wrong_digest));
    let refused = deliver(&runtime, "vip_pinned", "wrong@example.com")
        .await
        .unwrap_err();
    assert!(refused.contains(&wrong_digest), "{refused}");

    // A registry that serves other bytes than it was given, as a compromised one would.
    let blob_file = registry.blob_file(&sha256(&std::fs::read(packaged).unwrap()));
    let mut bytes = std::fs::read(&blob_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&blob_file, &bytes).unwrap();
    for reference in [&tag, &pinned] {
        let runtime = h.runtime(&pinned_job(reference));
        let refused = deliver(&runtime, "vip_pinned", "tampered@example.com")
            .await
            .unwrap_err();
        assert!(refused.contains("digest"), "{reference}: {refused}");
    }
    assert!(h.find_contact("wrong@example.com").is_none());
    assert!(h.find_contact("tampered@example.com").is_none());
    let cached = h
        .store_path()
        .with_extension("components")
        .join("blobs/sha256");
    assert_eq!(
        std::fs::read_dir(&cached).map(|d| d.count()).unwrap_or(0),
        0,
        "nothing unverified is cached"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_of_another_world_or_wit_version_is_refused_naming_both() {
    let p = published(JobKind::ImportActivity).await;
    let (h, tag) = (&p.h, &p.tag);
    let runtime = h.runtime(&pinned_job(tag));
    let refused = deliver(&runtime, "vip_pinned", "world@example.com")
        .await
        .unwrap_err();
    assert!(
        refused
            .contains("implements cordial:jobs/import-activity, not cordial:jobs/export-realtime"),
        "{refused}"
    );

    // The real-time component as a build against a later package version would name its
    // interfaces: every `cordial:jobs/…@0.2.0` becomes `@0.9.0`.
    let mut bytes = std::fs::read(built(JobKind::ExportRealtime)).unwrap();
    let (from, to) = (format!("@{WIT_VERSION}"), "@0.9.0".to_owned());
    assert_eq!(from.len(), to.len());
    let mut i = 0;
    while let Some(at) = find(&bytes[i..], from.as_bytes()) {
        let at = i + at;
        let name_start = bytes[..at]
            .iter()
            .rposition(|b| !b.is_ascii_graphic())
            .unwrap_or(0);
        if bytes[name_start..at]
            .windows(13)
            .any(|w| w == b"cordial:jobs/")
        {
            bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
        }
        i = at + 1;
    }
    let later = h.dir.path().join("later.wasm");
    std::fs::write(&later, &bytes).unwrap();
    let runtime = h.runtime(&pinned_job(&later.display().to_string()));
    let refused = deliver(&runtime, "vip_pinned", "version@example.com")
        .await
        .unwrap_err();
    assert!(refused.contains("cordial:jobs@0.9.0"), "{refused}");
    assert!(
        refused.contains(&format!("cordial:jobs@{WIT_VERSION}")),
        "{refused}"
    );
    assert!(h.find_contact("world@example.com").is_none());
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_prints_each_jobs_manifest_embedded_by_package() {
    let dist = tempfile::tempdir().unwrap();
    for kind in JobKind::ALL {
        let derived = host(&[&"describe", &built(kind)]).await;
        assert!(derived.ok, "{derived}");
        assert!(
            derived.stdout.contains("derived from the component"),
            "{derived}"
        );

        let packaged = package(kind, dist.path()).await;
        let table = host(&[&"describe", &packaged]).await;
        assert!(table.ok, "{table}");
        let world = format!("cordial:jobs/{}@{WIT_VERSION}", kind.as_str());
        for expected in [kind.as_str(), &world, "embedded", "cordial_api_key"] {
            assert!(table.stdout.contains(expected), "{expected} in {table}");
        }
        let json = host(&[&"describe", &packaged, &"--json"]).await;
        let embedded: Manifest = serde_json::from_str(&json.stdout).unwrap();
        let file = packaged.with_extension("manifest.json");
        let beside: Manifest = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        assert_eq!(embedded, beside);
        assert_eq!(embedded.kind, kind.as_str());
        assert_eq!(embedded.world, world);
        assert!(
            embedded
                .imports
                .contains(&"wasi:keyvalue/store@0.2.0-draft2".to_owned())
        );
        assert!(!embedded.imports.iter().any(|i| i.starts_with("wasi:cli/")));
    }
    let stranger = dist.path().join("stranger.wasm");
    std::fs::write(&stranger, b"\0asm\x01\0\0\0").unwrap();
    let refused = host(&[&"describe", &stranger]).await;
    assert!(
        !refused.ok && refused.stderr.contains("not a component"),
        "{refused}"
    );
}

/// Values a schema entry allows, from its type: each choice, each bound, both booleans.
fn allowed_values(name: &str, property: &Value) -> Vec<Value> {
    if let Some(choices) = property["enum"].as_array() {
        return choices.clone();
    }
    match property["type"].as_str().unwrap() {
        "boolean" => vec![json!(true), json!(false)],
        "integer" => vec![property["minimum"].clone(), property["maximum"].clone()],
        "object" => vec![json!({}), json!({"first_name": "first_name"})],
        "array" => vec![json!([]), json!(["signup"])],
        "string" if property["format"] == "date" => vec![json!("2026-11-01")],
        "string" => vec![property.get("default").cloned().unwrap_or_else(|| {
            json!(match name {
                "audience" => "vip_customers",
                "sftp_saved_key" => "test-key",
                "opt_in_attribute" | "fname" => "first_name",
                _ => "newsletter",
            })
        })],
        other => panic!("{name}: a schema type the test does not know: {other}"),
    }
}

/// The schema's conditional requirements (`allOf` of `if`/`then`): for each, the setting
/// and value that trigger it, and the settings it then requires.
fn conditions(schema: &Value) -> Vec<(String, Value, Vec<String>)> {
    let all = schema["allOf"].as_array().cloned().unwrap_or_default();
    all.iter()
        .map(|c| {
            let (when, is) = c["if"]["properties"]
                .as_object()
                .unwrap()
                .iter()
                .next()
                .unwrap();
            let then = c["then"]["required"].as_array().unwrap();
            let then = then
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            (when.clone(), is["const"].clone(), then)
        })
        .collect()
}

/// `settings` completed with what the schema's conditions require of them.
fn satisfy(
    schema: &Value,
    mut settings: serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    for (when, is, then) in conditions(schema) {
        if settings.get(&when) == Some(&is) {
            for name in then {
                let value = allowed_values(&name, &schema["properties"][&name])[0].clone();
                settings.entry(name).or_insert(value);
            }
        }
    }
    settings
}

/// TOML for one job of `kind` with `settings` (a JSON object).
fn job_toml(name: &str, kind: JobKind, settings: &serde_json::Map<String, Value>) -> String {
    let mut text = format!(
        "\n[[job]]\nname = \"{name}\"\nkind = \"{}\"\nauth = \"cordial\"\n",
        kind.as_str()
    );
    let mut tables = String::new();
    for (key, value) in settings {
        match value {
            Value::Object(map) => {
                tables += &format!("[job.{key}]\n");
                for (k, v) in map {
                    tables += &format!("{k} = {v}\n");
                }
            }
            other => text += &format!("{key} = {other}\n"),
        }
    }
    text + &tables
}

#[tokio::test(flavor = "multi_thread")]
async fn each_manifests_settings_schema_is_what_its_component_accepts() {
    let h = Harness::start_with_config(EmulatorConfig {
        seed: Seed::demo(),
        saved_sftp_keys: HashMap::from([("test-key".to_owned(), PathBuf::from("/dev/null"))]),
        ..EmulatorConfig::default()
    })
    .await;
    // Accepted or refused, per job name.
    let mut expect: Vec<(String, bool)> = Vec::new();
    let mut jobs = format!(
        "\n[auth.cordial.sftp]\nhost = \"127.0.0.1\"\nport = 22\nusername = \"u\"\n\
         password_file = \"{}\"\nfolder = \"/upload\"\n",
        h.api_key_file().display()
    );
    for kind in JobKind::ALL {
        let json = host(&[&"describe", &built(kind), &"--json"]).await;
        let manifest: Manifest = serde_json::from_str(&json.stdout).unwrap();
        let schema = &manifest.settings;
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let properties = schema["properties"].as_object().unwrap();
        let minimal: serde_json::Map<String, Value> = required
            .iter()
            .map(|r| (r.to_string(), allowed_values(r, &properties[*r])[0].clone()))
            .collect();
        let mut add = |name: String, settings: serde_json::Map<String, Value>, ok: bool| {
            jobs += &job_toml(&name, kind, &settings);
            expect.push((name, ok));
        };
        let short = kind.as_str().replace('-', "_");
        add(format!("{short}_minimal"), minimal.clone(), true);
        // Every entry of the schema, at every value it allows, is accepted.
        for (name, property) in properties {
            for (i, value) in allowed_values(name, property).into_iter().enumerate() {
                let mut settings = minimal.clone();
                settings.insert(name.clone(), value);
                add(
                    format!("{short}_{name}_{i}"),
                    satisfy(schema, settings),
                    true,
                );
            }
        }
        // A setting outside the schema, or a required one missing, is refused.
        let mut unknown = minimal.clone();
        unknown.insert("not_in_the_schema".into(), json!("x"));
        add(format!("{short}_unknown"), unknown, false);
        for name in &required {
            let mut missing = minimal.clone();
            missing.remove(*name);
            add(format!("{short}_without_{name}"), missing, false);
        }
        for (when, is, then) in conditions(schema) {
            let mut unmet = minimal.clone();
            unmet.insert(when.clone(), is);
            add(
                format!("{short}_{when}_without_{}", then.join("_")),
                unmet,
                false,
            );
        }
    }
    let runtime = h.runtime(&jobs);
    for (name, ok) in expect {
        let job = runtime.config().job(&name).unwrap().clone();
        let problems = runtime.validate(&job).await.unwrap();
        assert_eq!(problems.is_empty(), ok, "{name}: {problems:?}");
    }
}
