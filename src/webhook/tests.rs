use super::*;
use serde_json::json;

const DEFAULT_ENTER: &str = include_str!("../../tests/data/webhooks/default-enter.json");
const EXPORT_FIELDS_ENTER: &str =
    include_str!("../../tests/data/webhooks/export-fields-enter.json");
const EXPORT_FIELDS_EXIT: &str = include_str!("../../tests/data/webhooks/export-fields-exit.json");
const FIELD_CHANGE: &str = include_str!("../../tests/data/webhooks/field-change.json");
const CLOUDEVENTS_ENTER: &str = include_str!("../../tests/data/webhooks/cloudevents-enter.json");
const BATCH_MIXED: &str = include_str!("../../tests/data/webhooks/batch-mixed.json");

fn parse(body: &str) -> Vec<TriggerEvent> {
    parse_trigger_payload(body.as_bytes()).unwrap_or_else(|e| panic!("rejected: {e}"))
}

fn parse_value(body: Value) -> Result<Vec<TriggerEvent>, PayloadError> {
    parse_trigger_payload(body.to_string().as_bytes())
}

fn error(body: Value) -> PayloadError {
    parse_value(body).expect_err("the payload should be rejected")
}

fn only(events: Vec<TriggerEvent>) -> TriggerEvent {
    assert_eq!(events.len(), 1, "{events:?}");
    events.into_iter().next().unwrap()
}

/// A valid default-format user whose `data` can be tweaked by the error tests.
fn default_user(data: Value) -> Value {
    json!({"id": "1", "data": data, "meta": {"timestamp": "2023-05-26T21:08:19Z"}})
}

fn enter_event() -> Value {
    json!({"id": "efdcc4da20554be02e90c563f69bc0ec", "event": "enter", "slug": "vip",
           "enter": "2023-05-25T23:09:59.872199615Z"})
}

fn user_with_events(events: Value) -> Value {
    default_user(json!({"email": "a@b.co", "segment_events": events}))
}

#[test]
fn default_format_enter_keeps_the_whole_profile() {
    let event = only(parse(DEFAULT_ENTER));
    assert_eq!(event.platform_id.as_deref(), Some("7076027172059065053"));
    assert_eq!(event.audience_slug.as_deref(), Some("emailzz5"));
    assert_eq!(
        event.audience_id.as_deref(),
        Some("42976a269a5e6b9d06c681b1c27292df")
    );
    assert_eq!(event.kind, Membership::Enter);
    assert_eq!(
        event.occurred_at.as_deref(),
        Some("2020-10-14T13:27:33.916374949-07:00")
    );
    let raw: Value = serde_json::from_str(DEFAULT_ENTER).unwrap();
    let mut expected = raw["data"].as_object().unwrap().clone();
    expected.remove("segment_events");
    assert_eq!(event.user, expected);
    assert_eq!(event.user["is_bot"], "f");
    assert_eq!(event.user["hourly"], json!({"15": 1}));
}

#[test]
fn export_fields_enter_carries_only_the_selected_fields() {
    let event = only(parse(EXPORT_FIELDS_ENTER));
    assert_eq!(event.platform_id.as_deref(), Some("15761203643149024539"));
    assert_eq!(event.audience_slug.as_deref(), Some("first_name_joe"));
    assert_eq!(event.kind, Membership::Enter);
    assert_eq!(
        event.occurred_at.as_deref(),
        Some("2023-05-25T23:09:59.872199615Z")
    );
    assert_eq!(
        Value::Object(event.user),
        json!({"first_name": "Joe", "last_name": "Flow"})
    );
}

#[test]
fn exit_takes_its_time_from_the_exit_key_and_keeps_the_offset() {
    let event = only(parse(EXPORT_FIELDS_EXIT));
    assert_eq!(event.kind, Membership::Exit);
    assert_eq!(
        event.occurred_at.as_deref(),
        Some("2023-05-26T08:00:01.000000001+02:00")
    );
}

#[test]
fn change_has_no_own_time_and_falls_back_to_meta_timestamp() {
    let event = only(parse(FIELD_CHANGE));
    assert_eq!(event.kind, Membership::Change);
    assert_eq!(event.platform_id.as_deref(), Some("12291095485723374960"));
    assert_eq!(
        event.audience_id.as_deref(),
        Some("163bda069207c88cfdb7c84e06b9270f")
    );
    assert_eq!(
        event.occurred_at.as_deref(),
        Some("2023-05-26T21:08:19.985560308Z")
    );
    assert_eq!(
        Value::Object(event.user),
        json!({"city": "Portland", "email": "test@lytics.com", "first_name": "Joseph"})
    );
}

#[test]
fn cloudevents_data_is_the_user_itself() {
    let event = only(parse(CLOUDEVENTS_ENTER));
    assert_eq!(event.platform_id.as_deref(), Some("6449017691630140398"));
    assert_eq!(event.audience_slug.as_deref(), Some("emailzz5"));
    assert_eq!(event.audience_id.as_deref(), Some("..."));
    assert_eq!(event.kind, Membership::Enter);
    // The documented example's timestamp is a placeholder; it is kept as sent.
    assert_eq!(event.occurred_at.as_deref(), Some("..."));
    assert_eq!(
        Value::Object(event.user),
        json!({"...same user fields as 1.1...": ""})
    );
}

