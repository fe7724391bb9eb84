//! The Spin entry of the real-time audience export: `POST /hooks/<job>` takes the
//! platform's Audience Trigger payloads (the bundled host's checks and answers), queues the
//! job's audience's events in the outbox and hands them to the job's `realtime.deliver`,
//! which this component imports and the composition wires to the job component.

use cordial_jobs::intake::{self, HOOKS_LIMIT};
use cordial_jobs::job::RunContext;
use cordial_jobs::settings::{ExportSettings, JobKind};
use cordial_spin_glue::entry::{EntryJob, Intake};
use cordial_spin_glue::items::{AudienceEvent, Membership};
use cordial_spin_glue::outbox::{Item, Verdict};
use cordial_spin_glue::{run_context, verdict};
use serde_json::{Map, Value, json};

cordial_spin_glue::entry_component!(
    Realtime,
    "cordial:spin-entries/realtime-entry",
    "package cordial:spin-entries; world realtime-entry { import cordial:jobs/realtime@0.2.0; }"
);

struct Realtime;

impl EntryJob for Realtime {
    type Settings = ExportSettings;
    const KIND: JobKind = JobKind::ExportRealtime;
    const ROUTE: &'static str = "hooks";
    const LIMIT: intake::BodyLimit = HOOKS_LIMIT;

    fn read(settings: &ExportSettings, body: &[u8]) -> Result<Intake, Value> {
        let events = cordial_jobs::webhook::parse_trigger_payload(body)
            .map_err(|e| json!({ "error": e.message, "path": e.path }))?;
        let (items, ignored) = intake::audience_items(settings, events);
        let items = items
            .into_iter()
            .map(|e| Item {
                contact: e.contact,
                item: json!({
                    "audience": e.audience,
                    "kind": e.kind.as_str(),
                    "user": e.user,
                    "occurred_at": e.occurred_at,
                }),
                attempts: 0,
            })
            .collect();
        let mut answer = Map::new();
        answer.insert("ignored_other_audiences".into(), ignored.into());
        Ok(Intake { items, answer })
    }

    fn deliver(ctx: &RunContext, items: &[&Item]) -> Vec<Verdict> {
        let events: Vec<AudienceEvent> = items
            .iter()
            .enumerate()
            .map(|(n, item)| AudienceEvent {
                event_id: n as u64 + 1,
                audience: item.item["audience"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                kind: match item.item["kind"].as_str() {
                    Some("enter") => Membership::Enter,
                    Some("exit") => Membership::Exit,
                    _ => Membership::Change,
                },
                user: item.item["user"].to_string(),
                occurred_at: item.item["occurred_at"].as_str().map(str::to_owned),
            })
            .collect();
        cordial::jobs::realtime::deliver(&run_context(ctx), &events)
            .into_iter()
            .map(verdict)
            .collect()
    }
}
