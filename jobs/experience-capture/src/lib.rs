//! The `experience-capture` component: experience submissions → Cordial contacts under an
//! opt-in and region policy. This version validates its settings; the consent policy is not
//! built yet, so every submission is refused with that reason rather than sent unchecked.

cordial_guest::job_bindings!(event_driven "../../wit", "experience-capture");

use cordial_guest::outcomes::{Outcome, Rejection};
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
    fn submit(
        _ctx: RunContext,
        _config: String,
        submissions: Vec<Submission>,
    ) -> Vec<CaptureResult> {
        submissions
            .iter()
            .map(|_| CaptureResult {
                outcome: Outcome::DeadLetter(Rejection {
                    status: None,
                    reason: "the consent policy is not in this build; nothing was sent".into(),
                }),
                rule: "not-available".into(),
                action: "skipped".into(),
            })
            .collect()
    }
}

export!(ExperienceCapture);
