//! `cordial-host describe <component>`: a job component's manifest, as a table or JSON.

use crate::artifact::{self, ComponentSource, cache::Cache};
use cordial_jobs::manifest::Manifest;
use std::process::ExitCode;

pub async fn run(component: &str, json: bool) -> anyhow::Result<ExitCode> {
    let source = ComponentSource::parse(component);
    let cache = Cache::new(std::env::temp_dir().join("cordial-host-describe"));
    let path = source.fetch(&cache).await?;
    let bytes = std::fs::read(&path)?;
    let (manifest, embedded) = artifact::describe(&bytes)
        .map_err(|e| anyhow::anyhow!("{source} is not a job component this host knows: {e:#}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
    } else {
        print!("{}", table(&manifest, embedded));
    }
    Ok(ExitCode::SUCCESS)
}

/// The manifest for people: facts, interfaces, settings, credentials.
fn table(m: &Manifest, embedded: bool) -> String {
    let mut out = format!(
        "{}  version {}\n  world        {}\n  manifest     {}\n",
        m.kind,
        m.version,
        m.world,
        if embedded {
            "embedded"
        } else {
            "derived from the component (not packaged: `cordial-host package` embeds it)"
        }
    );
    for (title, names) in [("imports", &m.imports), ("exports", &m.exports)] {
        out += &format!("  {title:<12} {}\n", names.join("\n               "));
    }
    out += "\nsettings (wasi:config/store keys):\n";
    let required: Vec<&str> = m.settings["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    let properties = m.settings["properties"].as_object();
    for (name, p) in properties.into_iter().flatten() {
        let ty = p["enum"]
            .as_array()
            .map(|choices| {
                let names: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
                names.join("|")
            })
            .unwrap_or_else(|| p["type"].as_str().unwrap_or("?").to_owned());
        let default = if required.contains(&name.as_str()) {
            "required".to_owned()
        } else {
            p.get("default")
                .map_or("optional".to_owned(), |d| format!("default {d}"))
        };
        out += &format!(
            "  {name:<26} {ty:<10} {default:<24} {}\n",
            p["description"].as_str().unwrap_or("")
        );
    }
    out += "\ncredentials (held by the runtime, never given to the job):\n";
    for c in &m.credentials {
        out += &format!("  {:<26} {}\n", c.name, c.how);
    }
    out
}
