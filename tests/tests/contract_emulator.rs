//! The Cordial emulator against Cordial's v2 Swagger and its documented
//! behaviour, over real HTTP on loopback.
//!
//! Every test starts its own emulator on a free port, so tests run in parallel
//! without sharing state. Response bodies are checked with the Swagger schema of
//! the operation and status; statuses the Swagger leaves out are checked against
//! the named definition Cordial uses for them elsewhere.

use std::time::{Duration, Instant};

use cordial_e2e::swagger;
use cordial_emulator::{EmulatorConfig, EmulatorHandle, Fault, RunningEmulator, Seed, start};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

const KEY: &str = "contract-key";

// The operations' path templates, as the Swagger names them.
const CONTACTS: &str = "/v2/contacts";
const CONTACT: &str = "/v2/contacts/{primary_key}";
const UNSUBSCRIBE: &str = "/v2/contacts/{primary_key}/unsubscribe/{channel}";
const LISTS: &str = "/v2/accountlists";
const LIST: &str = "/v2/accountlists/{id}";
const LIST_COUNT: &str = "/v2/accountlists/{id}/count";
const LIST_CLEAR: &str = "/v2/accountlists/{id}/clear";
const ATTRIBUTES: &str = "/v2/accountcontactattributes";
const ATTRIBUTE: &str = "/v2/accountcontactattributes/{key}";

struct Reply {
    /// `METHOD path`, for failure messages.
    request: String,
    status: u16,
    headers: HeaderMap,
    body: Value,
}

struct Api {
    base: String,
    http: reqwest::Client,
    emulator: RunningEmulator,
}

impl Api {
    async fn start(seed: Seed) -> Self {
        let emulator = start(EmulatorConfig {
            api_key: KEY.into(),
            seed,
            ..Default::default()
        })
        .await
        .expect("emulator starts");
        Self {
            base: emulator.base_url(),
            http: cordial_e2e::http::client(),
            emulator,
        }
    }

    fn handle(&self) -> EmulatorHandle {
        self.emulator.handle()
    }

