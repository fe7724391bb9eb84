//! The real-time export: how one audience event becomes one contact upsert, how a batch of
//! upserts goes out ([`rounds`]), and the whole call over the ports ([`job`]).

pub mod attribute_cache;
pub mod job;
pub mod rounds;

use crate::cordial::{AttributeType, ContactUpsert, coerce};
use crate::settings::ExportSettings;
use serde_json::Value;
use std::collections::BTreeMap;

/// Cordial attribute key → its type, as read from the account.
pub type AttributeTypes = BTreeMap<String, AttributeType>;

/// What the event does to list membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Enter,
    Exit,
    /// A watched field changed: update attributes, leave membership alone.
    Change,
}

impl Membership {
    /// The name runtimes store and show: `enter`, `exit` or `change`.
    pub fn as_str(self) -> &'static str {
        match self {
            Membership::Enter => "enter",
            Membership::Exit => "exit",
            Membership::Change => "change",
        }
    }
}

/// Why an event can never be delivered as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undeliverable(pub String);

/// The upsert for one event: keyed on the configured email field, mapped attributes coerced
/// to their Cordial type, and `"<list>": true|false` for enter and exit. Never asks for
/// `forceSubscribe` unless the job's settings do.
pub fn contact_for_event(
    settings: &ExportSettings,
    types: &AttributeTypes,
    list: &str,
    membership: Membership,
    user: &Value,
) -> Result<ContactUpsert, Undeliverable> {
    let email = email_of(settings, user)?;
    let mut contact = ContactUpsert::new(email);
    for (source, target) in &settings.field_mapping {
        if let Some(value) = user.get(source).filter(|v| !v.is_null()) {
            contact
                .attributes
                .insert(target.clone(), typed(types, source, target, value)?);
        }
    }
    match membership {
        Membership::Enter => contact.lists.push((list.to_owned(), true)),
        Membership::Exit => contact.lists.push((list.to_owned(), false)),
        Membership::Change => {}
    }
    contact.force_subscribe = settings.force_subscribe;
    Ok(contact)
}

/// The member's email from the configured field, trimmed, checked and lower-cased.
pub fn email_of(settings: &ExportSettings, user: &Value) -> Result<String, Undeliverable> {
    email_in(settings, user.get(&settings.email_field))
}

/// The same, given the email field's value (`None` when the user has no such field).
pub fn email_in(settings: &ExportSettings, value: Option<&Value>) -> Result<String, Undeliverable> {
    let email = value
        .and_then(|v| match v {
            Value::String(s) => Some(s.trim()),
            Value::Array(items) => items.iter().find_map(Value::as_str).map(str::trim),
            _ => None,
        })
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            Undeliverable(format!(
                "the user has no `{}` field to use as the email address",
                settings.email_field
            ))
        })?;
    if !looks_like_email(email) {
        return Err(Undeliverable(format!(
            "`{email}` in `{}` is not an email address",
            settings.email_field
        )));
    }
    Ok(email.to_lowercase())
}

/// The Cordial attributes whose types `settings` needs.
pub fn typed_targets(settings: &ExportSettings) -> Vec<&str> {
    crate::cordial::typed_targets(&settings.field_mapping)
}

/// `value` as the type of the attribute `target` (a geo sub-field such as `address.city` is
/// text). Unknown attributes pass as they are: Cordial has the last word.
pub fn typed(
    types: &AttributeTypes,
    source: &str,
    target: &str,
    value: &Value,
) -> Result<Value, Undeliverable> {
    typed_as(attribute_kind(types, target), source, target, value)
}

/// The Cordial type of the attribute `target`: a geo sub-field such as `address.city` is
/// text, an attribute `types` does not know has none.
pub fn attribute_kind(types: &AttributeTypes, target: &str) -> Option<AttributeType> {
    match target.split_once('.') {
        Some(_) => Some(AttributeType::String),
        None => types.get(target).copied(),
    }
}

/// `value` as `kind` (see [`typed`]), for callers that looked the kind up once.
pub fn typed_as(
    kind: Option<AttributeType>,
    source: &str,
    target: &str,
    value: &Value,
) -> Result<Value, Undeliverable> {
    match kind {
        None => Ok(value.clone()),
        Some(kind) => coerce(value, kind).map_err(|why| {
            Undeliverable(format!(
                "field `{source}`: {why} (Cordial attribute `{target}` is a {})",
                kind.as_str()
            ))
        }),
    }
}

