//! `POST /v2/contactimports`: checking an import request (the endpoint, in
//! [`crate::imports`], then starts its job).
//!
//! The request is validated at once and a configuration problem is a 406 with
//! Cordial's messages (cordial-api.md §5.1); a good request is answered 201
//! `{"jobId": "<24 hex>"}` straight away and the file is fetched and applied by a
//! background job ([`crate::imports::job`]), which `GET /v2/jobs/{id}` reports on.
//!
//! `source` is read by [`crate::imports::source`] (SFTP and HTTP(S) are emulated).
//! `confirmEmail`, `suppressTriggers` and `jobStatusWebhookUrl` are checked or
//! accepted but have no effect: the emulator sends no mail, fires no triggers and
//! posts no job webhooks.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::account::contact_body::is_email;
use crate::account::values::lenient_bool;
use crate::http::errors::ApiError;
use crate::imports::source::ImportSource;
use crate::jobs::fields::{delimiter, text};
use crate::model::store::Store;

/// `strategy`: which rows an import may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// No `strategy`: insert new contacts and update existing ones.
    Upsert,
    /// `insertOnly`: rows of existing contacts are `ignored`.
    InsertOnly,
    /// `updateOnly`: rows of new contacts are `ignored`.
    UpdateOnly,
}

/// A validated import request.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub import_name: Option<String>,
    /// `source`: where the file is.
    pub source: ImportSource,
    pub has_header: bool,
    pub columns: Option<Vec<String>>,
    pub delimiter: u8,
    pub strategy: Strategy,
    /// `lists.addTo`, as list ids.
    pub add_to: Vec<u64>,
    /// `lists.removeFrom`, as list ids.
    pub remove_from: Vec<u64>,
    pub null_marker: Option<String>,
    /// `subscribe` (default true): false leaves existing contacts' status alone
    /// where the file gives none, and makes new contacts `none` rather than `subscribed`.
    pub subscribe: bool,
}

fn refuse(message: impl Into<String>) -> ApiError {
    ApiError::not_acceptable(message)
}

fn flag(fields: &Map<String, Value>, key: &str, default: bool) -> Result<bool, ApiError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => {
            lenient_bool(v).ok_or_else(|| refuse(format!("The {key} field must be true or false.")))
        }
    }
}

/// Checks an import body against Cordial's rules and the account (saved keys, lists).
pub fn parse_request(
    body: &Value,
    saved_keys: &HashMap<String, PathBuf>,
    store: &Store,
) -> Result<ImportRequest, ApiError> {
    let empty = Map::new();
    let fields = match body {
        Value::Object(m) => m,
        _ => &empty,
    };
    let source = match fields.get("source") {
        Some(Value::Object(s)) => s,
        _ => &empty,
    };
    let source = ImportSource::parse(source, saved_keys).map_err(refuse)?;

    let has_header = flag(fields, "hasHeader", false)?;
    let columns = match fields.get("columns") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|c| c.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| refuse("The columns must be an array of strings."))?,
        ),
        Some(_) => return Err(refuse("The columns must be an array of strings.")),
    };
    let columns = columns.filter(|c| !c.is_empty());
    if !has_header && columns.is_none() {
        return Err(refuse("The columns field is required."));
    }
    let delimiter =
        delimiter(fields).ok_or_else(|| refuse("The delimiter must be a single character."))?;
    let strategy = match fields.get("strategy") {
        None | Some(Value::Null) => Strategy::Upsert,
        Some(Value::String(s)) if s.is_empty() => Strategy::Upsert,
        Some(Value::String(s)) if s == "insertOnly" => Strategy::InsertOnly,
        Some(Value::String(s)) if s == "updateOnly" => Strategy::UpdateOnly,
        Some(_) => return Err(refuse("The selected strategy is invalid.")),
    };
    if let Some(email) = fields.get("confirmEmail").filter(|v| !v.is_null())
        && !email.as_str().is_some_and(|e| is_email(e.trim()))
    {
        return Err(refuse("The confirm email must be a valid email address."));
    }
    let (add_to, remove_from) = match fields.get("lists") {
        None | Some(Value::Null) => (Vec::new(), Vec::new()),
        Some(Value::Object(lists)) => (
            list_ids(store, lists, "addTo")?,
            list_ids(store, lists, "removeFrom")?,
        ),
        Some(_) => {
            return Err(refuse(
                "The lists must be an object with addTo and removeFrom.",
            ));
        }
    };
    if let Some(both) = add_to.iter().find(|id| remove_from.contains(id)) {
        let name = store
            .lists
            .get(both)
            .map_or_else(String::new, |l| l.name.clone());
        return Err(refuse(format!(
            "The list {name} cannot be in both lists.addTo and lists.removeFrom."
        )));
    }
    let null_marker = match fields.get("nullMarker") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) => return Err(refuse("The null marker must be a string.")),
    };
    let subscribe = flag(fields, "subscribe", true)?;
    flag(fields, "suppressTriggers", true)?;
    Ok(ImportRequest {
        import_name: text(fields, "importName"),
        source,
        has_header,
        columns,
        delimiter,
        strategy,
        add_to,
        remove_from,
        null_marker,
        subscribe,
    })
}