    /// Sends a request with the given key (None: no Authorization header) and
    /// raw body; a non-JSON answer comes back as a JSON string.
    async fn raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let request = format!("{method} {path}");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.basic_auth(key, Some(""));
        }
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        let resp = req.body(body).send().await.expect("request is answered");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body is read");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply {
            request,
            status,
            headers,
            body,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        match body {
            Some(b) => {
                let bytes = serde_json::to_vec(&b).unwrap();
                self.raw(method, path, Some(KEY), Some("application/json"), bytes)
                    .await
            }
            None => self.raw(method, path, Some(KEY), None, Vec::new()).await,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    async fn unauthorized(&self, method: Method, path: &str) -> Reply {
        self.raw(
            method,
            path,
            Some("wrong-key"),
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await
    }

    /// Sends `method path` (with `body`, if any) and checks the answer against the Swagger:
    /// `status`, and the body `method template` declares for it.
    async fn check(
        &self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) {
        let reply = self
            .call(Method::try_from(method).unwrap(), path, body)
            .await;
        contract(method, template, &reply, status);
    }

    /// Sends `method path` with a wrong key and checks the 401 against the Swagger.
    async fn refused(&self, method: &str, template: &str, path: &str) {
        let reply = self
            .unauthorized(Method::try_from(method).unwrap(), path)
            .await;
        contract(method, template, &reply, 401);
    }

    /// Posts `body` to `POST /v2/contacts` with the key, as `content_type`.
    async fn post_contacts_as(&self, content_type: &str, body: &[u8]) -> Reply {
        let key = Some(KEY);
        self.raw(
            Method::POST,
            CONTACTS,
            key,
            Some(content_type),
            body.to_vec(),
        )
        .await
    }

    /// Creates a contact and returns its cID.
    async fn contact(&self, body: Value) -> String {
        let r = self.post("/v2/contacts", body).await;
        assert!(
            r.status == 201 || r.status == 200,
            "{} {}",
            r.status,
            r.body
        );
        r.body["cID"].as_str().expect("cID").to_owned()
    }

    async fn list(&self, name: &str, enhanced: bool) -> u64 {
        let r = self
            .post(
                "/v2/accountlists",
                json!({"name": name, "enhanced": enhanced}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["id"].as_u64().expect("integer list id")
    }
}

/// Asserts the status, then that the body matches the Swagger for it.
#[track_caller]
fn contract(method: &str, template: &str, reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}: {}", reply.request, reply.body);
    if let Err(e) = swagger::validate_response(method, template, status, &reply.body) {
        panic!("{}: {e}", reply.request);
    }
}

/// Asserts the status, then that the body matches `#/definitions/{definition}`.
#[track_caller]
fn matches_definition(reply: &Reply, status: u16, definition: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    if let Err(e) = swagger::validate_definition(definition, &reply.body) {
        panic!("{e}");
    }
}

/// A request body the tests send must itself be valid per the Swagger.
#[track_caller]
fn valid_request(method: &str, template: &str, body: &Value) -> Value {
    if let Err(e) = swagger::validate_request_body(method, template, body) {
        panic!("{e}");
    }
    body.clone()
}

fn jane() -> Value {
    json!({"channels": {"email": {"address": "jane@example.com"}}})
}

/// `2024-07-12T09:58:14+0000`: no colon in the offset, no fraction.
fn is_cordial_timestamp(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 24
        && s.ends_with("+0000")
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b.iter()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit())
}

// ---- contract: every endpoint, every status it returns -------------------

#[tokio::test]
async fn contacts_endpoints_match_the_swagger() {
    let api = Api::start(Seed::demo()).await;
    let jane = "/v2/contacts/jane@example.com";
    let nobody = "/v2/contacts/email:nobody@example.com";

    let body = valid_request(
        "POST",
        CONTACTS,
        &json!({"channels": {"email": {"address": "jane@example.com", "subscribeStatus": "subscribed"}},
                "first_name": "Jane", "newsletter": true}),
    );
    api.check("POST", CONTACTS, CONTACTS, Some(body.clone()), 201)
        .await;
    // The Swagger declares only 201 for POST; an upsert of an existing contact
    // answers 200 with the same shape (recorded on v1).
    matches_definition(&api.post(CONTACTS, body).await, 200, "ContactCreated");
    let unknown_attribute = json!({"nickname": "J"});
    api.check("POST", CONTACTS, CONTACTS, Some(unknown_attribute), 422)
        .await;

    for (path, status) in [
        (CONTACTS, 200),
        ("/v2/contacts?email=jane%40example.com", 200),
        ("/v2/contacts?email=nobody%40example.com", 404),
    ] {
        api.check("GET", CONTACTS, path, None, status).await;
    }
    api.check("GET", CONTACT, jane, None, 200).await;
    api.check("GET", CONTACT, nobody, None, 404).await;

    let update = valid_request(
        "PUT",
        CONTACT,
        &json!({"channels": {"email": {"address": "jane@example.com"}}, "last_name": "Doe"}),
    );
    api.check("PUT", CONTACT, jane, Some(update.clone()), 200)
        .await;
    api.check("PUT", CONTACT, nobody, Some(update), 404).await;
    api.check("PUT", CONTACT, jane, Some(json!({"age": "old"})), 422)
        .await;

    for (path, status) in [
        ("/v2/contacts/jane@example.com/unsubscribe/email", 200),
        ("/v2/contacts/nobody@example.com/unsubscribe/email", 404),
        ("/v2/contacts/jane@example.com/unsubscribe/pigeon", 422),
    ] {
        api.check("PUT", UNSUBSCRIBE, path, None, status).await;
    }

    api.check("DELETE", CONTACT, jane, None, 200).await;
    api.check("DELETE", CONTACT, jane, None, 404).await;

    // The Swagger attaches 401 to no contacts operation; the body is its AuthenticationFailed.
    matches_definition(
        &api.unauthorized(Method::POST, CONTACTS).await,
        401,
        "AuthenticationFailed",
    );
}

#[tokio::test]
async fn list_endpoints_match_the_swagger() {
    let api = Api::start(Seed::default()).await;

    let body = valid_request(
        "POST",
        LISTS,
        &json!({"name": "safe_drivers", "enhanced": true}),
    );
    let created = api.post(LISTS, body.clone()).await;
    contract("POST", LISTS, &created, 200);
    let id = created.body["id"].as_u64().unwrap();
    let list = format!("/v2/accountlists/{id}");
    api.check("POST", LISTS, LISTS, Some(body), 422).await;
    api.refused("POST", LISTS, LISTS).await;

    for (path, status) in [
        (LISTS, 200),
        ("/v2/accountlists?name=safe_drivers", 200),
        ("/v2/accountlists?name=nope", 404),
    ] {
        api.check("GET", LISTS, path, None, status).await;
    }
    api.refused("GET", LISTS, LISTS).await;

    api.check("GET", LIST, &list, None, 200).await;
    api.check("GET", LIST, "/v2/accountlists/999", None, 404)
        .await;
    api.check("GET", LIST_COUNT, &format!("{list}/count"), None, 200)
        .await;
    api.check("GET", LIST_COUNT, "/v2/accountlists/999/count", None, 404)
        .await;

    let rename = valid_request("PUT", LIST, &json!({"name": "careful_drivers"}));
    api.check("PUT", LIST, &list, Some(rename.clone()), 200)
        .await;
    api.check("PUT", LIST, "/v2/accountlists/999", Some(rename), 404)
        .await;
    let bad_name = json!({"name": "bad name!"});
    api.check("PUT", LIST, &list, Some(bad_name), 422).await;

    let clear_path = format!("{list}/clear");
    api.check("PUT", LIST_CLEAR, &clear_path, None, 200).await;
    api.check("PUT", LIST_CLEAR, "/v2/accountlists/999/clear", None, 404)
        .await;
    api.refused("PUT", LIST_CLEAR, &clear_path).await;

    api.refused("DELETE", LIST, &list).await;
    api.check("DELETE", LIST, &list, None, 200).await;
    api.check("DELETE", LIST, &list, None, 404).await;
}

#[tokio::test]
async fn attribute_endpoints_match_the_swagger() {
    let api = Api::start(Seed::demo()).await;
    let points = "/v2/accountcontactattributes/points";

    let body = valid_request(
        "POST",
        ATTRIBUTES,
        &json!({"key": "points", "name": "Points", "type": "number", "index": true,
                "validators": {"min": 0, "max": 1000}, "retainOnDestroy": "anonymized"}),
    );
    api.check("POST", ATTRIBUTES, ATTRIBUTES, Some(body.clone()), 200)
        .await;
    api.check("POST", ATTRIBUTES, ATTRIBUTES, Some(body), 422)
        .await;
    api.refused("POST", ATTRIBUTES, ATTRIBUTES).await;

    let listed = api.get(ATTRIBUTES).await;
    contract("GET", ATTRIBUTES, &listed, 200);
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(7),
        "{}",
        listed.body
    );
    for (path, status) in [
        ("/v2/accountcontactattributes?type=geo", 200),
        ("/v2/accountcontactattributes?indexed=1", 200),
        ("/v2/accountcontactattributes?type=blob", 422),
    ] {
        api.check("GET", ATTRIBUTES, path, None, status).await;
    }
    api.refused("GET", ATTRIBUTES, ATTRIBUTES).await;
    let empty = Api::start(Seed::default()).await;
    let geo = "/v2/accountcontactattributes?type=geo";
    empty.check("GET", ATTRIBUTES, geo, None, 404).await;

    api.check("GET", ATTRIBUTE, points, None, 200).await;
    api.check(
        "GET",
        ATTRIBUTE,
        "/v2/accountcontactattributes/nope",
        None,
        422,
    )
    .await;
    api.refused("GET", ATTRIBUTE, points).await;

    let update = valid_request(
        "PUT",
        ATTRIBUTE,
        &json!({"name": "Loyalty points", "updateUnauthenticated": true}),
    );
    api.check("PUT", ATTRIBUTE, points, Some(update), 200).await;
    let retype = json!({"type": "string"});
    api.check("PUT", ATTRIBUTE, points, Some(retype), 422).await;
    api.refused("PUT", ATTRIBUTE, points).await;

    api.check("DELETE", ATTRIBUTE, points, None, 200).await;
    api.check("DELETE", ATTRIBUTE, points, None, 404).await;
}

