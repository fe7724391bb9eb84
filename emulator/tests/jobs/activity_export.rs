//! Contact activity exports: events are seeded through the handle, the export is requested
//! over real HTTP, and the job writes its files to the sshd; the files are then read back
//! from the server's disk.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cordial_emulator::{EmulatorConfig, start};
use cordial_sftp::sshd::password_account;
use serde_json::{Value, json};

use crate::api::{Api, changed, without};
use crate::home::InHome;

const KEY: &str = "export-test-key";
/// A whole day, the timeframe of most exports here.
const JULY_1ST: (&str, &str) = ("2024-07-01T00:00:00Z", "2024-07-02T00:00:00Z");

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

impl Api {
    /// An account without events; the test adds them through the handle.
    async fn no_events() -> Api {
        Api::with_events(Vec::new()).await
    }

    async fn with_events(events: Vec<Value>) -> Api {
        Api::launch(
            KEY,
            EmulatorConfig {
                events,
                ..Default::default()
            },
        )
        .await
    }

    /// A fresh folder inside the sshd's files folder.
    fn folder(&self, name: &str) -> PathBuf {
        let dir = self.sshd.files_dir().join(name);
        std::fs::create_dir_all(&dir).expect("folder made");
        dir
    }

    /// An SFTP destination logging in with the saved key and writing into `folder`.
    fn key_destination(&self, folder: &Path) -> Value {
        let mut destination = self.key_login(folder.to_str().expect("utf-8 path"));
        destination["type"] = json!("sftp");
        destination
    }

    /// A JSON export of `[start, end)` into `folder`, with `extra` fields merged in.
    fn body(&self, name: &str, folder: &Path, (start, end): (&str, &str), extra: Value) -> Value {
        let mut body = json!({
            "name": name,
            "exportType": "json",
            "destination": self.key_destination(folder),
            "selected_timeframe_start": start,
            "selected_timeframe_end": end,
        });
        for (k, v) in extra.as_object().expect("an object") {
            body[k] = v.clone();
        }
        body
    }

    /// Posts an export, expects 200 and a 24-hex job id.
    async fn export(&self, body: Value) -> String {
        self.start_job("/v2/contactactivityexport", body, 200).await
    }

    /// Exports and expects the job to be `Done`; returns its document.
    async fn done(&self, body: Value) -> Value {
        let id = self.export(body).await;
        let (doc, details) = self.finished(&id).await;
        assert_eq!(doc["status"], "Done", "{details}");
        doc
    }

    /// Exports `window` as `name`, with `extra` fields, into a fresh folder of that name and
    /// expects `Done`: the job's document and the [`files`] written.
    async fn exported(
        &self,
        name: &str,
        (start, end): (&str, &str),
        extra: Value,
    ) -> (Value, Vec<(String, String)>) {
        let folder = self.folder(name);
        let doc = self
            .done(self.body(name, &folder, (start, end), extra))
            .await;
        let written = files(&doc, &folder);
        (doc, written)
    }

    /// The events of `[start, end)` as the handle sees them, in time order.
    fn expected(&self, start: &str, end: &str, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        let (start, end) = (at(start), at(end));
        self.handle()
            .events()
            .into_iter()
            .filter(|e| {
                let t = cordial_time(e["time"].as_str().expect("time"));
                start <= t && t < end && keep(e)
            })
            .collect()
    }
}

/// Parses Cordial's `2024-07-12T09:58:14+0000`.
fn cordial_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

