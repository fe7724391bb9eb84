//! The `experience-capture` component: experience submissions → Cordial contacts under an
//! opt-in and region policy (`docs/capture.md`). The policy is in the root crate
//! (`cordial_jobs::capture`); this is the WIT glue and the calls to Cordial.

cordial_guest::job_bindings!(event_driven "../../wit", "experience-capture");

mod submit;

use cordial_guest::types::{ConfigProblem, RunContext};
use cordial_jobs::settings::JobKind;
use exports::cordial::jobs::capture::{CaptureResult, Submission};

struct ExperienceCapture;

impl exports::cordial::jobs::configurable::Guest for ExperienceCapture {
    fn validate(ctx: RunContext, config: String) -> Vec<ConfigProblem> {
        cordial_guest::validate_settings(JobKind::ExperienceCapture, &ctx, &config)
    }
}

impl exports::cordial::jobs::capture::Guest for ExperienceCapture {
    fn submit(ctx: RunContext, config: String, submissions: Vec<Submission>) -> Vec<CaptureResult> {
        submit::submit(&ctx, &config, &submissions)
    }
}

export!(ExperienceCapture);