// ---- behaviour ------------------------------------------------------------

#[tokio::test]
async fn post_upserts_201_then_200_with_the_same_cid() {
    let api = Api::start(Seed::demo()).await;
    let first = api.post(CONTACTS, jane()).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.body["message"], "contact created");
    let cid = first.body["cID"].as_str().unwrap().to_owned();
    assert!(
        cid.len() == 24 && cid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{cid}"
    );

    let again = api
        .post(
            CONTACTS,
            json!({"channels": {"email": {"address": "JANE@Example.com"}}, "first_name": "Jane"}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body,
        json!({"success": true, "message": "contact updated", "cID": cid})
    );
    assert_eq!(api.handle().contact_count(), 1);
    assert_eq!(
        api.handle().contact(&cid).unwrap()["attributes"]["first_name"],
        "Jane"
    );
}

#[tokio::test]
async fn contacts_are_found_by_cid_email_and_key_value() {
    let api = Api::start(Seed::demo()).await;
    let cid = api.contact(jane()).await;
    for path in [
        format!("/v2/contacts/{cid}"),
        "/v2/contacts/jane@example.com".into(),
        "/v2/contacts/jane%40example.com".into(),
        "/v2/contacts/email:jane@example.com".into(),
        "/v2/contacts/email%3Ajane%40example.com".into(),
    ] {
        let r = api.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.body["_id"], cid.as_str(), "{path}");
        assert_eq!(r.body["attributes"]["cID"], cid.as_str(), "{path}");
        assert_eq!(r.body["channels"]["email"]["address"], "jane@example.com");
    }
    let listed = api.get("/v2/contacts?email=jane%40example.com").await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(
        api.handle().contact("email:jane@example.com").unwrap()["_id"],
        cid.as_str()
    );
    assert!(api.handle().contact("email:john@example.com").is_none());
}

