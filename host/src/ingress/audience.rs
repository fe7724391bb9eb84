//! Turning what the platform sends about an audience (Audience Trigger payloads, backfill
//! member files) into events for one audience-export job, and storing them where that job
//! reads them: the real-time job's queue, or the bulk job's pending members.

use crate::config::JobConfig;
use crate::db::{Db, NewEvent};
use crate::jobs::{Trigger, descriptor};
use crate::queue::audience;
use cordial_jobs::intake::{self, AudienceItem};
use cordial_jobs::settings::ExportSettings;
use cordial_jobs::webhook::TriggerEvent;
use serde_json::{Map, Value};

/// The host's queue row for an event of the job's audience.
fn new_event(item: AudienceItem, source: &'static str) -> NewEvent {
    NewEvent {
        contact: item.contact,
        audience: item.audience,
        kind: item.kind.as_str().to_owned(),
        user: Value::Object(item.user).to_string(),
        occurred_at: item.occurred_at,
        source,
    }
}

/// The payload's events that belong to the job's audience, and how many were for other
/// audiences (see [`intake::audience_items`]).
pub fn from_trigger(
    settings: &ExportSettings,
    events: Vec<TriggerEvent>,
) -> (Vec<NewEvent>, usize) {
    let (items, ignored) = intake::audience_items(settings, events);
    let events = items
        .into_iter()
        .map(|item| new_event(item, "webhook"))
        .collect();
    (events, ignored)
}

/// A current member from a backfill file (its `row`-th good row), as an `enter` event.
pub fn from_member(settings: &ExportSettings, member: Map<String, Value>, row: u64) -> NewEvent {
    new_event(intake::member_item(settings, member, row), "backfill")
}

/// Stores accepted events durably, in one transaction, where `job` reads them.
pub fn store_events(store: &Db, job: &JobConfig, events: &[NewEvent]) -> anyhow::Result<()> {
    let triggers = descriptor(job.kind);
    if triggers.has(Trigger::AudienceMembers) {
        store.add_members(&job.name, events)
    } else if triggers.has(Trigger::AudienceEvents) {
        let items: Vec<_> = events
            .iter()
            .map(audience::item)
            .collect::<Result<_, _>>()?;
        store.enqueue(&job.name, &items).map(drop)
    } else {
        anyhow::bail!("a `{}` job takes no audience events", job.kind.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> ExportSettings {
        cordial_jobs::settings::typed(
            cordial_jobs::settings::JobKind::ExportRealtime,
            &json!({"audience": "vip_customers", "email_field": "mail"}),
        )
        .unwrap()
    }

    #[test]
    fn events_go_to_the_queue_of_a_real_time_job_and_the_pending_members_of_a_bulk_one() {
        let config = crate::config::parse(
            "[auth.c]\nbase_url = \"http://127.0.0.1:1\"\napi_key_env = \"K\"\n\
             [[job]]\nname = \"rt\"\nkind = \"export-realtime\"\nauth = \"c\"\naudience = \"vip_customers\"\n\
             [[job]]\nname = \"bulk\"\nkind = \"export-bulk\"\nauth = \"c\"\naudience = \"vip_customers\"\n",
        )
        .unwrap();
        let store = Db::in_memory().unwrap();
        let member = json!({"mail": "a@x.io"}).as_object().unwrap().clone();
        let events = [from_member(&settings(), member, 1)];
        assert_eq!(
            (events[0].kind.as_str(), events[0].source),
            ("enter", "backfill")
        );
        for job in &config.jobs {
            store_events(&store, job, &events).unwrap();
        }
        assert_eq!(store.queue_counts("rt").unwrap().pending, 1);
        assert_eq!(store.members_waiting("rt").unwrap(), 0);
        assert_eq!(store.members_waiting("bulk").unwrap(), 1);
        assert_eq!(store.queue_counts("bulk").unwrap().pending, 0);
    }
}
