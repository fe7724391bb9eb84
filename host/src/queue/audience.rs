//! Audience events as queue items: what the ingress and backfills queue for a real-time
//! export, and the [`AudienceEvent`] its component is handed.

use crate::db::{NewEvent, NewItem, QueuedItem};
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event's item JSON. `store::schema` writes the same fields when it moves the events of
/// an older store's outbox into the queue.
#[derive(Serialize, Deserialize)]
struct Item {
    audience: String,
    /// `enter`, `exit` or `change`.
    kind: String,
    /// The user's fields, one JSON object.
    user: Value,
    occurred_at: Option<String>,
}

/// The event as a queue item, keyed by its contact.
pub fn item(event: &NewEvent) -> anyhow::Result<NewItem> {
    let item = Item {
        audience: event.audience.clone(),
        kind: event.kind.clone(),
        user: serde_json::from_str(&event.user)?,
        occurred_at: event.occurred_at.clone(),
    };
    Ok(NewItem {
        key: event.contact.clone(),
        item: serde_json::to_string(&item)?,
        source: event.source,
    })
}

/// The queued event as the component takes it, under its queue id; or why it cannot be read.
pub fn event(queued: &QueuedItem) -> Result<AudienceEvent, String> {
    let item: Item = serde_json::from_str(&queued.item)
        .map_err(|e| format!("the queued event cannot be read: {e}"))?;
    Ok(AudienceEvent {
        event_id: queued.id as u64,
        audience: item.audience,
        kind: match item.kind.as_str() {
            "exit" => Membership::Exit,
            "change" => Membership::Change,
            _ => Membership::Enter,
        },
        user: item.user.to_string(),
        occurred_at: item.occurred_at,
    })
}

/// The event's membership change alone, read without building the user's fields (the run
/// history reads it for every event it counts). Read as [`event`] reads it: anything but
/// `exit` and `change` is an enter.
pub fn membership(item: &str) -> Membership {
    #[derive(Deserialize)]
    struct KindOnly<'a> {
        #[serde(borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    match serde_json::from_str::<KindOnly>(item)
        .as_ref()
        .map(|i| &*i.kind)
    {
        Ok("exit") => Membership::Exit,
        Ok("change") => Membership::Change,
        _ => Membership::Enter,
    }
}

/// `enter`, `exit` or `change`: what a dead letter did, for `dlq list`.
pub fn kind(item: &str) -> String {
    serde_json::from_str::<Item>(item).map_or_else(|_| "?".into(), |i| i.kind)
}

/// A queued audience event of `kind` for contact `c<id>`, for other modules' unit tests.
#[cfg(test)]
pub fn queued(id: i64, kind: &str) -> QueuedItem {
    QueuedItem {
        id,
        name: format!("vip-{id}"),
        key: format!("c{id}"),
        item: format!(r#"{{"audience":"vip","kind":"{kind}","user":{{}},"occurred_at":null}}"#),
        attempts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_comes_back_from_the_queue_as_it_went_in() {
        let sent = NewEvent {
            contact: "ann@x.io".into(),
            audience: "vip".into(),
            kind: "exit".into(),
            user: r#"{"email":"Ann@x.io","age":41}"#.into(),
            occurred_at: Some("2026-11-22T10:00:00.123456789Z".into()),
            source: "backfill",
        };
        let new = item(&sent).unwrap();
        assert_eq!((new.key.as_str(), new.source), ("ann@x.io", "backfill"));
        let queued = QueuedItem {
            id: 7,
            name: "vip-7".into(),
            key: new.key,
            item: new.item,
            attempts: 0,
        };
        let read = event(&queued).unwrap();
        assert_eq!(
            (read.event_id, read.audience.as_str(), read.kind),
            (7, "vip", Membership::Exit)
        );
        assert_eq!(
            serde_json::from_str::<Value>(&read.user).unwrap(),
            serde_json::json!({"email": "Ann@x.io", "age": 41})
        );
        assert_eq!(read.occurred_at, sent.occurred_at);
        assert_eq!(kind(&queued.item), "exit");
        assert_eq!(membership(&queued.item), Membership::Exit);

        let broken = QueuedItem {
            item: "{".into(),
            ..queued
        };
        assert!(event(&broken).unwrap_err().contains("cannot be read"));
    }
}