/// A deliberately loose check: one `@` with text on both sides and a dot in the domain.
/// Written over bytes (every member of a bulk export passes through it).
pub fn looks_like_email(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(at) = bytes.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    let spaced = if text.is_ascii() {
        bytes.iter().any(|b| matches!(b, b' ' | b'\t'..=b'\r'))
    } else {
        text.chars().any(char::is_whitespace)
    };
    !local.is_empty()
        && !domain.contains(&b'@')
        && domain.contains(&b'.')
        && domain.first() != Some(&b'.')
        && domain.last() != Some(&b'.')
        && !spaced
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types() -> AttributeTypes {
        [
            ("fname".to_owned(), AttributeType::String),
            ("age".to_owned(), AttributeType::Number),
        ]
        .into()
    }

    fn settings() -> ExportSettings {
        crate::settings::typed(
            crate::settings::JobKind::ExportRealtime,
            &json!({
                "audience": "vip",
                "field_mapping": {"first_name": "fname", "city": "address.city", "age": "age"}
            }),
        )
        .unwrap()
    }

    #[test]
    fn enter_maps_fields_and_joins_the_list() {
        let c = contact_for_event(
            &settings(),
            &types(),
            "Lytics_vip",
            Membership::Enter,
            &json!({"email": " Beth@Example.com", "first_name": "Beth", "city": null, "other": 1}),
        )
        .unwrap();
        assert_eq!(
            c.to_json(),
            json!({"channels": {"email": {"address": "beth@example.com"}}, "fname": "Beth", "Lytics_vip": true})
        );
    }

    #[test]
    fn exit_leaves_the_list_and_change_does_not_touch_it() {
        let user = json!({"email": "a@b.co"});
        let exit = contact_for_event(&settings(), &types(), "l", Membership::Exit, &user).unwrap();
        assert_eq!(exit.lists, vec![("l".to_owned(), false)]);
        let change =
            contact_for_event(&settings(), &types(), "l", Membership::Change, &user).unwrap();
        assert!(change.lists.is_empty());
    }

    #[test]
    fn mapped_values_take_their_attribute_type_or_the_event_is_refused() {
        let user = json!({"email": "a@b.co", "age": "41", "city": 97201});
        let c = contact_for_event(&settings(), &types(), "l", Membership::Change, &user).unwrap();
        assert_eq!(c.attributes["age"], json!(41));
        assert_eq!(c.attributes["address.city"], json!("97201"));
        let bad = json!({"email": "a@b.co", "age": "forty"});
        let why = contact_for_event(&settings(), &types(), "l", Membership::Enter, &bad)
            .unwrap_err()
            .0;
        assert_eq!(
            why,
            "field `age`: `forty` is not a number (Cordial attribute `age` is a number)"
        );
    }

    #[test]
    fn the_email_check_is_loose_but_refuses_what_cannot_be_an_address() {
        for good in ["a@x.io", "Ünï@exämple.de", "a.b+c@sub.x.io"] {
            assert!(looks_like_email(good), "{good}");
        }
        for bad in [
            "",
            "ax.io",
            "@x.io",
            "a@",
            "a@x",
            "a@@x.io",
            "a@b@x.io",
            "a@.x.io",
            "a@x.io.",
            "a b@x.io",
            "a@x.io\t",
            "a@x\u{b}.io",
            "a@x.io\u{2003}",
            "\u{a0}a@x.io",
        ] {
            assert!(!looks_like_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn events_without_a_usable_email_are_undeliverable() {
        let missing = contact_for_event(
            &settings(),
            &types(),
            "l",
            Membership::Enter,
            &json!({"name": "x"}),
        );
        assert!(missing.unwrap_err().0.contains("no `email` field"));
        let bad = contact_for_event(
            &settings(),
            &types(),
            "l",
            Membership::Enter,
            &json!({"email": "nope"}),
        );
        assert!(bad.unwrap_err().0.contains("not an email"));
    }
}
