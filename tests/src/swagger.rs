//! Validation of request and response bodies against Cordial's own v2 Swagger
//! (`tests/data/cordial-openapi-v2.json`), so the emulator cannot drift from the
//! documented wire format without a test failing.
//!
//! The Swagger is 2.0, whose schemas are JSON Schema draft 4, with quirks that
//! are repaired before compiling (all of `definitions` is compiled, so one bad
//! schema anywhere would break every check):
//! - some schemas `$ref` a *response object* (`#/responses/AttributeShow`) where a
//!   schema is expected; such refs are rewritten to that response's `schema`;
//! - a few schemas carry `"required": []`, which draft 4 forbids; those are dropped;
//! - a few types are not JSON Schema types: `"string|object"` becomes
//!   `["string","object"]`, `"float"` becomes `"number"`, `"list"` becomes `"array"`;
//! - `"items": "string"` (a type name where a schema belongs) becomes
//!   `"items": {"type": "string"}`.
//!
//! Asking for an operation or status the Swagger does not declare is an error,
//! never a pass, so a typo in a test cannot make it green.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

const SWAGGER_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cordial-openapi-v2.json");

struct Swagger {
    doc: Value,
    /// `definitions` and `responses` with refs rewritten: the document every
    /// checked schema is embedded in, so `#/...` refs resolve against it.
    root: Map<String, Value>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

fn swagger() -> &'static Swagger {
    static SWAGGER: OnceLock<Swagger> = OnceLock::new();
    SWAGGER.get_or_init(|| {
        let text = std::fs::read_to_string(SWAGGER_FILE)
            .unwrap_or_else(|e| panic!("reading {SWAGGER_FILE}: {e}"));
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {SWAGGER_FILE}: {e}"));
        let mut root = Map::new();
        for section in ["definitions", "responses"] {
            let mut v = doc[section].clone();
            fix_schema(&mut v);
            root.insert(section.into(), v);
        }
        // `SourceObject` requires `url` and `path` together, though `url` belongs to HTTP(S)
        // sources and `path` to (S)FTP ones (cordial-api.md §5.1): only `transport` is
        // required of every source.
        if let Some(required) = root
            .get_mut("definitions")
            .and_then(|d| d.pointer_mut("/SourceObject/required"))
        {
            *required = json!(["transport"]);
        }
        Swagger {
            doc,
            root,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// Repairs the Swagger's quirks (see the module docs) recursively. Examples
/// are data, not schemas, and are left alone.
fn fix_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/responses/")
                && !name.contains('/')
            {
                *r = format!("#/responses/{name}/schema");
            }
            if map
                .get("required")
                .is_some_and(|r| r.as_array().is_some_and(Vec::is_empty))
            {
                map.remove("required");
            }
            if let Some(Value::String(t)) = map.get("type") {
                let mut types: Vec<Value> = t
                    .split('|')
                    .map(|t| match t {
                        "float" | "double" => "number",
                        "list" => "array",
                        t => t,
                    })
                    .map(|t| Value::String(t.into()))
                    .collect();
                let fixed = if types.len() == 1 {
                    types.remove(0)
                } else {
                    Value::Array(types)
                };
                map.insert("type".into(), fixed);
            }
            if let Some(Value::String(t)) = map.get("items") {
                let schema = json!({"type": t});
                map.insert("items".into(), schema);
            }
            for (key, value) in map.iter_mut() {
                if key != "example" && key != "examples" {
                    fix_schema(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fix_schema),
        _ => {}
    }
}

fn operation(method: &str, path_template: &str) -> Result<&'static Value, String> {
    let paths = &swagger().doc["paths"];
    let item = paths
        .get(path_template)
        .ok_or_else(|| format!("the Swagger has no path {path_template:?}"))?;
    item.get(method.to_ascii_lowercase()).ok_or_else(|| {
        let declared: Vec<&String> = item
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        format!("the Swagger has no {method} {path_template} (it declares {declared:?})")
    })
}

/// The schema of an operation's response for `status`; `None` when the Swagger
/// declares the status without a body schema.
fn response_schema(
    method: &str,
    path_template: &str,
    status: u16,
) -> Result<Option<Value>, String> {
    let op = operation(method, path_template)?;
    let responses = &op["responses"];
    let mut response = responses.get(status.to_string()).ok_or_else(|| {
        let declared: Vec<&String> = responses
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        format!("{method} {path_template} declares no {status} response (it declares {declared:?})")
    })?;
    // A response-level `$ref` names a shared response object, not a schema.
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/responses/")
            .ok_or_else(|| format!("unexpected response $ref {r:?}"))?;
        response = swagger().doc["responses"]
            .get(name)
            .ok_or_else(|| format!("the Swagger has no shared response {name:?}"))?;
    }
    Ok(response.get("schema").cloned())
}

fn request_schema(method: &str, path_template: &str) -> Result<Value, String> {
    let op = operation(method, path_template)?;
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["in"] == "body")
        .and_then(|p| p.get("schema").cloned())
        .ok_or_else(|| format!("{method} {path_template} declares no request body"))
}

fn validate(schema: Value, body: &Value) -> Result<(), String> {
    let sw = swagger();
    let mut schema = schema;
    fix_schema(&mut schema);
    let key = schema.to_string();
    let validator = {
        let mut cache = sw.validators.lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(&key) {
            Some(v) => v.clone(),
            None => {
                let mut root = sw.root.clone();
                root.insert("allOf".into(), json!([schema]));
                // Formats are not checked: Swagger 2.0 uses them as hints, and
                // Cordial's own `+0000` timestamps are not RFC 3339 `date-time`.
                let v = jsonschema::draft4::options()
                    .should_validate_formats(false)
                    .build(&Value::Object(root))
                    .map_err(|e| format!("the Swagger schema does not compile: {e}"))?;
                let v = Arc::new(v);
                cache.insert(key, v.clone());
                v
            }
        }
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} (at {:?})", e.instance_path().to_string()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{} in {body}", errors.join("; ")))
    }
}

