//! `/v2/accountcontactattributes`: the contact attribute schema.
//!
//! `GET` answers an array, as the Swagger declares, not the object keyed by
//! attribute key that one client assumes (cordial-api.md §4 conflict).

use axum::extract::{Extension, Path, RawQuery, State};
use serde_json::{Map, Value};

use crate::account::values::lenient_bool;
use crate::config::AttributeType;
use crate::http::answer::{Answer, ok, success};
use crate::http::app::App;
use crate::http::errors::ApiError;
use crate::http::pipeline::ParsedBody;
use crate::http::query::query;
use crate::model::store::{Attribute, Store};
use crate::time;

/// The answer for a key that does not exist on GET and PUT: the Swagger
/// declares only 200/401/422 there, with "Key not exist" among its messages.
fn key_not_exist() -> ApiError {
    ApiError::unprocessable("Key not exist")
}

fn parse_type(v: &Value) -> Result<AttributeType, ApiError> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::unprocessable("invalid field type"))
}

fn required_string<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::unprocessable(format!(
            "The {name} field is required."
        ))),
    }
}

fn name_taken(store: &Store, name: &str, except_key: Option<&str>) -> bool {
    store
        .attributes
        .iter()
        .any(|a| a.name == name && Some(a.key.as_str()) != except_key)
}

/// Applies the optional settings shared by POST and PUT.
fn apply_settings(attr: &mut Attribute, fields: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(v) = fields.get("index") {
        attr.index = lenient_bool(v)
            .ok_or_else(|| ApiError::unprocessable("The index field must be true or false."))?;
    }
    if let Some(v) = fields.get("updateUnauthenticated") {
        attr.update_unauthenticated = lenient_bool(v).ok_or_else(|| {
            ApiError::unprocessable("The updateUnauthenticated field must be true or false.")
        })?;
    }
    // The Swagger types `validators` as an object on POST but as a string on PUT,
    // so a JSON-encoded object in a string is accepted as well.
    if let Some(v) = fields.get("validators") {
        attr.validators = match v {
            Value::Object(m) => m.clone(),
            Value::String(s) => match serde_json::from_str(s) {
                Ok(Value::Object(m)) => m,
                _ => return Err(ApiError::unprocessable("The validators must be an object.")),
            },
            Value::Null => Map::new(),
            _ => return Err(ApiError::unprocessable("The validators must be an object.")),
        };
    }
    if let Some(v) = fields.get("options") {
        attr.options = match v {
            Value::Object(m) => m.clone(),
            Value::Null => Map::new(),
            _ => return Err(ApiError::unprocessable("The options must be an object.")),
        };
    }
    if let Some(v) = fields.get("retainOnDestroy") {
        attr.retain_on_destroy = match v {
            Value::Null => None,
            Value::String(s) if ["anonymized", "unchanged", "null", ""].contains(&s.as_str()) => {
                Some(s.clone())
            }
            _ => {
                return Err(ApiError::unprocessable(
                    "The selected retainOnDestroy is invalid.",
                ));
            }
        };
    }
    Ok(())
}

/// `GET /v2/accountcontactattributes[?type=&indexed=]`. A filter that matches
/// nothing is the Swagger's 404; an unfiltered empty schema is `[]`.
pub async fn index(State(app): State<App>, RawQuery(raw): RawQuery) -> Answer {
    let q = query(raw);
    let r#type = match q.get("type") {
        Some(t) => Some(parse_type(&Value::String(t.clone()))?),
        None => None,
    };
    let indexed = match q.get("indexed").map(String::as_str) {
        None => None,
        Some("1") => Some(true),
        Some("0") => Some(false),
        Some(_) => return Err(ApiError::unprocessable("The selected indexed is invalid.")),
    };
    let store = app.store();
    let found: Vec<Value> = store
        .attributes
        .iter()
        .filter(|a| r#type.is_none_or(|t| a.r#type == t))
        .filter(|a| indexed.is_none_or(|i| a.index == i))
        .map(Attribute::to_json)
        .collect();
    if found.is_empty() && (r#type.is_some() || indexed.is_some()) {
        return Err(ApiError::record_not_found());
    }
    ok(Value::Array(found))
}

/// `POST /v2/accountcontactattributes`: `key`, `name` and `type` are required;
/// keys share a namespace with list names.
pub async fn create(State(app): State<App>, Extension(body): Extension<ParsedBody>) -> Answer {
    let fields = body.fields()?;
    let key = required_string(&fields, "key")?;
    let name = required_string(&fields, "name")?;
    if !fields.contains_key("type") {
        return Err(ApiError::unprocessable("The type field is required."));
    }
    let r#type = parse_type(&fields["type"])?;
    let valid_key = key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_key {
        return Err(ApiError::unprocessable(
            "Key must contain only letters, numbers, dashes and underscores. Should not exceed 128 characters",
        ));
    }
    let mut store = app.store();
    if store.name_taken(key, None) {
        return Err(ApiError::unprocessable("Key must be unique"));
    }
    if name_taken(&store, name, None) {
        return Err(ApiError::unprocessable("Name must be unique"));
    }
    let mut attr = Attribute::new(key.into(), name.into(), r#type, time::now());
    apply_settings(&mut attr, &fields)?;
    store.attributes.push(attr);
    success()
}

/// `GET /v2/accountcontactattributes/{key}`.
pub async fn show(State(app): State<App>, Path(key): Path<String>) -> Answer {
    let store = app.store();
    let attr = store.attribute(&key).ok_or_else(key_not_exist)?;
    ok(attr.to_json())
}

/// `PUT /v2/accountcontactattributes/{key}`: the type is fixed once created.
pub async fn update(
    State(app): State<App>,
    Path(key): Path<String>,
    Extension(body): Extension<ParsedBody>,
) -> Answer {
    let fields = body.fields()?;
    let mut store = app.store();
    let current = store.attribute(&key).ok_or_else(key_not_exist)?.r#type;
    if let Some(t) = fields.get("type")
        && parse_type(t)? != current
    {
        return Err(ApiError::unprocessable("You can not change type"));
    }
    let name = match fields.get("name") {
        None => None,
        Some(Value::String(n)) if !n.trim().is_empty() => {
            if name_taken(&store, n, Some(&key)) {
                return Err(ApiError::unprocessable("Name must be unique"));
            }
            Some(n.clone())
        }
        Some(_) => return Err(ApiError::unprocessable("The name must be a string.")),
    };
    let Some(attr) = store.attribute_mut(&key) else {
        return Err(key_not_exist());
    };
    let mut updated = attr.clone();
    apply_settings(&mut updated, &fields)?;
    if let Some(name) = name {
        updated.name = name;
    }
    updated.modified = time::now();
    *attr = updated;
    success()
}

/// `DELETE /v2/accountcontactattributes/{key}`: also drops the values on contacts.
pub async fn destroy(State(app): State<App>, Path(key): Path<String>) -> Answer {
    if app.store().remove_attribute(&key) {
        success()
    } else {
        Err(ApiError::record_not_found())
    }
}
