//! Experience capture: submissions from the durable queue → Cordial contacts, under the
//! job's opt-in and region policy.

use super::{Descriptor, Trigger, convert};
use crate::runtime::RunState;
use crate::runtime::bindings::types;
use cordial_jobs::capture::job::{CaptureResult, Submission};
use cordial_jobs::settings::JobKind;
use wasmtime::Store;

mod bindings {
    crate::runtime::bindings::job_world_bindings!("experience-capture", {
        "cordial:jobs/outcomes": crate::runtime::bindings::outcomes,
        "cordial:jobs/items": crate::runtime::bindings::items,
    });
}

pub const DESCRIPTOR: Descriptor = Descriptor::new(
    JobKind::ExperienceCapture,
    &[Trigger::Submissions],
    "capture",
    &[],
);

super::linked_driver!(bindings::ExperienceCapturePre<crate::runtime::RunState>);

impl Driver {
    pub async fn submit(
        &self,
        store: &mut Store<RunState>,
        ctx: &types::RunContext,
        submissions: Vec<Submission>,
    ) -> wasmtime::Result<Vec<CaptureResult>> {
        let submissions: Vec<_> = submissions.into_iter().map(convert::submission).collect();
        let results = super::instantiate!(self.0, store)
            .cordial_jobs_capture()
            .call_submit(&mut *store, ctx, &submissions)
            .await?;
        Ok(results.into_iter().map(convert::capture_result).collect())
    }
}