/// The files a finished export lists, read from the server's disk (gunzipped when
/// named `.gz`), in the listed order. Also checks that nothing else (no `.part`
/// leftover) is in the folder.
fn files(doc: &Value, folder: &Path) -> Vec<(String, String)> {
    let names: Vec<String> = doc["metadata"]["fileNames"]
        .as_array()
        .expect("metadata.fileNames")
        .iter()
        .map(|n| n.as_str().expect("a name").to_owned())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(folder)
        .expect("folder readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed = names.clone();
    listed.sort();
    assert_eq!(on_disk, listed, "the folder holds exactly the listed files");
    names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(folder.join(&name)).expect("file readable");
            let text = if name.ends_with(".gz") {
                let mut text = String::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut text)
                    .expect("valid gzip");
                text
            } else {
                String::from_utf8(bytes).expect("utf-8")
            };
            (name, text)
        })
        .collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn all_records(files: &[(String, String)]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|(_, text)| json_lines(text))
        .collect()
}

#[tokio::test]
async fn timeframe_is_start_inclusive_end_exclusive_and_actions_filter() {
    let events = vec![
        json!({"action": "open", "time": "2024-07-01T09:59:59Z", "cID": "c1", "email": "a@x.io"}),
        json!({"action": "open", "time": "2024-07-01T10:00:00Z", "cID": "c1", "email": "a@x.io",
               "mcID": "45:abc:d240701:c1:1719820000", "bmID": "45:abc:d240701", "mdtID": "m1",
               "first": true, "message_name": "Spring Sale", "message_sent": "2024-07-01T09:00:00Z"}),
        json!({"action": "custom-purchase", "time": "2024-07-01T10:30:00Z", "cID": "c2",
               "email": "b@x.io", "properties": {"total": 12.5}}),
        json!({"action": "click", "time": "2024-07-01T10:59:59Z", "cID": "c2", "email": "b@x.io"}),
        json!({"action": "browse", "time": "2024-07-01T11:00:00Z", "cID": "c2", "email": "b@x.io"}),
    ];
    let api = Api::with_events(events).await;
    let (start, end) = ("2024-07-01T10:00:00Z", "2024-07-01T11:00:00Z");

    // Every action: the event at the start is in, the one at the end is not.
    let (doc, written) = api.exported("hour-all", (start, end), json!({})).await;
    assert_eq!(doc["jobName"], "ExportEvents");
    assert_eq!(doc["totalItems"], 3);
    assert_eq!(doc["completedItems"], 3);
    assert!(doc.get("result").is_none(), "{doc}");
    assert_eq!(doc["metadata"]["name"], "hour-all");
    assert_eq!(doc["metadata"]["exportType"], "json");
    assert_eq!(doc["metadata"]["fileName"], "hour-all.json");
    assert_eq!(doc["metadata"]["fileNames"], json!(["hour-all.json"]));
    assert!(doc["times"]["start"].is_string() && doc["times"]["end"].is_string());
    let records = all_records(&written);
    assert_eq!(records, api.expected(start, end, |_| true));
    assert_eq!(
        records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["open", "custom-purchase", "click"]
    );
    // The record form: Cordial's timestamps, given fields kept, an `_id` made.
    let open = &records[0];
    assert_eq!(open["time"], "2024-07-01T10:00:00+0000");
    assert_eq!(open["message_sent"], "2024-07-01T09:00:00+0000");
    assert_eq!(open["first"], true);
    assert_eq!(open["message_name"], "Spring Sale");
    let id = open["_id"].as_str().unwrap();
    assert!(id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    // Keys in the documented order.
    let first_line = written[0].1.lines().next().unwrap();
    assert!(
        first_line.starts_with(&format!(
            "{{\"_id\":\"{id}\",\"cID\":\"c1\",\"email\":\"a@x.io\",\"action\":\"open\",\"time\":"
        )),
        "{first_line}"
    );

    // Action names.
    let (_, written) = api
        .exported(
            "hour-some",
            (start, end),
            json!({"selected_action_names": ["custom-purchase", "click", "complaint"]}),
        )
        .await;
    let records = all_records(&written);
    assert_eq!(records, api.expected(start, end, |e| e["action"] != "open"));

    // One action, and `custom` for every custom event.
    let open = json!({"selected_action_name": "open"});
    let (_, written) = api.exported("hour-one", (start, end), open).await;
    assert_eq!(
        all_records(&written),
        api.expected(start, end, |e| e["action"] == "open")
    );
    let custom = json!({"selected_action_name": "custom"});
    let (_, written) = api.exported("day-custom", JULY_1ST, custom).await;
    let records = all_records(&written);
    assert_eq!(
        records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["custom-purchase", "browse"]
    );

    // Equal bounds select nothing; the export still writes one, empty, file.
    let (doc, written) = api.exported("empty", (start, start), json!({})).await;
    assert_eq!(doc["totalItems"], 0);
    assert_eq!(written, vec![("empty.json".to_owned(), String::new())]);

    // A start with a fraction of a second excludes the event at its whole second.
    let (doc, _) = api
        .exported("fraction", ("2024-07-01T10:00:00.250Z", end), json!({}))
        .await;
    assert_eq!(doc["totalItems"], 2);

    // The jobs API lists the exports by name.
    let (_, listed) = api.get("/v2/jobs?jobName=ExportEvents&per_page=100").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(6), "{listed}");
    let (_, imports) = api.get("/v2/jobs?jobName=ImportContacts").await;
    assert_eq!(imports, json!([]));
    assert_eq!(api.handle().export_jobs().len(), 6);
    assert!(api.handle().import_jobs().is_empty());
}

