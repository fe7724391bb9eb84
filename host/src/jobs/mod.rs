//! One driver per kind of job. A driver owns its kind's generated bindings and its
//! pre-instantiated component, calls the component's exports, and turns their WIT types
//! into the job types of `cordial_jobs` that the rest of the host speaks. The kind's
//! [`Descriptor`] says what the host does with it (its trigger, whether it needs SFTP).
//!
//! Adding a kind of job touches only this folder: a driver file (its world's bindings, its
//! descriptor, its calls), and one line each in [`DESCRIPTORS`] and [`Driver`] (see the
//! README, "Adding a job").

mod convert;
mod descriptor;
mod experience_capture;
mod export_bulk;
mod export_realtime;
mod import_activity;

pub use descriptor::{Descriptor, Trigger};

/// Every kind of job the host carries.
pub const DESCRIPTORS: [Descriptor; 4] = [
    import_activity::DESCRIPTOR,
    export_bulk::DESCRIPTOR,
    export_realtime::DESCRIPTOR,
    experience_capture::DESCRIPTOR,
];

/// The descriptor of `kind`.
pub fn descriptor(kind: JobKind) -> &'static Descriptor {
    DESCRIPTORS
        .iter()
        .find(|d| d.kind == kind)
        .expect("every kind has a descriptor")
}

/// Instantiates `$pre` in `$store` and notes the moment the export can be called (the end
/// of the host's fixed cost of a call).
macro_rules! instantiate {
    ($pre:expr, $store:expr) => {{
        let instance = $pre.instantiate_async(&mut *$store).await?;
        $store.data_mut().instantiated_at = Some(std::time::Instant::now());
        instance
    }};
}
use instantiate;

/// A driver around a world's pre-instantiated component with the `configurable` export
/// every job has: `new` (which fails when the component is not of that world) and
/// `validate`.
macro_rules! linked_driver {
    ($pre:ty) => {
        pub struct Driver($pre);

        impl Driver {
            pub fn new(
                pre: wasmtime::component::InstancePre<crate::runtime::RunState>,
            ) -> wasmtime::Result<Driver> {
                Ok(Driver(<$pre>::new(pre)?))
            }

            pub async fn validate(
                &self,
                store: &mut wasmtime::Store<crate::runtime::RunState>,
                ctx: &crate::runtime::bindings::types::RunContext,
            ) -> wasmtime::Result<Vec<crate::runtime::bindings::types::ConfigProblem>> {
                super::instantiate!(self.0, store)
                    .cordial_jobs_configurable()
                    .call_validate(&mut *store, ctx)
                    .await
            }
        }
    };
}
use linked_driver;

/// [`linked_driver`] for a scheduled world, with `run`.
macro_rules! scheduled_driver {
    ($pre:ty) => {
        super::linked_driver!($pre);

        impl Driver {
            pub async fn run(
                &self,
                store: &mut wasmtime::Store<crate::runtime::RunState>,
                ctx: &crate::runtime::bindings::types::RunContext,
            ) -> wasmtime::Result<
                Result<
                    crate::runtime::bindings::types::RunProgress,
                    crate::runtime::bindings::types::JobError,
                >,
            > {
                super::instantiate!(self.0, store)
                    .cordial_jobs_scheduled()
                    .call_run(&mut *store, ctx)
                    .await
            }
        }
    };
}
use scheduled_driver;

use crate::runtime::RunState;
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::job::{JobError, Outcome, Progress, RunContext};
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::{ConfigProblem, JobKind};
use wasmtime::Store;
use wasmtime::component::InstancePre;

/// A job component of one kind, compiled and linked once, instantiated for every call.
pub enum Driver {
    ImportActivity(import_activity::Driver),
    ExportBulk(export_bulk::Driver),
    ExportRealtime(export_realtime::Driver),
    ExperienceCapture(experience_capture::Driver),
}

/// What a call asked of a component that its kind does not do.
fn not_for(kind: JobKind, what: &str) -> wasmtime::Error {
    wasmtime::format_err!("a `{}` job {what}", kind.as_str())
}

impl Driver {
    /// The driver of `kind` around a linked component; fails when the component does not
    /// export that kind's world.
    pub fn new(kind: JobKind, pre: InstancePre<RunState>) -> wasmtime::Result<Driver> {
        Ok(match kind {
            JobKind::ImportActivity => Driver::ImportActivity(import_activity::Driver::new(pre)?),
            JobKind::ExportBulk => Driver::ExportBulk(export_bulk::Driver::new(pre)?),
            JobKind::ExportRealtime => Driver::ExportRealtime(export_realtime::Driver::new(pre)?),
            JobKind::ExperienceCapture => {
                Driver::ExperienceCapture(experience_capture::Driver::new(pre)?)
            }
        })
    }

    pub fn kind(&self) -> JobKind {
        match self {
            Driver::ImportActivity(_) => JobKind::ImportActivity,
            Driver::ExportBulk(_) => JobKind::ExportBulk,
            Driver::ExportRealtime(_) => JobKind::ExportRealtime,
            Driver::ExperienceCapture(_) => JobKind::ExperienceCapture,
        }
    }

    /// The job's own check of its settings (it may consult Cordial).
    pub async fn validate(
        &self,
        store: &mut Store<RunState>,
        ctx: &RunContext,
    ) -> wasmtime::Result<Vec<ConfigProblem>> {
        let ctx = convert::run_context(ctx);
        let problems = match self {
            Driver::ImportActivity(d) => d.validate(store, &ctx).await?,
            Driver::ExportBulk(d) => d.validate(store, &ctx).await?,
            Driver::ExportRealtime(d) => d.validate(store, &ctx).await?,
            Driver::ExperienceCapture(d) => d.validate(store, &ctx).await?,
        };
        Ok(problems.into_iter().map(convert::config_problem).collect())
    }

    /// One step of a scheduled run.
    pub async fn run(
        &self,
        store: &mut Store<RunState>,
        ctx: &RunContext,
    ) -> wasmtime::Result<Result<Progress, JobError>> {
        let ctx = convert::run_context(ctx);
        let result = match self {
            Driver::ImportActivity(d) => d.run(store, &ctx).await?,
            Driver::ExportBulk(d) => d.run(store, &ctx).await?,
            _ => return Err(not_for(self.kind(), "is driven by events, not runs")),
        };
        Ok(convert::run_result(result))
    }

    /// Hands a batch of audience events to a real-time job: one outcome per event.
    pub async fn deliver(
        &self,
        store: &mut Store<RunState>,
        ctx: &RunContext,
        events: Vec<AudienceEvent>,
    ) -> wasmtime::Result<Vec<Outcome>> {
        match self {
            Driver::ExportRealtime(d) => d.deliver(store, &convert::run_context(ctx), events).await,
            _ => Err(not_for(self.kind(), "does not take audience events")),
        }
    }

    /// Hands a batch of submissions to a capture job: one result per submission.
    pub async fn submit(
        &self,
        store: &mut Store<RunState>,
        ctx: &RunContext,
        submissions: Vec<Submission>,
    ) -> wasmtime::Result<Vec<CaptureResult>> {
        match self {
            Driver::ExperienceCapture(d) => {
                d.submit(store, &convert::run_context(ctx), submissions)
                    .await
            }
            _ => Err(not_for(self.kind(), "does not take experience submissions")),
        }
    }
}