#[test]
fn cloudevents_change_falls_back_to_time() {
    let body = json!({"specversion": "1.0", "id": "9", "time": "2023-05-10T23:27:53.568929003Z",
                      "data": {"segment_events": [{"event": "change", "slug": "s"}]}});
    let event = only(parse_value(body).unwrap());
    assert_eq!(
        event.occurred_at.as_deref(),
        Some("2023-05-10T23:27:53.568929003Z")
    );
    assert!(event.user.is_empty());
}

#[test]
fn batch_mixes_formats_and_keeps_payload_order() {
    let events = parse(BATCH_MIXED);
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.platform_id.as_deref().unwrap(),
                e.kind,
                e.audience_slug.as_deref().unwrap(),
                e.user["email"].as_str().unwrap(),
                e.occurred_at.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "101",
                Membership::Exit,
                "first_name_joe",
                "ann@example.com",
                "2023-05-25T23:09:59.872199615Z"
            ),
            (
                "102",
                Membership::Enter,
                "emailzz5",
                "bob@example.com",
                "2023-05-10T16:27:53.000000001-07:00"
            ),
            (
                "102",
                Membership::Change,
                "first_name_joe",
                "bob@example.com",
                "2023-05-10T23:27:53.568929003Z"
            ),
            (
                "103",
                Membership::Change,
                "first_name_joe",
                "cy@example.com",
                "2023-05-26T21:08:19.985560308Z"
            ),
        ]
    );
    // Both events of the user with two segment events carry the full user.
    assert_eq!(events[1].user, events[2].user);
    assert_eq!(events[1].user["hourly"], json!({"15": 1}));
    assert!(!events[1].user.contains_key("segment_events"));
}

#[test]
fn lenient_where_the_docs_vary() {
    // Numeric id, no meta at all, null slug and id, extra fields in the segment event.
    let body = json!({"id": 15761203643149024539_u64,
                      "data": {"n": [1, null, {"x": true}],
                               "segment_events": [{"event": "change", "slug": null, "id": null,
                                                   "extra": 1}]}});
    let event = only(parse_value(body).unwrap());
    assert_eq!(event.platform_id.as_deref(), Some("15761203643149024539"));
    assert_eq!(event.audience_slug, None);
    assert_eq!(event.audience_id, None);
    assert_eq!(event.occurred_at, None);
    assert_eq!(event.user["n"], json!([1, null, {"x": true}]));
}

#[test]
fn rejects_a_body_that_is_not_json_and_says_where() {
    let e = parse_trigger_payload(b"{\"id\": \"1\",\n  \"data\": }").unwrap_err();
    assert_eq!(e.path, "");
    assert!(e.message.contains("not JSON"), "{e}");
    assert!(e.message.contains("line 2 column 11"), "{e}");
    let empty = parse_trigger_payload(b"").unwrap_err();
    assert!(empty.message.contains("line 1 column 0"), "{empty}");
}

#[test]
fn rejects_top_levels_that_are_neither_object_nor_array() {
    for body in [json!("hi"), json!(3), json!(null), json!(true)] {
        let e = error(body.clone());
        assert_eq!(e.path, "", "{body}");
        assert!(
            e.message.contains("expected a JSON object or an array"),
            "{e}"
        );
    }
}

#[test]
fn rejects_an_empty_batch_and_non_object_elements() {
    let e = error(json!([]));
    assert_eq!(e.path, "");
    assert!(e.message.contains("empty"), "{e}");
    let e = error(json!([user_with_events(json!([enter_event()])), [1]]));
    assert_eq!(e.path, "[1]");
    assert!(e.message.contains("found an array"), "{e}");
}

#[test]
fn a_batch_of_more_users_than_the_limit_is_refused_before_any_is_read() {
    let user = user_with_events(json!([enter_event()])).to_string();
    let batch = |users: usize| format!("[{}]", vec![user.as_str(); users].join(","));
    assert_eq!(parse(&batch(MAX_BATCH_USERS)).len(), MAX_BATCH_USERS);
    let e = parse_trigger_payload(batch(MAX_BATCH_USERS + 1).as_bytes()).unwrap_err();
    assert_eq!(e.path, "");
    assert!(
        e.message
            .contains("the batch has 50001 users; at most 50000 are taken in one request"),
        "{e}"
    );
}

#[test]
fn an_element_too_deep_to_read_is_named_by_its_place() {
    let user = user_with_events(json!([enter_event()]));
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let e = parse_trigger_payload(format!("[{user}, {deep}]").as_bytes()).unwrap_err();
    assert_eq!(e.path, "[1]");
    assert!(e.message.contains("recursion limit exceeded"), "{e}");
}

