//! Loading job components: checked (package version, world), compiled once (and cached on
//! disk for later starts), linked once
//! (`InstancePre`) into their kind's driver, then instantiated cheaply for every call.

use super::compiled;
use super::run_state::RunState;
use crate::artifact::{ComponentSource, cache::Cache, inspect, world};
use crate::jobs::Driver;
use cordial_jobs::settings::JobKind;
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime::error::Context;

/// Fetches (from a registry, into `cache`), checks, compiles and links the component at
/// `source` as a job of `kind`.
pub async fn load(
    engine: &Engine,
    linker: &Linker<RunState>,
    kind: JobKind,
    source: &ComponentSource,
    cache: &Cache,
) -> wasmtime::Result<Driver> {
    let path = source
        .fetch(cache)
        .await
        .map_err(|e| wasmtime::format_err!("{e:#}"))?;
    let bytes =
        std::fs::read(&path).with_context(|| format!("reading component {}", path.display()))?;
    inspect::inspect(&bytes)
        .and_then(|facts| world::check(&facts, kind))
        .map_err(|e| wasmtime::format_err!("component {source} cannot run as this job: {e:#}"))?;
    let component = compiled::component(engine, &bytes, &source.to_string(), cache)?;
    let pre = linker.instantiate_pre(&component).with_context(|| {
        format!("component {source} imports something this host does not provide")
    })?;
    Driver::new(kind, pre).with_context(|| {
        format!(
            "component {source} does not export the `{}` job's functions; is it the right file for kind = \"{}\"?",
            kind.as_str(),
            kind.as_str()
        )
    })
}
