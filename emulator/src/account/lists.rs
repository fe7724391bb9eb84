//! `/v2/accountlists`: list definitions. Membership is set through contacts.

use axum::extract::{Extension, Path, RawQuery, State};
use serde_json::{Map, Value, json};

use crate::account::values::lenient_bool;
use crate::http::answer::{Answer, ok, success};
use crate::http::app::App;
use crate::http::errors::ApiError;
use crate::http::pipeline::ParsedBody;
use crate::http::query::query;
use crate::model::store::Store;

/// Cordial's list-name rules. The error text speaks of letters, numbers and
/// dashes only, yet Cordial's own examples use underscores, so both are allowed
/// (cordial-api.md §3). Names share one namespace with attribute keys.
fn check_name(
    store: &Store,
    name: Option<&Value>,
    except: Option<u64>,
) -> Result<String, ApiError> {
    let name = match name {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(ApiError::unprocessable("The name field is required.")),
    };
    if name.eq_ignore_ascii_case("cid") {
        return Err(ApiError::unprocessable(
            "cid is not allowed for list names.",
        ));
    }
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_chars || name.len() > 128 {
        return Err(ApiError::unprocessable(
            "Name must contain only letters, numbers, and dashes. Should not exceed 128 characters",
        ));
    }
    if store.name_taken(name, except) {
        return Err(ApiError::unprocessable("Name must be unique"));
    }
    Ok(name.clone())
}

fn enhanced(fields: &Map<String, Value>) -> Result<Option<bool>, ApiError> {
    match fields.get("enhanced") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => lenient_bool(v)
            .map(Some)
            .ok_or_else(|| ApiError::unprocessable("The enhanced field must be true or false.")),
    }
}

fn list_id(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

/// `GET /v2/accountlists[?name=]`. A `name` that matches nothing is the
/// Swagger's 404 `RECORD_NOT_FOUND`; an account without lists is `[]`.
pub async fn index(State(app): State<App>, RawQuery(raw): RawQuery) -> Answer {
    let q = query(raw);
    let store = app.store();
    let lists: Vec<Value> = store
        .lists
        .values()
        .filter(|l| q.get("name").is_none_or(|n| &l.name == n))
        .map(|l| l.to_json())
        .collect();
    if q.contains_key("name") && lists.is_empty() {
        return Err(ApiError::record_not_found());
    }
    ok(Value::Array(lists))
}

/// `POST /v2/accountlists` → 200 `{"success":true,"id":<int>}`.
pub async fn create(State(app): State<App>, Extension(body): Extension<ParsedBody>) -> Answer {
    let fields = body.fields()?;
    let mut store = app.store();
    let name = check_name(&store, fields.get("name"), None)?;
    let enhanced = enhanced(&fields)?.unwrap_or(false);
    let id = store.add_list(name, enhanced);
    ok(json!({"success": true, "id": id}))
}

/// `GET /v2/accountlists/{id}`.
pub async fn show(State(app): State<App>, Path(id): Path<String>) -> Answer {
    let store = app.store();
    let list = list_id(&id)
        .and_then(|id| store.lists.get(&id))
        .ok_or_else(ApiError::list_does_not_exist)?;
    ok(list.to_json())
}

/// `GET /v2/accountlists/{id}/count`: the list plus its member count.
pub async fn count(State(app): State<App>, Path(id): Path<String>) -> Answer {
    let store = app.store();
    let list = list_id(&id)
        .and_then(|id| store.lists.get(&id))
        .ok_or_else(ApiError::list_does_not_exist)?;
    let mut v = list.to_json();
    v["count"] = store.list_count(list.id).into();
    ok(v)
}

/// `PUT /v2/accountlists/{id}`: rename or switch `enhanced`. Answers an array
/// holding the updated list, as the Swagger declares (odd, but the only source).
pub async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(body): Extension<ParsedBody>,
) -> Answer {
    let mut store = app.store();
    let id = list_id(&id)
        .filter(|id| store.lists.contains_key(id))
        .ok_or_else(ApiError::list_not_found)?;
    let fields = body.fields()?;
    let name = match fields.get("name") {
        None => None,
        Some(n) => Some(check_name(&store, Some(n), Some(id))?),
    };
    let enhanced = enhanced(&fields)?;
    let Some(list) = store.lists.get_mut(&id) else {
        return Err(ApiError::list_not_found());
    };
    if let Some(name) = name {
        list.name = name;
    }
    if let Some(enhanced) = enhanced {
        list.enhanced = enhanced;
    }
    ok(json!([list.to_json()]))
}

/// `PUT /v2/accountlists/{id}/clear`: removes every member, keeps the list.
pub async fn clear(State(app): State<App>, Path(id): Path<String>) -> Answer {
    let mut store = app.store();
    let id = list_id(&id)
        .filter(|id| store.lists.contains_key(id))
        .ok_or_else(ApiError::list_does_not_exist)?;
    store.clear_list(id);
    ok(json!({"success": true, "id": id}))
}

/// `DELETE /v2/accountlists/{id}`: also drops the list from every contact.
pub async fn destroy(State(app): State<App>, Path(id): Path<String>) -> Answer {
    let mut store = app.store();
    match list_id(&id) {
        Some(id) if store.remove_list(id) => success(),
        _ => Err(ApiError::record_not_found()),
    }
}
