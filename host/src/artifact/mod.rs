//! Job components as artifacts other platforms can carry: where a job's component comes
//! from (a file, or an OCI registry), the checks it passes before it is linked (package
//! version, world), its manifest (embedded as a custom section and beside it as a file),
//! and Wasm OCI packaging.

pub mod cache;
pub mod inspect;
pub mod oci;
pub mod world;

use cache::Cache;
use cordial_jobs::manifest::{self, Manifest};
use std::path::{Path, PathBuf};

/// Where a job's component comes from: the `component` setting, or the kind's file in
/// `components_dir`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ComponentSource {
    File(PathBuf),
    /// An OCI reference: `registry/namespace/name:tag` or `…@sha256:<digest>`.
    Registry(String),
}

impl ComponentSource {
    /// A path unless it reads as an OCI reference: no path prefix, no `.wasm` ending, and a
    /// first segment that names a registry (a host with a dot or a port, or `localhost`).
    pub fn parse(text: &str) -> ComponentSource {
        let path_like = text.starts_with(['/', '.', '~']) || text.ends_with(".wasm");
        let registry = text.split_once('/').is_some_and(|(first, _)| {
            first.contains('.') || first.contains(':') || first == "localhost"
        });
        if registry && !path_like {
            ComponentSource::Registry(text.to_owned())
        } else {
            ComponentSource::File(text.into())
        }
    }

    /// The component's file, pulling it into `cache` first when it lives in a registry.
    pub async fn fetch(&self, cache: &Cache) -> anyhow::Result<PathBuf> {
        match self {
            ComponentSource::File(path) if path.exists() => Ok(path.clone()),
            ComponentSource::File(path) => anyhow::bail!(
                "component {} not found; build the components with `./dev build` (or set [host] components_dir)",
                path.display()
            ),
            ComponentSource::Registry(reference) => oci::pull(reference, cache).await,
        }
    }
}

impl std::fmt::Display for ComponentSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComponentSource::File(path) => write!(f, "{}", path.display()),
            ComponentSource::Registry(reference) => f.write_str(reference),
        }
    }
}

/// The interfaces every Rust program on wasm32-wasip2 imports; a manifest lists the rest.
const WASI_CORE: [&str; 5] = [
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:io/",
];

/// The manifest of a built component, from what it imports and exports and from its kind's
/// settings declaration.
pub fn derive_manifest(component: &[u8]) -> anyhow::Result<Manifest> {
    let facts = inspect::inspect(component)?;
    let kind = match world::worlds(&facts)?.0.as_slice() {
        [kind] => *kind,
        [] => anyhow::bail!("it implements none of the job worlds"),
        many => anyhow::bail!(
            "it fits the worlds of {}; cannot tell which job it is",
            many.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    world::check(&facts, kind)?;
    let imports = facts
        .imports
        .into_iter()
        .filter(|i| !WASI_CORE.iter().any(|core| i.starts_with(core)))
        .collect();
    Ok(manifest::manifest(
        kind,
        env!("CARGO_PKG_VERSION"),
        imports,
        facts.exports,
    ))
}

/// A component's manifest: the one it carries, or, for a build not yet packaged, the one
/// derived from it (`false`).
pub fn describe(component: &[u8]) -> anyhow::Result<(Manifest, bool)> {
    match inspect::inspect(component)?.manifest()? {
        Some(manifest) => Ok((manifest, true)),
        None => Ok((derive_manifest(component)?, false)),
    }
}

/// A job packaged for distribution.
#[derive(Debug)]
pub struct Packaged {
    /// The component with its manifest section.
    pub wasm: PathBuf,
    /// The manifest beside it, as JSON.
    pub manifest_file: PathBuf,
    pub manifest: Manifest,
}

/// Packages the built component at `component` into `out`: `<kind>.wasm` with its manifest
/// embedded, and `<kind>.manifest.json`.
pub fn package(component: &Path, out: &Path) -> anyhow::Result<Packaged> {
    let bytes = std::fs::read(component)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", component.display()))?;
    let manifest = derive_manifest(&bytes)
        .map_err(|e| anyhow::anyhow!("{} cannot be packaged: {e}", component.display()))?;
    let text = serde_json::to_string_pretty(&manifest)?;
    std::fs::create_dir_all(out)?;
    let name = manifest.kind.replace('-', "_");
    let wasm = out.join(format!("{name}.wasm"));
    let manifest_file = out.join(format!("{name}.manifest.json"));
    std::fs::write(&wasm, inspect::with_manifest(&bytes, &text)?)?;
    std::fs::write(&manifest_file, text + "\n")?;
    Ok(Packaged {
        wasm,
        manifest_file,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_setting_is_a_path_unless_it_names_a_registry() {
        let registry = |s: &str| ComponentSource::Registry(s.into());
        let file = |s: &str| ComponentSource::File(s.into());
        for (text, source) in [
            (
                "127.0.0.1:5000/cordial/export-realtime:0.1.0",
                registry("127.0.0.1:5000/cordial/export-realtime:0.1.0"),
            ),
            (
                "ghcr.io/acme/realtime@sha256:ab",
                registry("ghcr.io/acme/realtime@sha256:ab"),
            ),
            ("localhost/jobs/capture", registry("localhost/jobs/capture")),
            (
                "jobs/dist/export_realtime.wasm",
                file("jobs/dist/export_realtime.wasm"),
            ),
            ("./my.registry.io/x", file("./my.registry.io/x")),
            ("build/realtime", file("build/realtime")),
            ("/opt/jobs/realtime.wasm", file("/opt/jobs/realtime.wasm")),
        ] {
            assert_eq!(ComponentSource::parse(text), source, "{text}");
        }
    }
}
