//! Experience capture: submissions from the durable queue → Cordial contacts, under the
//! job's opt-in and region policy.

use super::{Descriptor, Trigger, convert};
use crate::runtime::RunState;
use crate::runtime::bindings::items::Submission;
use crate::runtime::bindings::types;
use cordial_jobs::capture::job::CaptureResult;
use cordial_jobs::settings::JobKind;
use wasmtime::Store;

mod bindings {
    crate::runtime::bindings::job_world_bindings!("experience-capture", {
        "cordial:jobs/outcomes": crate::runtime::bindings::outcomes,
        "cordial:jobs/items": crate::runtime::bindings::items,
    });
}

pub const DESCRIPTOR: Descriptor =
    Descriptor::new(JobKind::ExperienceCapture, &[Trigger::Submissions], false);

super::linked_driver!(bindings::ExperienceCapturePre<crate::runtime::RunState>);

impl Driver {
    pub async fn submit(
        &self,
        store: &mut Store<RunState>,
        ctx: &types::RunContext,
        submissions: &[cordial_jobs::capture::job::Submission],
    ) -> wasmtime::Result<Vec<CaptureResult>> {
        let submissions: Vec<Submission> = submissions
            .iter()
            .map(|s| Submission {
                submission_id: s.id.clone(),
                body: s.body.clone(),
            })
            .collect();
        let instance = self.0.instantiate_async(&mut *store).await?;
        store.data_mut().instantiated_at = Some(std::time::Instant::now());
        let results = instance
            .cordial_jobs_capture()
            .call_submit(&mut *store, ctx, &submissions)
            .await?;
        Ok(results
            .into_iter()
            .map(|r| CaptureResult {
                outcome: convert::outcome(r.outcome),
                rule: r.rule,
                action: r.action,
            })
            .collect())
    }
}
