//! What every Cordial job component shares, so each component crate is only glue: the
//! bindings of the imports besides WASI's core (generated once here, reused by each
//! component through `with:`), the ports of `cordial_jobs::ports` bound to those imports,
//! the wasi:http transport, and one entry per export that builds the ports and calls the
//! job's sequence in the root crate.

pub mod bindings;
mod convert;
mod http;
mod ports;

pub use bindings::cordial::jobs::{items, members, outcomes, sftp, streams, types};
pub use bindings::wasi::{config, keyvalue};
pub use http::WasiHttp;
pub use ports::{PlatformMembers, PlatformStreams, SftpFiles};

use cordial_jobs::job::{JobError, Progress};
use cordial_jobs::ports::Env;
use cordial_jobs::settings::JobKind;

/// Calls `f` with the ports every job has, bound to this component's imports.
pub fn with_env<R>(ctx: &types::RunContext, f: impl FnOnce(&mut Env<'_>) -> R) -> R {
    let ctx = convert::run_context(ctx);
    let mut state = ports::WasiKeyValue::default();
    let mut env = Env {
        ctx: &ctx,
        http: &mut WasiHttp,
        state: &mut state,
        config: &mut ports::WasiConfig,
        log: &mut ports::StderrLog,
        clock: &mut ports::SystemClock,
    };
    f(&mut env)
}

/// The `configurable.validate` export every job shares.
pub fn validate(kind: JobKind, ctx: &types::RunContext) -> Vec<types::ConfigProblem> {
    with_env(ctx, |env| cordial_jobs::settings::validate_job(kind, env))
        .into_iter()
        .map(convert::problem)
        .collect()
}

/// The `scheduled.run` export: one step of `sequence`.
pub fn run(
    ctx: &types::RunContext,
    sequence: impl FnOnce(&mut Env<'_>) -> Result<Progress, JobError>,
) -> Result<types::RunProgress, types::JobError> {
    convert::run_result(with_env(ctx, sequence))
}

/// The `realtime.deliver` export.
pub fn deliver(ctx: &types::RunContext, events: &[items::AudienceEvent]) -> Vec<outcomes::Outcome> {
    let events: Vec<_> = events.iter().map(convert::audience_event).collect();
    with_env(ctx, |env| {
        cordial_jobs::realtime::job::deliver(env, &events)
    })
    .into_iter()
    .map(convert::outcome)
    .collect()
}

/// The `capture.submit` export.
pub fn submit(
    ctx: &types::RunContext,
    submissions: &[items::Submission],
) -> Vec<items::CaptureResult> {
    let submissions: Vec<_> = submissions.iter().map(convert::submission).collect();
    with_env(ctx, |env| {
        cordial_jobs::capture::job::submit(env, &submissions)
    })
    .into_iter()
    .map(convert::capture_result)
    .collect()
}

/// Generates a component's bindings for its world, reusing this crate's bindings so every
/// component shares one definition of each imported interface. `wit` is the path of the
/// repository's `wit/` folder relative to the component crate. wit-bindgen refuses mappings
/// a world does not use, hence one arm per set of project imports.
#[macro_export]
macro_rules! job_bindings {
    ($wit:literal, $world:literal, { $($extra:tt)* }) => {
        wit_bindgen::generate!({
            path: $wit,
            world: $world,
            with: {
                "cordial:jobs/types@0.2.0": cordial_guest::types,
                "wasi:keyvalue/store@0.2.0-draft2": cordial_guest::keyvalue::store,
                "wasi:config/store@0.2.0-draft-2024-09-27": cordial_guest::config::store,
                $($extra)*
            },
            generate_all,
        });
    };
    (import_activity $wit:literal) => {
        $crate::job_bindings!($wit, "import-activity", {
            "cordial:jobs/sftp@0.2.0": cordial_guest::sftp,
            "cordial:jobs/streams@0.2.0": cordial_guest::streams,
        });
    };
    (export_bulk $wit:literal) => {
        $crate::job_bindings!($wit, "export-bulk", {
            "cordial:jobs/sftp@0.2.0": cordial_guest::sftp,
            "cordial:jobs/members@0.2.0": cordial_guest::members,
        });
    };
    (event_driven $wit:literal, $world:literal) => {
        $crate::job_bindings!($wit, $world, {
            "cordial:jobs/outcomes@0.2.0": cordial_guest::outcomes,
            "cordial:jobs/items@0.2.0": cordial_guest::items,
        });
    };
}

/// The whole component of a scheduled job: its world's bindings, `validate`, and `run`
/// calling the job's sequence in the root crate with the world's extra ports.
#[macro_export]
macro_rules! scheduled_component {
    (import_activity) => {
        $crate::scheduled_component!(
            @ import_activity,
            cordial_jobs::settings::JobKind::ImportActivity,
            |env| cordial_jobs::activity::job::run(
                env,
                &mut $crate::SftpFiles,
                &mut $crate::PlatformStreams
            )
        );
    };
    (export_bulk) => {
        $crate::scheduled_component!(
            @ export_bulk,
            cordial_jobs::settings::JobKind::ExportBulk,
            |env| cordial_jobs::bulk::job::run(
                env,
                &mut $crate::SftpFiles,
                &mut $crate::PlatformMembers
            )
        );
    };
    (@ $world:ident, $kind:expr, $sequence:expr) => {
        $crate::job_bindings!($world "../../wit");

        struct Component;

        impl exports::cordial::jobs::configurable::Guest for Component {
            fn validate(ctx: $crate::types::RunContext) -> Vec<$crate::types::ConfigProblem> {
                $crate::validate($kind, &ctx)
            }
        }

        impl exports::cordial::jobs::scheduled::Guest for Component {
            fn run(
                ctx: $crate::types::RunContext,
            ) -> Result<$crate::types::RunProgress, $crate::types::JobError> {
                $crate::run(&ctx, $sequence)
            }
        }

        export!(Component);
    };
}

/// The whole component of an event-driven job: its world's bindings, `validate`, and the
/// export that hands a batch of items to the job's call in the root crate.
#[macro_export]
macro_rules! event_component {
    (export_realtime) => {
        $crate::event_component!(
            @ "export-realtime", ExportRealtime, realtime::Guest,
            deliver, $crate::items::AudienceEvent, $crate::outcomes::Outcome
        );
    };
    (experience_capture) => {
        $crate::event_component!(
            @ "experience-capture", ExperienceCapture, capture::Guest,
            submit, $crate::items::Submission, $crate::items::CaptureResult
        );
    };
    (@ $world:literal, $kind:ident, $($export:ident)::+, $call:ident, $item:ty, $result:ty) => {
        $crate::job_bindings!(event_driven "../../wit", $world);

        struct Component;

        impl exports::cordial::jobs::configurable::Guest for Component {
            fn validate(ctx: $crate::types::RunContext) -> Vec<$crate::types::ConfigProblem> {
                $crate::validate(cordial_jobs::settings::JobKind::$kind, &ctx)
            }
        }

        impl exports::cordial::jobs::$($export)::+ for Component {
            fn $call(ctx: $crate::types::RunContext, items: Vec<$item>) -> Vec<$result> {
                $crate::$call(&ctx, &items)
            }
        }

        export!(Component);
    };
}