/// Checks a request body against the operation's `in: body` parameter schema.
pub fn validate_request_body(
    method: &str,
    path_template: &str,
    body: &Value,
) -> Result<(), String> {
    validate(request_schema(method, path_template)?, body)
        .map_err(|e| format!("{method} {path_template} request: {e}"))
}

/// Checks a response body against the schema the operation declares for
/// `status`. An undeclared operation or status is an error.
pub fn validate_response(
    method: &str,
    path_template: &str,
    status: u16,
    body: &Value,
) -> Result<(), String> {
    match response_schema(method, path_template, status)? {
        Some(schema) => validate(schema, body)
            .map_err(|e| format!("{method} {path_template} {status} response: {e}")),
        None => Ok(()),
    }
}

/// Checks a body against `#/definitions/{name}`, for answers the Swagger
/// defines but does not attach to the operation (401 and 415 on most paths,
/// the 200 of an upserting `POST /v2/contacts`).
pub fn validate_definition(name: &str, body: &Value) -> Result<(), String> {
    if swagger().doc["definitions"].get(name).is_none() {
        return Err(format!("the Swagger has no definition {name:?}"));
    }
    validate(json!({"$ref": format!("#/definitions/{name}")}), body)
        .map_err(|e| format!("definition {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_valid_and_rejects_an_invalid_response() {
        let created = json!({"success": true, "message": "contact created", "cID": "604f30256a44206b3f8d086e"});
        validate_response("POST", "/v2/contacts", 201, &created).unwrap();
        let wrong = json!({"success": "yes", "message": "contact created"});
        let err = validate_response("POST", "/v2/contacts", 201, &wrong).unwrap_err();
        assert!(err.contains("cID"), "{err}");
    }

    #[test]
    fn follows_response_refs_inside_schemas() {
        // `items: {"$ref": "#/responses/AttributeShow"}` points at a response object.
        let ok = json!([{"key": "age", "name": "Age", "type": "number", "index": false}]);
        validate_response("GET", "/v2/accountcontactattributes", 200, &ok).unwrap();
        let bad = json!([{"key": 5, "name": "Age", "type": "number"}]);
        assert!(validate_response("GET", "/v2/accountcontactattributes", 200, &bad).is_err());
        // And a response-level `$ref` beside a description.
        validate_response("GET", "/v2/accountcontactattributes/{key}", 200, &ok[0]).unwrap();
        assert!(
            validate_response("GET", "/v2/accountcontactattributes/{key}", 200, &bad[0]).is_err()
        );
    }

    #[test]
    fn validates_request_bodies() {
        let ok = json!({"channels": {"email": {"address": "a@example.com"}}, "first_name": "A"});
        validate_request_body("POST", "/v2/contacts", &ok).unwrap();
        let bad = json!({"first_name": "A"});
        assert!(validate_request_body("POST", "/v2/contacts", &bad).is_err());
    }

    #[test]
    fn undeclared_operations_and_statuses_fail_loudly() {
        let body = json!({"success": true});
        assert!(validate_response("POST", "/v2/contact", 201, &body).is_err());
        assert!(validate_response("PATCH", "/v2/contacts", 201, &body).is_err());
        let err = validate_response("POST", "/v2/contacts", 299, &body).unwrap_err();
        assert!(err.contains("declares no 299"), "{err}");
        assert!(validate_request_body("GET", "/v2/contacts", &body).is_err());
        assert!(validate_definition("NoSuchThing", &body).is_err());
    }

    #[test]
    fn contact_errors_need_a_message_beside_messages() {
        // The Swagger's ContactError requires `message`; the recorded v1 422 has
        // only `messages`, so the emulator sends both.
        let recorded = json!({"error": true, "errorKey": "GENERIC_ERROR_KEY",
            "messages": {"validationErrors": {"k": ["key k is not part of the schema for this resource"]}}});
        assert!(validate_response("POST", "/v2/contacts", 422, &recorded).is_err());
        let mut sent = recorded.clone();
        sent["message"] = json!("key k is not part of the schema for this resource");
        validate_response("POST", "/v2/contacts", 422, &sent).unwrap();
    }

    #[test]
    fn checks_named_definitions() {
        validate_definition(
            "AuthenticationFailed",
            &json!({"error": "Access Denied: Authentication Failure"}),
        )
        .unwrap();
        assert!(validate_definition("AuthenticationFailed", &json!({"error": true})).is_err());
    }
}