#[test]
fn rejects_a_missing_or_malformed_data() {
    let e = error(json!({"id": "1", "meta": {}}));
    assert_eq!(
        (e.path.as_str(), e.message.contains("missing")),
        ("data", true)
    );
    let e = error(default_user(json!([1])));
    assert_eq!(e.path, "data");
    assert_eq!(e.message, "expected an object, found an array");
    let good = user_with_events(json!([enter_event()]));
    let e = error(json!([good, good, {"id": "3"}]));
    assert_eq!(e.path, "[2].data");
}

#[test]
fn missing_segment_events_points_at_the_export_fields() {
    let e = error(default_user(json!({"email": "a@b.co"})));
    assert_eq!(e.path, "data.segment_events");
    assert!(
        e.message
            .contains("add `segment_events` to the trigger's Export Fields"),
        "{e}"
    );
}

#[test]
fn rejects_segment_events_that_are_not_a_non_empty_array() {
    let e = error(user_with_events(json!({"event": "enter"})));
    assert_eq!(e.path, "data.segment_events");
    assert_eq!(e.message, "expected an array, found an object");
    let e = error(user_with_events(json!([])));
    assert_eq!(e.path, "data.segment_events");
    assert!(e.message.contains("empty"), "{e}");
    let e = error(user_with_events(json!([enter_event(), "enter"])));
    assert_eq!(e.path, "data.segment_events[1]");
    assert_eq!(e.message, "expected an object, found a string");
}

#[test]
fn unknown_event_lists_the_accepted_ones_with_the_exact_path() {
    let good = user_with_events(json!([enter_event()]));
    let bad = user_with_events(json!([{"event": "Enter", "slug": "vip"}]));
    let e = error(json!([good, good, bad]));
    assert_eq!(e.path, "[2].data.segment_events[0].event");
    assert_eq!(
        e.message,
        "unknown event `Enter`: expected one of \"enter\", \"exit\", \"change\""
    );
    assert_eq!(
        e.to_string(),
        "[2].data.segment_events[0].event: unknown event `Enter`: \
         expected one of \"enter\", \"exit\", \"change\""
    );
}

#[test]
fn rejects_a_missing_or_non_string_event() {
    let e = error(user_with_events(json!([enter_event(), {"slug": "vip"}])));
    assert_eq!(e.path, "data.segment_events[1].event");
    assert!(e.message.starts_with("missing: expected one of"), "{e}");
    let e = error(user_with_events(json!([{"event": 1}])));
    assert_eq!(e.path, "data.segment_events[0].event");
    assert_eq!(e.message, "expected a string, found a number");
}

#[test]
fn rejects_wrong_types_inside_a_segment_event() {
    let cases = [
        (json!({"event": "enter", "slug": 5}), "slug"),
        (json!({"event": "enter", "id": ["x"]}), "id"),
        (json!({"event": "enter", "enter": 1_700_000_000}), "enter"),
        (json!({"event": "exit", "exit": {"t": 1}}), "exit"),
    ];
    for (event, field) in cases {
        let e = error(user_with_events(json!([event])));
        assert_eq!(e.path, format!("data.segment_events[0].{field}"));
        assert!(e.message.starts_with("expected a string, found"), "{e}");
    }
}

#[test]
fn rejects_wrong_types_in_the_envelope() {
    let data = json!({"segment_events": [enter_event()]});
    let e = error(json!({"id": true, "data": data}));
    assert_eq!(e.path, "id");
    assert_eq!(
        e.message,
        "expected a string or an integer, found a boolean"
    );
    let e = error(json!({"id": 1.5, "data": data}));
    assert_eq!(e.path, "id");
    let e = error(json!({"data": data, "meta": "x"}));
    assert_eq!(e.path, "meta");
    let e = error(json!([{"data": data}, {"data": data, "meta": {"timestamp": 5}}]));
    assert_eq!(e.path, "[1].meta.timestamp");
    let e = error(json!({"specversion": "1.0", "time": 5, "data": data}));
    assert_eq!(e.path, "time");
}

#[test]
fn rejects_cloudevents_versions_other_than_1_0() {
    let data = json!({"segment_events": [enter_event()]});
    let e = error(json!({"specversion": "0.3", "data": data}));
    assert_eq!(e.path, "specversion");
    assert!(
        e.message.contains("`0.3`") && e.message.contains("\"1.0\""),
        "{e}"
    );
    let e = error(json!([{"specversion": "1.0", "data": data}, {"specversion": 1, "data": data}]));
    assert_eq!(e.path, "[1].specversion");
    assert_eq!(e.message, "expected a string, found a number");
}

#[test]
fn cloudevents_without_data_is_rejected_like_the_default_format() {
    let e = error(json!({"specversion": "1.0", "id": "1"}));
    assert_eq!(e.path, "data");
}

#[test]
fn display_of_a_whole_body_error_has_no_stray_colon() {
    let e = error(json!([]));
    assert!(!e.to_string().starts_with(':'));
    assert_eq!(e.to_string(), e.message);
}
