//! Every request body the project's Cordial client builds validates against Cordial's own
//! Swagger schema for that operation.

use cordial_e2e::swagger;
use cordial_jobs::cordial::{ContactUpsert, HttpRequest, SubscribeStatus, requests};
use cordial_jobs::realtime::{AttributeTypes, Membership, contact_for_event};
use cordial_jobs::settings::ExportSettings;
use serde_json::json;

const BASE: &str = "https://api.cordial.io";

fn body(request: &HttpRequest) -> serde_json::Value {
    request.json_body().expect("a JSON body")
}

fn contacts() -> Vec<ContactUpsert> {
    let plain = ContactUpsert::new("jane@example.com");
    let mut full = ContactUpsert::new("jane@example.com");
    full.subscribe_status = Some(SubscribeStatus::Subscribed);
    full.force_subscribe = true;
    full.attributes.insert("first_name".into(), json!("Jane"));
    full.attributes.insert("age".into(), json!(41));
    full.attributes
        .insert("interests".into(), json!(["shoes", "hats"]));
    full.attributes
        .insert("address.city".into(), json!("San Diego"));
    full.lists.push(("newsletter".into(), true));
    full.lists.push(("old_list".into(), false));
    let mut unsubscribed = ContactUpsert::new("u@example.com");
    unsubscribed.subscribe_status = Some(SubscribeStatus::Unsubscribed);
    vec![plain, full, unsubscribed]
}

#[test]
fn contact_upserts_match_the_post_contacts_schema() {
    for contact in contacts() {
        let request = requests::upsert_contact(BASE, &contact);
        assert_eq!(request.url, "https://api.cordial.io/v2/contacts");
        swagger::validate_request_body("post", "/v2/contacts", &body(&request)).unwrap();
    }
}

#[test]
fn real_time_event_upserts_match_the_post_contacts_schema() {
    let settings: ExportSettings = cordial_jobs::settings::typed(
        cordial_jobs::settings::JobKind::ExportRealtime,
        &json!({
            "audience": "vip", "field_mapping": {"first_name": "first_name", "city": "address.city"}
        }),
    )
    .unwrap();
    let user = json!({"email": "beth@example.com", "first_name": "Beth", "city": "Portland"});
    for membership in [Membership::Enter, Membership::Exit, Membership::Change] {
        let contact = contact_for_event(
            &settings,
            &AttributeTypes::new(),
            "Lytics_vip",
            membership,
            &user,
        )
        .unwrap();
        let request = requests::upsert_contact(BASE, &contact);
        swagger::validate_request_body("post", "/v2/contacts", &body(&request)).unwrap();
    }
}

#[test]
fn list_creation_matches_the_post_accountlists_schema() {
    let request = requests::create_account_list(BASE, "Lytics_vip", true);
    swagger::validate_request_body("post", "/v2/accountlists", &body(&request)).unwrap();
}

#[test]
fn the_schema_check_itself_rejects_a_contact_without_channels() {
    let broken = json!({"first_name": "Jane"});
    assert!(swagger::validate_request_body("post", "/v2/contacts", &broken).is_err());
}

#[test]
fn bodiless_requests_have_no_body() {
    for request in [
        requests::list_account_lists(BASE),
        requests::list_contact_attributes(BASE),
        requests::get_contact_by_email(BASE, "a@b.co"),
    ] {
        assert!(request.body.is_none(), "{}", request.url);
    }
}

#[test]
fn bulk_import_requests_match_the_post_contactimports_schema() {
    use cordial_jobs::bulk::imports::{ImportSource, SftpSource, create_import};
    let source = SftpSource {
        server: "sftp.example.com".into(),
        port: 22,
        username: "lytics".into(),
        path: "/home/lytics/bulk-20261122T030000Z-abc123-0001.csv".into(),
        saved_key: None,
    };
    for source in [
        ImportSource::Sftp(source.clone()),
        ImportSource::Sftp(SftpSource {
            saved_key: Some("lytics-key".into()),
            ..source
        }),
        ImportSource::Https(
            "https://jobs.example.com/files/bulk/3f9c/bulk-20261122T030000Z-abc123-0001.csv".into(),
        ),
    ] {
        let request = create_import(BASE, "bulk-20261122T030000Z-abc123-0001", &source);
        assert_eq!(request.url, "https://api.cordial.io/v2/contactimports");
        swagger::validate_request_body("post", "/v2/contactimports", &body(&request)).unwrap();
    }
}