#[tokio::test]
async fn get_contact_has_the_v2_shape_with_cordial_timestamps() {
    let api = Api::start(Seed::demo()).await;
    api.contact(json!({
        "channels": {"email": {"address": "jane@example.com", "subscribeStatus": "subscribed"}},
        "first_name": "Jane", "age": 33, "birthday": "1990-05-01",
        "interests": ["hiking"], "address.city": "San Diego"
    }))
    .await;
    let c = api.get("/v2/contacts/jane@example.com").await.body;
    let attrs = &c["attributes"];
    assert_eq!(attrs["first_name"], "Jane");
    assert_eq!(attrs["age"], 33);
    assert_eq!(attrs["birthday"], "1990-05-01T00:00:00+0000");
    assert_eq!(attrs["interests"], json!(["hiking"]));
    assert_eq!(attrs["address"], json!({"city": "San Diego"}));
    assert_eq!(attrs["lastUpdateSource"], "api");
    for t in [
        &attrs["createdAt"],
        &attrs["lastModified"],
        &c["channels"]["email"]["subscribedAt"],
    ] {
        assert!(is_cordial_timestamp(t), "{t}");
    }
    assert!(c.get("first_name").is_none(), "attributes are nested: {c}");
    assert_eq!(c["lists"], json!([]));
}

