//! Loading job components: compiled once, linked once (`InstancePre`), then instantiated
//! cheaply for every call.

use super::bindings::{experience_capture, export_bulk, export_realtime, import_activity};
use super::run_state::RunState;
use cordial_jobs::settings::JobKind;
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime::error::Context;

/// A linked component of one of the four worlds.
pub enum JobPre {
    ImportActivity(import_activity::ImportActivityPre<RunState>),
    ExportBulk(export_bulk::ExportBulkPre<RunState>),
    ExportRealtime(export_realtime::ExportRealtimePre<RunState>),
    ExperienceCapture(experience_capture::ExperienceCapturePre<RunState>),
}

/// The file name the build gives a kind's component.
pub fn component_file_name(kind: JobKind) -> String {
    format!("{}.wasm", kind.as_str().replace('-', "_"))
}

/// Compiles and links the component at `path` as a job of `kind`.
pub fn load(
    engine: &Engine,
    linker: &Linker<RunState>,
    kind: JobKind,
    path: &Path,
) -> wasmtime::Result<JobPre> {
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
    let mismatch = || {
        format!(
            "component {} does not export the `{}` job's functions; is it the right file for kind = \"{}\"?",
            path.display(),
            kind.as_str(),
            kind.as_str()
        )
    };
    Ok(match kind {
        JobKind::ImportActivity => JobPre::ImportActivity(
            import_activity::ImportActivityPre::new(pre).with_context(mismatch)?,
        ),
        JobKind::ExportBulk => {
            JobPre::ExportBulk(export_bulk::ExportBulkPre::new(pre).with_context(mismatch)?)
        }
        JobKind::ExportRealtime => JobPre::ExportRealtime(
            export_realtime::ExportRealtimePre::new(pre).with_context(mismatch)?,
        ),
        JobKind::ExperienceCapture => JobPre::ExperienceCapture(
            experience_capture::ExperienceCapturePre::new(pre).with_context(mismatch)?,
        ),
    })
}