#[tokio::test]
async fn limit_records_per_file_splits_and_compress_gzips_the_same_lines() {
    let api = Api::no_events().await;
    api.handle().generate_events(
        12_000,
        7,
        at("2024-07-01T00:00:00Z"),
        at("2024-07-08T00:00:00Z"),
    );
    assert_eq!(api.handle().event_count(), 12_000);
    let (start, end) = ("2024-07-02T00:00:00Z", "2024-07-06T12:00:00Z");
    let expected = api.expected(start, end, |_| true);
    assert!(expected.len() > 7_000, "{}", expected.len());

    let (doc, parts) = api
        .exported("week", (start, end), json!({"limitRecordsPerFile": 1000}))
        .await;
    assert_eq!(parts.len(), expected.len().div_ceil(1000));
    for (i, (name, text)) in parts.iter().enumerate() {
        assert_eq!(name, &format!("week-{}.json", i + 1));
        let lines = text.lines().count();
        if i + 1 < parts.len() {
            assert_eq!(lines, 1000, "{name}");
        } else {
            assert!((1..=1000).contains(&lines), "{name}: {lines}");
        }
    }
    assert_eq!(doc["metadata"]["fileName"], "week-1.json");
    assert_eq!(doc["totalItems"], expected.len());
    assert_eq!(doc["completedItems"], expected.len());
    let plain = all_records(&parts);
    assert_eq!(plain, expected);

    // Gzipped parts hold the same lines (and several 256 KiB chunks were sent).
    let gzipped = json!({"limitRecordsPerFile": 5000, "compress": true});
    let (_, gz) = api.exported("week-gz", (start, end), gzipped).await;
    assert_eq!(
        gz.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        (1..=expected.len().div_ceil(5000))
            .map(|i| format!("week-gz-{i}.json.gz"))
            .collect::<Vec<_>>()
    );
    let plain_text: String = parts.iter().map(|(_, t)| t.as_str()).collect();
    let gz_text: String = gz.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(gz_text, plain_text);
    assert!(plain_text.len() > 1 << 20, "{}", plain_text.len());

    // One compressed file without a limit.
    let (_, one) = api
        .exported("week-one", (start, end), json!({"compress": true}))
        .await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].0, "week-one.json.gz");
    assert_eq!(one[0].1, plain_text);
}

