//! Turning what the platform sends about an audience (Audience Trigger payloads, backfill
//! member files) into events for one audience-export job, and storing them where that job
//! reads them: the real-time job's queue, or the bulk job's pending members.

use crate::config::JobConfig;
use crate::db::{Db, NewEvent};
use crate::jobs::{Trigger, descriptor};
use crate::queue::audience;
use cordial_jobs::realtime::Membership;
use cordial_jobs::settings::ExportSettings;
use cordial_jobs::webhook::TriggerEvent;
use serde_json::{Map, Value};

/// The ordering key: the lower-cased email when there is one. Events without one are
/// dead-lettered by the job; they get a key of their own so they hold nobody up.
fn contact_key(settings: &ExportSettings, user: &Map<String, Value>, fallback: &str) -> String {
    match user.get(&settings.email_field) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_lowercase(),
        _ => format!("(no email) {fallback}"),
    }
}

fn kind_name(kind: Membership) -> &'static str {
    match kind {
        Membership::Enter => "enter",
        Membership::Exit => "exit",
        Membership::Change => "change",
    }
}

/// The payload's events that belong to the job's audience (by slug or segment id), and how
/// many were for other audiences.
pub fn from_trigger(
    settings: &ExportSettings,
    events: Vec<TriggerEvent>,
) -> (Vec<NewEvent>, usize) {
    let audience = settings.audience.as_str();
    let total = events.len();
    let mine: Vec<NewEvent> = events
        .into_iter()
        .enumerate()
        .filter(|(_, e)| {
            e.audience_slug.as_deref() == Some(audience)
                || e.audience_id.as_deref() == Some(audience)
        })
        .map(|(i, e)| {
            let fallback = e.platform_id.clone().unwrap_or_else(|| format!("#{i}"));
            NewEvent {
                contact: contact_key(settings, &e.user, &fallback),
                audience: audience.to_owned(),
                kind: kind_name(e.kind).to_owned(),
                user: Value::Object(e.user).to_string(),
                occurred_at: e.occurred_at,
                source: "webhook",
            }
        })
        .collect();
    let ignored = total - mine.len();
    (mine, ignored)
}

/// A current member from a backfill file (its `row`-th good row), as an `enter` event.
pub fn from_member(settings: &ExportSettings, member: Map<String, Value>, row: u64) -> NewEvent {
    NewEvent {
        contact: contact_key(settings, &member, &format!("row {row}")),
        audience: settings.audience.clone(),
        kind: "enter".into(),
        user: Value::Object(member).to_string(),
        occurred_at: None,
        source: "backfill",
    }
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

    fn event(slug: &str, id: Option<&str>, user: Value) -> TriggerEvent {
        let Value::Object(user) = user else {
            unreachable!()
        };
        TriggerEvent {
            platform_id: id.map(str::to_owned),
            audience_slug: Some(slug.into()),
            audience_id: None,
            kind: Membership::Exit,
            user,
            occurred_at: None,
        }
    }

    #[test]
    fn only_the_jobs_audience_is_kept_keyed_by_the_lower_cased_email() {
        let (events, ignored) = from_trigger(
            &settings(),
            vec![
                event("vip_customers", Some("1"), json!({"mail": " Ann@X.io "})),
                event("others", Some("2"), json!({"mail": "bob@x.io"})),
                event(
                    "vip_customers",
                    Some("3"),
                    json!({"email": "no@mail.field"}),
                ),
                event("vip_customers", None, json!({})),
            ],
        );
        assert_eq!(ignored, 1);
        let keys: Vec<&str> = events.iter().map(|e| e.contact.as_str()).collect();
        assert_eq!(keys, ["ann@x.io", "(no email) 3", "(no email) #3"]);
        assert_eq!(
            (events[0].kind.as_str(), events[0].source),
            ("exit", "webhook")
        );
        assert_eq!(events[0].audience, "vip_customers");

        let member = json!({"mail": "Cy@X.io"}).as_object().unwrap().clone();
        let entered = from_member(&settings(), member, 7);
        assert_eq!(
            (
                entered.contact.as_str(),
                entered.kind.as_str(),
                entered.source
            ),
            ("cy@x.io", "enter", "backfill")
        );
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
        for job in &config.jobs {
            store_events(&store, job, &events).unwrap();
        }
        assert_eq!(store.queue_counts("rt").unwrap().pending, 1);
        assert_eq!(store.members_waiting("rt").unwrap(), 0);
        assert_eq!(store.members_waiting("bulk").unwrap(), 1);
        assert_eq!(store.queue_counts("bulk").unwrap().pending, 0);
    }
}
