//! The Spin entry of experience capture: `POST /capture/<job>` takes submissions (the
//! bundled host's checks and answers), queues them in the outbox and hands them to the
//! job's `capture.submit`, which this component imports and the composition wires to the
//! job component.

use cordial_jobs::intake::{self, CAPTURE_LIMIT};
use cordial_jobs::job::RunContext;
use cordial_jobs::settings::{CaptureSettings, JobKind};
use cordial_spin_glue::entry::{EntryJob, Intake};
use cordial_spin_glue::items::Submission;
use cordial_spin_glue::outbox::{Item, Verdict};
use cordial_spin_glue::{run_context, verdict};
use serde_json::{Map, Value, json};

cordial_spin_glue::entry_component!(
    Capture,
    "cordial:spin-entries/capture-entry",
    "package cordial:spin-entries; world capture-entry { import cordial:jobs/capture@0.2.0; }"
);

struct Capture;

impl EntryJob for Capture {
    type Settings = CaptureSettings;
    const KIND: JobKind = JobKind::ExperienceCapture;
    const ROUTE: &'static str = "capture";
    const LIMIT: intake::BodyLimit = CAPTURE_LIMIT;

    fn read(settings: &CaptureSettings, body: &[u8]) -> Result<Intake, Value> {
        let submissions = intake::submission_items(settings, body)
            .map_err(|bad| json!({ "error": bad.message, "field": bad.field }))?;
        let mut ids = Vec::new();
        let items = submissions
            .into_iter()
            .map(|s| {
                let id = format!("spin-{:016x}", wasip2::random::random::get_random_u64());
                ids.push(Value::String(id.clone()));
                Item {
                    contact: s.contact,
                    item: json!({ "id": id, "body": s.body }),
                    attempts: 0,
                }
            })
            .collect();
        let mut answer = Map::new();
        answer.insert("submission_ids".into(), Value::Array(ids));
        Ok(Intake { items, answer })
    }

    fn deliver(ctx: &RunContext, items: &[&Item]) -> Vec<Verdict> {
        let submissions: Vec<Submission> = items
            .iter()
            .map(|item| Submission {
                submission_id: item.item["id"].as_str().unwrap_or_default().to_owned(),
                body: item.item["body"].to_string(),
            })
            .collect();
        cordial::jobs::capture::submit(&run_context(ctx), &submissions)
            .into_iter()
            .map(|result| verdict(result.outcome))
            .collect()
    }
}
