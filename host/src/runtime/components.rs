//! Loading job components: compiled once, linked once (`InstancePre`) into their kind's
//! driver, then instantiated cheaply for every call.

use super::run_state::RunState;
use crate::jobs::Driver;
use cordial_jobs::settings::JobKind;
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime::error::Context;

/// Compiles and links the component at `path` as a job of `kind`.
pub fn load(
    engine: &Engine,
    linker: &Linker<RunState>,
    kind: JobKind,
    path: &Path,
) -> wasmtime::Result<Driver> {
    if !path.exists() {
        wasmtime::bail!(
            "component {} not found; build the components with `./dev build` (or set [host] components_dir)",
            path.display()
        );
    }
    let component = Component::from_file(engine, path)
        .with_context(|| format!("compiling component {}", path.display()))?;
    let pre = linker.instantiate_pre(&component).with_context(|| {
        format!(
            "component {} imports something this host does not provide",
            path.display()
        )
    })?;
    Driver::new(kind, pre).with_context(|| {
        format!(
            "component {} does not export the `{}` job's functions; is it the right file for kind = \"{}\"?",
            path.display(),
            kind.as_str(),
            kind.as_str()
        )
    })
}
