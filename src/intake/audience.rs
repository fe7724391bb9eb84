//! Which events of an Audience Trigger payload (or rows of a backfill member file) belong to
//! an audience-export job, and the contact each is ordered by.

use crate::realtime::Membership;
use crate::settings::ExportSettings;
use crate::webhook::TriggerEvent;
use serde_json::{Map, Value};

/// One event of the job's audience, ready to be queued.
#[derive(Debug, Clone, PartialEq)]
pub struct AudienceItem {
    /// The ordering key: the lower-cased email when there is one. Events without one are
    /// dead-lettered by the job; they get a key of their own so they hold nobody up.
    pub contact: String,
    pub audience: String,
    pub kind: Membership,
    pub user: Map<String, Value>,
    pub occurred_at: Option<String>,
}

fn contact_key(settings: &ExportSettings, user: &Map<String, Value>, fallback: &str) -> String {
    match user.get(&settings.email_field) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_lowercase(),
        _ => format!("(no email) {fallback}"),
    }
}

/// The payload's events that belong to the job's audience (by slug or segment id), and how
/// many were for other audiences.
pub fn audience_items(
    settings: &ExportSettings,
    events: Vec<TriggerEvent>,
) -> (Vec<AudienceItem>, usize) {
    let audience = settings.audience.as_str();
    let total = events.len();
    let mine: Vec<AudienceItem> = events
        .into_iter()
        .enumerate()
        .filter(|(_, e)| {
            e.audience_slug.as_deref() == Some(audience)
                || e.audience_id.as_deref() == Some(audience)
        })
        .map(|(i, e)| {
            let fallback = e.platform_id.clone().unwrap_or_else(|| format!("#{i}"));
            AudienceItem {
                contact: contact_key(settings, &e.user, &fallback),
                audience: audience.to_owned(),
                kind: e.kind,
                user: e.user,
                occurred_at: e.occurred_at,
            }
        })
        .collect();
    let ignored = total - mine.len();
    (mine, ignored)
}

/// A current member from a backfill file (its `row`-th good row), as an `enter` event.
pub fn member_item(
    settings: &ExportSettings,
    member: Map<String, Value>,
    row: u64,
) -> AudienceItem {
    AudienceItem {
        contact: contact_key(settings, &member, &format!("row {row}")),
        audience: settings.audience.clone(),
        kind: Membership::Enter,
        user: member,
        occurred_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> ExportSettings {
        crate::settings::typed(
            crate::settings::JobKind::ExportRealtime,
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
        let (events, ignored) = audience_items(
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
        assert_eq!(events[0].kind, Membership::Exit);
        assert_eq!(events[0].audience, "vip_customers");

        let member = json!({"mail": "Cy@X.io"}).as_object().unwrap().clone();
        let entered = member_item(&settings(), member, 7);
        assert_eq!(
            (entered.contact.as_str(), entered.kind),
            ("cy@x.io", Membership::Enter)
        );
    }
}