#[tokio::test]
async fn the_nested_attributes_form_is_accepted() {
    let api = Api::start(Seed::demo()).await;
    api.contact(jane()).await;
    let r = api
        .put(
            "/v2/contacts/email:jane@example.com",
            json!({"channels": {"email": {"address": "jane@example.com"}}, "attributes": {"last_name": "Doe"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"success": true}));
    assert_eq!(
        api.handle().contact("jane@example.com").unwrap()["attributes"]["last_name"],
        "Doe"
    );
}

#[tokio::test]
async fn unknown_attribute_is_422_and_nothing_is_written() {
    let api = Api::start(Seed::demo()).await;
    let r = api
        .post(
            CONTACTS,
            json!({"channels": {"email": {"address": "jane@example.com"}}, "nickname": "JJ", "first_name": "Jane"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["error"], true);
    assert_eq!(r.body["errorKey"], "GENERIC_ERROR_KEY");
    assert_eq!(
        r.body["messages"],
        json!({"validationErrors": {"nickname": ["key nickname is not part of the schema for this resource"]}})
    );
    assert_eq!(api.handle().contact_count(), 0);
}

#[tokio::test]
async fn attribute_values_are_checked_against_their_type() {
    let api = Api::start(Seed::demo()).await;
    for (key, value, message) in [
        ("age", json!("old"), "The age must be a number."),
        (
            "birthday",
            json!("someday"),
            "The birthday is not a valid date.",
        ),
        ("first_name", json!(7), "The first_name must be a string."),
        (
            "interests",
            json!("hiking"),
            "The interests must be an array.",
        ),
        (
            "address",
            json!("Main St"),
            "The address must be an object of address fields.",
        ),
    ] {
        let mut body = jane();
        body[key] = value;
        let r = api.post(CONTACTS, body).await;
        assert_eq!(r.status, 422, "{key}: {}", r.body);
        assert_eq!(
            r.body["messages"]["validationErrors"][key],
            json!([message]),
            "{key}"
        );
    }
    assert_eq!(api.handle().contact_count(), 0);
}

#[tokio::test]
async fn list_membership_follows_true_and_false_with_join_dates() {
    let api = Api::start(Seed::demo()).await;
    let plain = api.list("weekly_specials", false).await;
    api.contact(json!({"channels": {"email": {"address": "jane@example.com"}}, "newsletter": true, "weekly_specials": true}))
        .await;
    let c = api.get("/v2/contacts/jane@example.com").await.body;
    assert_eq!(c["lists"], json!(["newsletter", "weekly_specials"]));
    // Only the enhanced list (the seeded `newsletter`) records a join date.
    let joined = c["listJoinDate"].as_object().expect("listJoinDate");
    assert_eq!(joined.keys().collect::<Vec<_>>(), vec!["newsletter"]);
    assert!(is_cordial_timestamp(&joined["newsletter"]));
    let count = api.get(&format!("/v2/accountlists/{plain}/count")).await;
    assert_eq!(count.body["count"], 1);

    let r = api
        .put(
            "/v2/contacts/jane@example.com",
            json!({"newsletter": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = api.handle().contact("jane@example.com").unwrap();
    assert_eq!(c["lists"], json!(["weekly_specials"]));
    assert!(c.get("listJoinDate").is_none(), "{c}");

    let unknown = api
        .put("/v2/contacts/jane@example.com", json!({"vip": true}))
        .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        unknown.body["messages"]["validationErrors"]["vip"],
        json!(["key vip is not part of the schema for this resource"])
    );
}

#[tokio::test]
async fn clearing_and_deleting_a_list_drops_members() {
    let api = Api::start(Seed::demo()).await;
    let id = api.list("vip", true).await;
    api.contact(json!({"channels": {"email": {"address": "jane@example.com"}}, "vip": true}))
        .await;
    let cleared = api
        .call(Method::PUT, &format!("/v2/accountlists/{id}/clear"), None)
        .await;
    assert_eq!(cleared.body, json!({"success": true, "id": id}));
    assert_eq!(
        api.get(&format!("/v2/accountlists/{id}/count")).await.body["count"],
        0
    );
    assert!(api.handle().contact("jane@example.com").unwrap()["lists"] == json!([]));

    api.put("/v2/contacts/jane@example.com", json!({"vip": true}))
        .await;
    assert_eq!(
        api.delete(&format!("/v2/accountlists/{id}")).await.status,
        200
    );
    assert_eq!(
        api.handle().contact("jane@example.com").unwrap()["lists"],
        json!([])
    );
    assert!(!api.handle().lists().iter().any(|l| l["name"] == "vip"));
}

#[tokio::test]
async fn subscribe_status_defaults_to_none_and_unsubscribe_is_sticky() {
    let api = Api::start(Seed::demo()).await;
    api.contact(jane()).await;
    let status = |api: &Api| {
        let c = api.handle().contact("jane@example.com").unwrap();
        c["channels"]["email"].clone()
    };
    assert_eq!(status(&api)["subscribeStatus"], "none");

    let set = |s: &str| json!({"channels": {"email": {"address": "jane@example.com", "subscribeStatus": s}}});
    api.put("/v2/contacts/jane@example.com", set("subscribed"))
        .await;
    assert_eq!(status(&api)["subscribeStatus"], "subscribed");
    assert!(is_cordial_timestamp(&status(&api)["subscribedAt"]));

    api.put("/v2/contacts/jane@example.com", set("unsubscribed"))
        .await;
    let email = status(&api);
    assert_eq!(email["subscribeStatus"], "unsubscribed");
    assert!(is_cordial_timestamp(&email["unsubscribedAt"]));
    assert!(email.get("subscribedAt").is_none(), "{email}");

    // Without forceSubscribe the request is accepted but the status stays.
    let r = api.post(CONTACTS, set("subscribed")).await;
    assert_eq!(r.status, 200);
    assert_eq!(status(&api)["subscribeStatus"], "unsubscribed");

    let mut forced = set("subscribed");
    forced["forceSubscribe"] = json!(true);
    api.put("/v2/contacts/jane@example.com", forced).await;
    assert_eq!(status(&api)["subscribeStatus"], "subscribed");
}

#[tokio::test]
async fn put_on_a_missing_contact_is_404_contacts_contact_not_found() {
    let api = Api::start(Seed::demo()).await;
    let r = api
        .put(
            "/v2/contacts/email:ghost@example.com",
            json!({"first_name": "G"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": true, "errorKey": "CONTACTS_CONTACT_NOT_FOUND", "message": "record not found"})
    );
    assert_eq!(api.handle().contact_count(), 0, "PUT must not create");
    let g = api.get("/v2/contacts/ghost@example.com").await;
    assert_eq!(g.body["errorKey"], "RECORD_NOT_FOUND");
}

#[tokio::test]
async fn contacts_are_paged_over_bare_arrays() {
    let api = Api::start(Seed::demo()).await;
    for i in 0..5 {
        api.contact(json!({"channels": {"email": {"address": format!("p{i}@example.com")}}}))
            .await;
    }
    let mut seen = Vec::new();
    for page in 1..=4 {
        let r = api
            .get(&format!("/v2/contacts?page={page}&per_page=2"))
            .await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("link").is_none() && r.headers.get("x-total-count").is_none());
        let items = r.body.as_array().expect("a bare array").clone();
        assert_eq!(items.len(), [2, 2, 1, 0][page - 1], "page {page}");
        seen.extend(
            items
                .iter()
                .map(|c| c["channels"]["email"]["address"].clone()),
        );
    }
    assert_eq!(
        seen,
        (0..5)
            .map(|i| json!(format!("p{i}@example.com")))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn list_names_are_unique_and_validated() {
    let api = Api::start(Seed::demo()).await;
    for (name, message) in [
        ("newsletter", "Name must be unique"),
        ("first_name", "Name must be unique"),
        ("CID", "cid is not allowed for list names."),
        (
            "no spaces",
            "Name must contain only letters, numbers, and dashes. Should not exceed 128 characters",
        ),
    ] {
        let r = api.post("/v2/accountlists", json!({"name": name})).await;
        assert_eq!(r.status, 422, "{name}");
        assert_eq!(
            r.body,
            json!({"error": true, "errorKey": "GENERIC_ERROR_KEY", "message": message})
        );
    }
    let id = api.list("monthly-news_2", false).await;
    assert_eq!(
        api.get("/v2/accountlists?name=monthly-news_2").await.body,
        json!([{"id": id, "name": "monthly-news_2", "enhanced": false}])
    );
    assert_eq!(api.handle().lists().len(), 2);
}

#[tokio::test]
async fn attribute_keys_are_unique_and_types_fixed() {
    let api = Api::start(Seed::demo()).await;
    let attributes = "/v2/accountcontactattributes";
    for (attribute, message) in [
        (
            json!({"key": "age", "name": "Years", "type": "number"}),
            "Key must be unique",
        ),
        (
            json!({"key": "newsletter", "name": "N", "type": "string"}),
            "Key must be unique",
        ),
        (
            json!({"key": "x", "name": "X", "type": "blob"}),
            "invalid field type",
        ),
    ] {
        let refused = api.post(attributes, attribute).await;
        assert_eq!(refused.body["message"], message);
    }
    let change = api
        .put(
            "/v2/accountcontactattributes/age",
            json!({"type": "string"}),
        )
        .await;
    assert_eq!(
        (change.status, change.body["message"].clone()),
        (422, json!("You can not change type"))
    );
    let shown = api.get("/v2/accountcontactattributes/age").await.body;
    assert_eq!(shown["type"], "number");

    // A new attribute is usable on contacts at once.
    let tier = json!({"key": "tier", "name": "Tier", "type": "string"});
    api.post(attributes, tier).await;
    let c = api
        .post(
            CONTACTS,
            json!({"channels": {"email": {"address": "a@example.com"}}, "tier": "gold"}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
}

#[tokio::test]
async fn a_wrong_key_is_401_and_the_key_is_never_logged() {
    let api = Api::start(Seed::demo()).await;
    let wrong = api
        .raw(Method::GET, "/v2/health", Some("nope"), None, Vec::new())
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.body,
        json!({"error": "Access Denied: Authentication Failure"})
    );
    let none = api.raw(Method::GET, CONTACTS, None, None, Vec::new()).await;
    assert_eq!(none.status, 401);
    // The key sent as the password instead of the user name is refused too.
    let swapped = api
        .http
        .get(format!("{}/v2/health", api.base))
        .basic_auth("", Some(KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status().as_u16(), 401);

    let ok = api.get("/v2/health").await;
    assert_eq!((ok.status, ok.body), (200, json!("Good")));

    let log = api.handle().requests();
    assert_eq!(log.len(), 4);
    assert_eq!(
        log.iter().map(|r| r.has_authorization).collect::<Vec<_>>(),
        vec![true, false, true, true]
    );
    assert!(
        !format!("{log:?}").contains(KEY),
        "the key leaked into the request log"
    );
}

#[tokio::test]
async fn a_non_json_body_is_415_and_forms_are_accepted() {
    let api = Api::start(Seed::demo()).await;
    let r = api.post_contacts_as("text/plain", b"{}").await;
    matches_definition(&r, 415, "MediaTypeIsIncorrect");
    assert_eq!(r.body["errorKey"], "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(api.handle().contact_count(), 0);

    let form = api
        .post_contacts_as(
            "application/x-www-form-urlencoded",
            b"channels[email][address]=form%40example.com&first_name=Jo+Ann&newsletter=true",
        )
        .await;
    assert_eq!(form.status, 201, "{}", form.body);
    let c = api.handle().contact("form@example.com").unwrap();
    assert_eq!(c["attributes"]["first_name"], "Jo Ann");
    assert_eq!(c["lists"], json!(["newsletter"]));
}

#[tokio::test]
async fn malformed_json_is_a_cordial_422() {
    let api = Api::start(Seed::demo()).await;
    let r = api
        .post_contacts_as("application/json", b"{\"channels\":")
        .await;
    contract("POST", CONTACTS, &r, 422);
    assert_eq!(r.body["errorKey"], "GENERIC_ERROR_KEY");
}

#[tokio::test]
async fn injected_rate_limit_answers_429_then_the_request_succeeds() {
    let api = Api::start(Seed::demo()).await;
    api.handle().inject(Fault::RateLimited {
        retry_after_secs: 3,
        count: 2,
    });
    for _ in 0..2 {
        let r = api.post(CONTACTS, jane()).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.headers["retry-after"], "3");
        assert_eq!(r.headers["x-rate-limit-remaining"], "0");
        assert_eq!(r.headers["x-rate-limit-reset"], "3");
        assert!(r.headers.contains_key("x-rate-limit-limit"));
        assert!(r.body.is_object(), "{}", r.body);
    }
    assert_eq!(
        api.handle().contact_count(),
        0,
        "a limited request must not act"
    );
    assert_eq!(api.post(CONTACTS, jane()).await.status, 201);

    api.handle().inject(Fault::ServerError {
        status: 503,
        count: 1,
    });
    let r = api.get("/v2/contacts/jane@example.com").await;
    assert_eq!(
        (r.status, r.body),
        (503, json!({"error": "an error has occurred"}))
    );
    assert_eq!(api.get("/v2/contacts/jane@example.com").await.status, 200);
}

#[tokio::test]
async fn latency_delays_every_response() {
    let api = Api::start(Seed::demo()).await;
    api.handle().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(api.get("/v2/health").await.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    api.handle().set_latency(Duration::ZERO);
}

#[tokio::test]
async fn requests_are_recorded_with_path_query_and_body() {
    let api = Api::start(Seed::demo()).await;
    api.post(CONTACTS, jane()).await;
    api.get("/v2/contacts?email=jane%40example.com&per_page=5")
        .await;
    let log = api.handle().requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/v2/contacts");
    assert_eq!(log[0].body, jane());
    assert_eq!(
        log[1].path,
        "/v2/contacts?email=jane%40example.com&per_page=5"
    );
    assert_eq!(log[1].body, Value::Null);
}

#[tokio::test]
async fn any_host_is_served_and_shutdown_stops_the_server() {
    let api = Api::start(Seed::default()).await;
    let r = api
        .http
        .get(format!("{}/v2/health", api.base))
        .header("host", "api.cordial.io")
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "Good");
    let base = api.base.clone();
    let http = api.http.clone();
    api.emulator.shutdown().await;
    assert!(http.get(format!("{base}/v2/health")).send().await.is_err());
}