#[tokio::test]
async fn generated_events_cover_every_action_and_filter_by_message_and_contact() {
    let api = Api::no_events().await;
    api.handle().generate_events(
        3_000,
        11,
        at("2024-07-01T00:00:00Z"),
        at("2024-07-03T00:00:00Z"),
    );
    let (start, end) = ("2024-07-01T00:00:00Z", "2024-07-03T00:00:00Z");
    let (_, written) = api.exported("all", (start, end), json!({})).await;
    let records = all_records(&written);
    assert_eq!(records.len(), 3_000);
    let mut actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    let every = "message-sent open click optout bounce complaint message-stopped pageview \
                 crdl_subscribeStatusChange browse cart custom-purchase";
    for action in every.split_whitespace() {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
    for r in &records {
        for key in ["_id", "cID", "email", "action", "time"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        cordial_time(r["time"].as_str().unwrap());
        if r.get("mcID").is_some() {
            assert!(
                r["message_name"].is_string() && r["mdtID"].is_string(),
                "{r}"
            );
            cordial_time(r["message_sent"].as_str().unwrap());
        }
        if matches!(r["action"].as_str(), Some("open" | "click")) {
            assert!(r["first"].is_boolean(), "{r}");
        }
    }

    // Batch messages only (they have a bmID), then one message by its mdtID.
    let batches = json!({"selected_message_type": "batch"});
    let (_, written) = api.exported("batch", (start, end), batches).await;
    let batch = all_records(&written);
    assert_eq!(
        batch,
        records
            .iter()
            .filter(|r| r.get("bmID").is_some())
            .cloned()
            .collect::<Vec<_>>()
    );
    let automation = records
        .iter()
        .find(|r| r.get("mdtID").is_some() && r.get("bmID").is_none())
        .expect("an automation message event");
    let mdt = automation["mdtID"].as_str().unwrap();
    let message = json!({"selected_message_type": "automation", "selected_message_id": mdt});
    let (_, written) = api.exported("one-message", (start, end), message).await;
    let one = all_records(&written);
    assert!(!one.is_empty());
    assert_eq!(
        one,
        records
            .iter()
            .filter(|r| r["mdtID"] == mdt)
            .cloned()
            .collect::<Vec<_>>()
    );

    // One contact, by email (any case) or by cID.
    let email = records[0]["email"].as_str().unwrap().to_owned();
    let cid = records[0]["cID"].as_str().unwrap().to_owned();
    let theirs: Vec<Value> = records
        .iter()
        .filter(|r| r["email"] == email.as_str())
        .cloned()
        .collect();
    for (name, contact) in [("by-email", email.to_uppercase()), ("by-cid", cid)] {
        let (_, written) = api
            .exported(name, (start, end), json!({"selected_contact": contact}))
            .await;
        assert_eq!(all_records(&written), theirs, "{name}");
    }
}

#[tokio::test]
async fn csv_and_txt_exports_write_delimited_rows() {
    let events = vec![
        json!({"action": "click", "time": "2024-07-01T10:00:00Z", "cID": "c1", "email": "a@x.io",
               "mdtID": "m1", "first": false, "message_name": "Sale, \"big\" one",
               "properties": {"url": "https://x.io/a"}}),
        json!({"action": "open", "time": "2024-07-01T10:05:00Z", "cID": "c2", "email": "b@x.io",
               "bmID": "45:abc:d240701", "mdtID": "m2"}),
    ];
    let api = Api::with_events(events).await;
    let (start, end) = JULY_1ST;
    let expected = api.expected(start, end, |_| true);

    let with_header = json!({"exportType": "CSV", "showHeader": true});
    let (doc, written) = api.exported("csv", JULY_1ST, with_header).await;
    assert_eq!(doc["metadata"]["exportType"], "csv");
    assert_eq!(written[0].0, "csv.csv");
    // Cordial's columns, in its documented order.
    assert_eq!(
        written[0].1.lines().next(),
        Some(
            "_id,cID,email,action,time,mcID,bmID,mdtID,first,message_name,message_sent,properties"
        )
    );
    let mut reader = csv::Reader::from_reader(written[0].1.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    for (row, event) in rows.iter().zip(&expected) {
        for (i, h) in headers.iter().enumerate() {
            let want = match &event[h.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(&row[i], want, "{h}");
        }
    }
    assert_eq!(&rows[0][9], "Sale, \"big\" one");
    assert_eq!(&rows[0][11], r#"{"url":"https://x.io/a"}"#);

    // No header unless asked; TXT with a delimiter and chosen, labelled columns.
    let labelled = json!({"exportType": "txt", "delimiter": "|", "columnHeaders": [
        {"name": "ats", "label": "action timestamp"}, {"name": "email", "label": "email address"},
        {"name": "msID", "label": "message ID"}, {"name": "a", "label": "action name"},
        {"name": "properties.url"}]});
    let (_, written) = api.exported("txt", JULY_1ST, labelled).await;
    assert_eq!(written[0].0, "txt.txt");
    assert_eq!(
        written[0].1,
        "2024-07-01T10:00:00+0000|a@x.io|m1|click|https://x.io/a\n\
         2024-07-01T10:05:00+0000|b@x.io|45:abc:d240701|open|\n"
    );

    // JSON with columnHeaders: only those fields, keyed by label.
    let columns = json!({"columnHeaders": [{"name": "ats", "label": "when"}, {"name": "email"}],
                         "additionalJsonlFields": ["properties.url"]});
    let (_, written) = api.exported("json-columns", JULY_1ST, columns).await;
    assert_eq!(
        all_records(&written),
        [
            json!({"when": "2024-07-01T10:00:00+0000", "email": "a@x.io", "properties.url": "https://x.io/a"}),
            json!({"when": "2024-07-01T10:05:00+0000", "email": "b@x.io"}),
        ]
    );
}

#[tokio::test]
async fn bad_requests_are_400_or_406_with_cordials_envelope() {
    let api = Api::no_events().await;
    let folder = api.folder("never");
    let good = api.body("bad", &folder, JULY_1ST, json!({}));
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            without(&good, &["destination"]),
            400,
            "The destination.transport field is required.",
        ),
        (
            without(&good, &["destination", "type"]),
            400,
            "The destination.transport field is required.",
        ),
        (
            changed(&good, |b| b["destination"]["type"] = json!("s3")),
            400,
            "The selected destination.transport is invalid. (This emulator writes export files over SFTP only.)",
        ),
        (
            without(&good, &["destination", "server"]),
            400,
            "The destination.server field is required.",
        ),
        (
            without(&good, &["destination", "username"]),
            400,
            "The destination.username field is required.",
        ),
        (
            without(&good, &["destination", "path"]),
            400,
            "The destination.path field is required.",
        ),
        (
            changed(&good, |b| {
                b["destination"].as_object_mut().unwrap().remove("savedKey");
            }),
            400,
            "Parameter password is not set",
        ),
        (
            changed(&good, |b| b["confirmEmail"] = json!("nobody")),
            400,
            "The confirm email must be a valid email address.",
        ),
        (
            without(&good, &["exportType"]),
            406,
            "Field 'exportType' should be specified",
        ),
        (
            changed(&good, |b| b["exportType"] = json!("xml")),
            406,
            "The selected exportType is invalid.",
        ),
        (
            without(&good, &["name"]),
            406,
            "Field 'name' should be specified",
        ),
        (
            changed(&good, |b| b["name"] = json!("my_export")),
            406,
            "The name may only contain letters, numbers and dashes.",
        ),
        (
            without(&good, &["selected_timeframe_end"]),
            406,
            "Field 'selected_timeframe_end' should be specified",
        ),
        (
            changed(&good, |b| {
                b["selected_timeframe_start"] = json!("last week")
            }),
            406,
            "Incorrect format for 'selected_timeframe_start'",
        ),
        (
            changed(&good, |b| {
                b["selected_timeframe_end"] = json!("2024-06-30T00:00:00Z")
            }),
            406,
            "'selected_timeframe_end' cannot be in past in comparison with 'selected_timeframe_start'",
        ),
        (
            changed(&good, |b| {
                b["selected_action_name"] = json!("open");
                b["selected_action_names"] = json!(["open"]);
            }),
            406,
            "Please use only one from existing filters 'selected_action_name' OR 'selected_action_names'",
        ),
        (
            changed(&good, |b| b["selected_action_names"] = json!("open,click")),
            406,
            "Incorrect format for 'selected_action_names'",
        ),
        (
            changed(&good, |b| b["selected_message_id"] = json!("m1")),
            406,
            "Field 'selected_message_type' should be specified",
        ),
        (
            changed(&good, |b| {
                b["selected_contact"] = json!("a@x.io");
                b["selected_audience_key"] = json!("vip");
            }),
            406,
            "Please use only one from existing filters 'selected_audience_key' OR 'selected_contact'",
        ),
        (
            changed(&good, |b| b["selected_contact"] = json!("ghost@x.io")),
            406,
            "Such contact ghost@x.io does not exist.",
        ),
        (
            changed(&good, |b| {
                b["selected_audience_key"] = json!("30_Day_Engaged")
            }),
            406,
            "Audience with name 30_Day_Engaged does not exist.",
        ),
        (
            changed(&good, |b| b["additionalJsonlFields"] = json!({"a": 1})),
            406,
            "Incorrect format for 'additionalJsonlFields'.",
        ),
        (
            changed(&good, |b| b["limitRecordsPerFile"] = json!("many")),
            406,
            "Incorrect format for 'limitRecordsPerFile'",
        ),
    ];
    let count = cases.len();
    let route = "/v2/contactactivityexport";
    api.assert_refused(route, cases).await;
    let unknown_key = changed(&good, |b| {
        b["destination"]["savedKey"] = json!("unknown-key")
    });
    api.assert_unknown_saved_key_refused(route, unknown_key, 400)
        .await;

    // Not JSON: 415, as everywhere. The plural path does not exist.
    let response = api
        .http
        .post(format!("{}/v2/contactactivityexport", api.base))
        .basic_auth(KEY, Some(""))
        .header("content-type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let (status, _) = api.post("/v2/contactactivityexports", good.clone()).await;
    assert_eq!(status, 404);

    // The request log never keeps the destination password.
    let (status, _) = api
        .post(
            "/v2/contactactivityexport",
            changed(&good, |b| {
                b["destination"].as_object_mut().unwrap().remove("savedKey");
                b["destination"]["password"] = json!("s3cret");
                b["exportType"] = json!("xml");
            }),
        )
        .await;
    assert_eq!(status, 406);
    let recorded = api.handle().requests();
    assert_eq!(recorded.len(), count + 4);
    assert!(
        recorded
            .iter()
            .all(|r| !r.body.to_string().contains("s3cret"))
    );

    assert!(api.handle().export_jobs().is_empty());
    assert_eq!(api.get("/v2/jobs").await.1, json!([]));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
}

/// The export "pw" of July 1st, logging in as `user` with `password`.
fn password_body(api: &Api, user: &str, password: &str, folder: &Path) -> Value {
    let mut body = api.body("pw", folder, JULY_1ST, json!({}));
    let destination = &mut body["destination"];
    destination.as_object_mut().unwrap().remove("savedKey");
    destination["username"] = json!(user);
    destination["password"] = json!(password);
    body
}

#[tokio::test]
async fn password_login_writes_into_the_accounts_home() {
    let api = Api::with_events(vec![
        json!({"action": "open", "time": "2024-07-01T08:00:00Z", "email": "pw@x.io"}),
    ])
    .await;
    let (user, password) = password_account().expect("the password account exists (./dev setup)");
    let folder = InHome::folder(&user);
    let doc = api
        .done(password_body(&api, &user, &password, &folder.0))
        .await;
    let written = files(&doc, &folder.0);
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].0, "pw.json");
    let records = all_records(&written);
    assert_eq!(records, api.handle().events());
    // Written by the account itself, as a real SFTP login would.
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(folder.0.join("pw.json")).unwrap().uid();
    assert_eq!(owner, std::fs::metadata(&folder.0).unwrap().uid());
}

#[tokio::test]
async fn a_wrong_password_fails_with_cant_login() {
    let api = Api::no_events().await;
    let (user, password) = password_account().expect("the password account exists (./dev setup)");
    let folder = InHome::folder(&user);
    let id = api
        .export(password_body(
            &api,
            &user,
            &format!("{password}-wrong"),
            &folder.0,
        ))
        .await;
    let (doc, details) = api.finished(&id).await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(doc["message"], "Can't login to the server (127.0.0.1)");
    assert_eq!(doc["metadata"]["fileNames"], json!([]));
    assert!(
        details["failureDetail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(std::fs::read_dir(&folder.0).unwrap().count(), 0);
}

#[tokio::test]
async fn unreachable_servers_and_missing_folders_fail_the_job() {
    let api = Api::no_events().await;
    let folder = api.folder("x");
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut body = api.body("down", &folder, JULY_1ST, json!({}));
    body["destination"]["port"] = json!(closed);
    let id = api.export(body).await;
    let (doc, _) = api.finished(&id).await;
    assert_eq!(doc["status"], "Failed");
    assert_eq!(doc["message"], "Can't connect to the server (127.0.0.1)");

    let missing = api.sshd.files_dir().join("no-such-folder");
    let id = api
        .export(api.body("missing", &missing, JULY_1ST, json!({})))
        .await;
    let (doc, _) = api.finished(&id).await;
    assert_eq!(doc["status"], "Failed");
    assert_eq!(
        doc["message"],
        format!(
            "The folder ({}) does not exist on the server (127.0.0.1)",
            missing.display()
        )
    );
    assert!(!missing.exists());
}

#[tokio::test]
async fn fail_next_export_fails_only_the_next_job() {
    let api = Api::with_events(vec![
        json!({"action": "open", "time": "2024-07-01T08:00:00Z", "email": "a@x.io"}),
    ])
    .await;
    let folder = api.folder("out");
    api.handle().fail_next_export("Export failed: disk full");
    let body = |name: &str| api.body(name, &folder, JULY_1ST, json!({}));
    let failed = api.export(body("first")).await;
    let (doc, details) = api.finished(&failed).await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(doc["message"], "Export failed: disk full");
    assert_eq!(doc["metadata"]["fileNames"], json!([]));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);

    let doc = api.done(body("second")).await;
    assert_eq!(doc["metadata"]["fileNames"], json!(["second.json"]));
    assert!(doc.get("message").is_none());
    let jobs = api.handle().export_jobs();
    assert_eq!(
        jobs.iter().map(|j| j["status"].clone()).collect::<Vec<_>>(),
        [json!("Failed"), json!("Done")]
    );
    assert_eq!(jobs[0]["failureDetail"], "EmulatorHandle::fail_next_export");
}

#[tokio::test]
async fn held_exports_stay_pending_until_released() {
    let api = Api::with_events(vec![
        json!({"action": "click", "time": "2024-07-01T08:00:00Z", "email": "a@x.io"}),
    ])
    .await;
    let folder = api.folder("held");
    api.handle().hold_jobs(true);
    let id = api
        .export(api.body("held", &folder, JULY_1ST, json!({})))
        .await;
    let metadata = json!({"name": "held", "exportType": "json", "path": folder.to_str().unwrap(),
                          "fileName": "held.json", "fileNames": []});
    let doc = api.assert_held(&id, "ExportEvents", metadata).await;
    assert_eq!(doc["times"], json!({}));
    // Whatever else runs in between, a held job does not start.
    let imported = api
        .post(
            "/v2/contacts",
            json!({"channels": {"email": {"address": "x@x.io"}}}),
        )
        .await;
    assert_eq!(imported.0, 201);
    tokio::task::yield_now().await;
    let (_, pending) = api
        .get("/v2/jobs?status=Pending&jobName=ExportEvents")
        .await;
    assert_eq!(pending.as_array().map(Vec::len), Some(1), "{pending}");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);

    api.handle().hold_jobs(false);
    let (doc, details) = api.finished(&id).await;
    assert_eq!(doc["status"], "Done", "{details}");
    assert_eq!(doc["totalItems"], 1);
    assert_eq!(files(&doc, &folder).len(), 1);
}

#[tokio::test]
async fn invalid_seed_events_stop_the_emulator_from_starting() {
    let error = start(EmulatorConfig {
        events: vec![json!({"action": "open"})],
        ..Default::default()
    })
    .await
    .expect_err("an event without a time is refused");
    assert!(error.to_string().contains("event 0"), "{error}");
    let running = start(EmulatorConfig::default()).await.unwrap();
    let handle = running.handle();
    assert!(
        handle
            .add_events(vec![json!({"time": "2024-07-01"})])
            .is_err()
    );
    assert_eq!(handle.event_count(), 0);
    running.shutdown().await;
}

#[tokio::test]
async fn a_denied_folder_fails_with_permission_denied() {
    let api = Api::no_events().await;
    let (user, password) = password_account().expect("the password account exists (./dev setup)");
    // The sshd's folders belong to root: the password account may not write there.
    let folder = api.folder("root-only");
    let id = api
        .export(password_body(&api, &user, &password, &folder))
        .await;
    let (doc, details) = api.finished(&id).await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(
        doc["message"],
        format!(
            "Permission denied: couldn't write the file ({}/pw.json)",
            folder.display()
        )
    );
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
}

#[tokio::test]
async fn a_million_events_generate_and_export_in_streamed_gzip_parts() {
    let api = Api::no_events().await;
    let started = std::time::Instant::now();
    api.handle().generate_events(
        1_000_000,
        2024,
        at("2024-01-01T00:00:00Z"),
        at("2024-07-01T00:00:00Z"),
    );
    let generated = started.elapsed();
    assert_eq!(api.handle().event_count(), 1_000_000);
    // Generous for an unoptimised build on a busy machine (it takes well under a second).
    assert!(generated < Duration::from_secs(20), "{generated:?}");
    let started = std::time::Instant::now();
    let (doc, written) = api
        .exported(
            "big",
            ("2024-01-01T00:00:00Z", "2024-07-01T00:00:00Z"),
            json!({"compress": true, "limitRecordsPerFile": 300_000}),
        )
        .await;
    eprintln!(
        "1,000,000 events generated in {generated:?}, exported in {:?}",
        started.elapsed()
    );
    assert_eq!(doc["totalItems"], 1_000_000);
    assert_eq!(doc["completedItems"], 1_000_000);
    let parts = written;
    assert_eq!(
        parts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "big-1.json.gz",
            "big-2.json.gz",
            "big-3.json.gz",
            "big-4.json.gz"
        ]
    );
    let counts: Vec<usize> = parts.iter().map(|(_, t)| t.lines().count()).collect();
    assert_eq!(counts, [300_000, 300_000, 300_000, 100_000]);
    let first: Value = serde_json::from_str(parts[0].1.lines().next().unwrap()).unwrap();
    let last: Value = serde_json::from_str(parts[3].1.lines().last().unwrap()).unwrap();
    assert!(cordial_time(first["time"].as_str().unwrap()) >= at("2024-01-01T00:00:00Z"));
    assert!(cordial_time(last["time"].as_str().unwrap()) < at("2024-07-01T00:00:00Z"));
}
