//! `cordial-host package` and `publish`: built job components made into distributable
//! artifacts (manifest embedded and beside them), and pushed to an OCI registry.

use crate::artifact::{self, inspect, oci};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Packages each component into `out`.
pub fn package(components: &[PathBuf], out: &Path) -> anyhow::Result<ExitCode> {
    if components.is_empty() {
        anyhow::bail!(
            "name the components to package, e.g. jobs/target/wasm32-wasip2/release/*.wasm"
        );
    }
    for component in components {
        let packaged = artifact::package(component, out)?;
        println!(
            "✓ {} → {} (+ {})",
            packaged.manifest.kind,
            packaged.wasm.display(),
            packaged.manifest_file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Pushes a packaged component to `reference` as a Wasm OCI artifact and prints the
/// reference by digest, the form to pin in a host config.
pub async fn publish(component: &Path, reference: &str) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(component)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", component.display()))?;
    let manifest = inspect::inspect(&bytes)?.manifest()?.ok_or_else(|| {
        anyhow::anyhow!(
            "{} carries no manifest; package it first: cordial-host package {} --out <folder>",
            component.display(),
            component.display()
        )
    })?;
    let digest = oci::push(&bytes, &manifest, reference).await?;
    let pinned = oci::reference(reference)?;
    let repository = format!("{}/{}", pinned.registry(), pinned.repository());
    println!("✓ {} pushed: {repository}@{digest}", manifest.kind);
    Ok(ExitCode::SUCCESS)
}