/// The lists named (or numbered) in `lists.<key>`; each must exist, as a list
/// key must in the contacts API.
fn list_ids(store: &Store, lists: &Map<String, Value>, key: &str) -> Result<Vec<u64>, ApiError> {
    let items = match lists.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(refuse(format!(
                "The lists.{key} must be an array of list names."
            )));
        }
    };
    let mut ids = Vec::new();
    for item in items {
        let found = match item {
            Value::String(name) => store
                .list_by_name(name)
                .map(|l| l.id)
                .or_else(|| name.parse().ok().filter(|id| store.lists.contains_key(id))),
            Value::Number(n) => n.as_u64().filter(|id| store.lists.contains_key(id)),
            _ => None,
        };
        match found {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => {
                return Err(refuse(format!(
                    "The list {} in lists.{key} does not exist.",
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                )));
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use cordial_sftp::Credential;

    use super::*;
    use crate::config::Seed;
    use crate::jobs::sftp::Login;
    use axum::http::StatusCode;
    use serde_json::json;

    fn keys() -> HashMap<String, PathBuf> {
        HashMap::from([("k".to_owned(), PathBuf::from("/keys/k"))])
    }

    fn login(r: &ImportRequest) -> &Login {
        match &r.source {
            ImportSource::Sftp(login) => login,
            ImportSource::Http { .. } => panic!("not an SFTP source"),
        }
    }

    fn parse(body: Value) -> Result<ImportRequest, String> {
        let store = Store::from_seed(&Seed::demo());
        parse_request(&body, &keys(), &store).map_err(|e| {
            assert_eq!(e.status(), StatusCode::NOT_ACCEPTABLE);
            assert_eq!(e.body()["errorKey"], "GENERIC_ERROR_KEY");
            e.body()["message"].as_str().unwrap().to_owned()
        })
    }

    fn good() -> Value {
        json!({
            "source": {"transport": "SFTP", "server": "h", "username": "u", "password": "p", "path": "/in/a.csv"},
            "hasHeader": true
        })
    }

    #[test]
    fn a_good_request_is_read_with_defaults() {
        let r = parse(good()).unwrap();
        assert_eq!(login(&r).port, 22);
        assert_eq!(r.delimiter, b',');
        assert_eq!(r.strategy, Strategy::Upsert);
        assert!(r.subscribe && r.has_header && r.columns.is_none());
        assert!(matches!(login(&r).credential, Credential::Password(ref p) if p == "p"));
        let mut b = good();
        b["source"]["savedKey"] = json!("k");
        b["lists"] = json!({"addTo": ["newsletter"], "removeFrom": []});
        b["subscribe"] = json!(false);
        b["source"]["port"] = json!("2222");
        let r = parse(b).unwrap();
        assert!(
            matches!(login(&r).credential, Credential::PrivateKey(ref p) if p == &PathBuf::from("/keys/k"))
        );
        assert_eq!(r.add_to, vec![1]);
        assert_eq!(login(&r).port, 2222);
        assert!(!r.subscribe);
    }

    #[test]
    fn configuration_errors_are_406_with_cordials_messages() {
        let with = |f: &dyn Fn(&mut Value)| {
            let mut b = good();
            f(&mut b);
            parse(b).unwrap_err()
        };
        assert_eq!(
            parse(json!({})).unwrap_err(),
            "The source.transport field is required."
        );
        assert!(
            with(&|b| b["source"]["transport"] = json!("s3"))
                .starts_with("The selected source.transport is invalid.")
        );
        for key in ["server", "username", "path"] {
            assert_eq!(
                with(&|b| {
                    b["source"].as_object_mut().unwrap().remove(key);
                }),
                format!("The source.{key} field is required.")
            );
        }
        assert_eq!(
            with(&|b| {
                b["source"].as_object_mut().unwrap().remove("password");
            }),
            "Parameter password is not set"
        );
        assert!(
            with(&|b| b["source"]["savedKey"] = json!("nope")).contains("\"nope\" does not exist")
        );
        assert_eq!(
            with(&|b| b["hasHeader"] = json!(false)),
            "The columns field is required."
        );
        assert_eq!(
            with(&|b| b["strategy"] = json!("sometimes")),
            "The selected strategy is invalid."
        );
        assert_eq!(
            with(&|b| b["confirmEmail"] = json!("nobody")),
            "The confirm email must be a valid email address."
        );
        assert_eq!(
            with(&|b| b["lists"] = json!({"addTo": ["nope"]})),
            "The list nope in lists.addTo does not exist."
        );
        assert!(
            with(&|b| b["lists"] = json!({"addTo": ["newsletter"], "removeFrom": [1]}))
                .contains("both")
        );
    }
}
