//! Contact imports: the sshd serves the file, and the job is read back through
//! `GET /v2/jobs`.

use cordial_emulator::{EmulatorConfig, Seed};
use cordial_sftp::sshd::password_account;
use serde_json::{Value, json};

use crate::api::{Api, changed, without};
use crate::home::InHome;

const KEY: &str = "import-test-key";

impl Api {
    /// The demo account plus the lists `vip` and `promo`.
    async fn with_lists() -> Api {
        let mut seed = Seed::demo();
        seed.lists.extend(["vip".to_owned(), "promo".to_owned()]);
        Api::launch(
            KEY,
            EmulatorConfig {
                seed,
                ..Default::default()
            },
        )
        .await
    }

    /// Writes `text` into the sshd's files folder and returns its absolute path.
    fn write_file(&self, name: &str, text: &str) -> String {
        let path = self.sshd.files_dir().join(name);
        std::fs::write(&path, text).expect("file written");
        path.to_str().expect("utf-8 path").to_owned()
    }

    /// An SFTP source logging in with the saved key.
    fn key_source(&self, path: &str) -> Value {
        let mut source = self.key_login(path);
        source["transport"] = json!("sftp");
        source
    }

    /// An SFTP source logging in as `user` with `password`.
    fn password_source(&self, user: &str, password: &str, path: &str) -> Value {
        json!({"transport": "sftp", "server": "127.0.0.1", "port": self.sshd.port(),
               "username": user, "password": password, "path": path})
    }

    /// Posts an import, expects 201 and a 24-hex job id.
    async fn import(&self, body: Value) -> String {
        self.start_job("/v2/contactimports", body, 201).await
    }

    /// Imports and waits for the job: its document and the handle's view of it.
    async fn imported(&self, body: Value) -> (Value, Value) {
        let id = self.import(body).await;
        self.finished(&id).await
    }

    /// Creates a contact as another system would, before the import.
    async fn create_contact(&self, body: Value) {
        let (status, answer) = self.post("/v2/contacts", body).await;
        assert_eq!(status, 201, "{answer}");
    }

    async fn contact(&self, email: &str) -> Value {
        let (status, c) = self.get(&format!("/v2/contacts/email:{email}")).await;
        assert_eq!(status, 200, "{email}: {c}");
        c
    }

    /// Imports `text` from a file in the password account's home, logging in as that
    /// account with the password `password` makes of its own: the job's document and the
    /// handle's view of it.
    async fn imported_with_password(
        &self,
        text: &str,
        password: impl FnOnce(String) -> String,
    ) -> (Value, Value) {
        let (user, own) = password_account().expect("the password account exists (./dev setup)");
        let file = InHome::file(&user, text);
        let source = self.password_source(&user, &password(own), file.path());
        self.imported(json!({"source": source, "hasHeader": true}))
            .await
    }

    /// The contact with `email`, checked for its email `status` and `first_name`.
    async fn contact_as(&self, email: &str, status: &str, first_name: &str) -> Value {
        let contact = self.contact(email).await;
        assert_eq!(status_of(&contact), status, "{contact}");
        assert_eq!(contact["attributes"]["first_name"], first_name, "{contact}");
        contact
    }

    async fn list_id(&self, name: &str) -> u64 {
        let (_, lists) = self.get(&format!("/v2/accountlists?name={name}")).await;
        lists[0]["id"].as_u64().expect("list id")
    }
}

fn status_of(contact: &Value) -> &str {
    contact["channels"]["email"]["subscribeStatus"]
        .as_str()
        .unwrap_or("")
}

fn result(doc: &Value) -> Value {
    doc["result"].clone()
}

#[tokio::test]
async fn key_import_goes_pending_to_done_and_applies_every_rule() {
    let api = Api::with_lists().await;
    let promo = api.list_id("promo").await;
    // Existing contacts: one unsubscribed, one with values and on the promo list.
    for body in [
        json!({"channels": {"email": {"address": "gone@x.io", "subscribeStatus": "unsubscribed"}}}),
        json!({"channels": {"email": {"address": "old@x.io", "subscribeStatus": "none"}},
               "first_name": "Old", "last_name": "Timer", "age": 50, "promo": true}),
    ] {
        api.create_contact(body).await;
    }
    let path = api.write_file(
        "contacts.csv",
        &format!(
            "channels.email.subscribeStatus,channels.email.address,first_name,last_name,age,birthday,interests,address.city,newsletter,vip,{promo}\r\n\
             ,New@X.io,\"Ann, \"\"the first\"\"\",,33,1990-05-01,\"[\"\"a\"\",\"\"b\"\"]\",San Diego,1,0,1\r\n\
             subscribed,gone@x.io,Gone,\\N,\\N,\\N,\\N,\\N,\\N,\\N,\\N\r\n\
             \\N,old@x.io,\\N,,\\N,\\N,\\N,\\N,0,\\N,1\r\n\
             ,not-an-email,X,,1,,,,1,1,1\r\n\
             ,bad-age@x.io,Y,,forty,,,,1,1,1\r\n"
        ),
    );
    api.handle().hold_jobs(true);
    let id = api
        .import(json!({
            "importName": "nightly",
            "source": api.key_source(&path),
            "hasHeader": true,
            "nullMarker": "\\N",
            "lists": {"addTo": ["vip"], "removeFrom": ["promo"]},
        }))
        .await;

    // Held: the job is Pending and stays so.
    let metadata = json!({"importName": "nightly", "fileName": path});
    api.assert_held(&id, "ImportContacts", metadata).await;
    let (_, pending) = api.get("/v2/jobs?status=Pending").await;
    assert_eq!(pending.as_array().map(Vec::len), Some(1), "{pending}");
    assert!(api.handle().contact("new@x.io").is_none());
    tokio::task::yield_now().await;
    assert_eq!(
        api.get(&format!("/v2/jobs/{id}")).await.1["status"],
        "Pending"
    );

    api.handle().hold_jobs(false);
    let (doc, details) = api.finished(&id).await;
    assert_eq!(doc["status"], "Done", "{details}");
    assert_eq!(
        result(&doc),
        json!({"totalRecords": 5, "inserted": 1, "updated": 2, "rejected": 2, "error": 0, "ignored": 0})
    );
    assert_eq!(doc["totalItems"], 5);
    assert_eq!(doc["completedItems"], 5);
    assert!(
        doc["times"]["start"].is_string() && doc["times"]["end"].is_string(),
        "{doc}"
    );
    assert!(
        doc.get("rejectedRows").is_none(),
        "emulator-only detail stays off the API"
    );

    let rejected = details["rejectedRows"].as_array().expect("rejectedRows");
    assert_eq!(rejected.len(), 2, "{details}");
    assert_eq!(rejected[0]["row"], 4);
    assert_eq!(rejected[0]["line"], 5);
    assert_eq!(
        rejected[0]["reason"],
        "The channels.email.address must be a valid email address."
    );
    assert_eq!(rejected[1]["row"], 5);
    assert_eq!(rejected[1]["reason"], "The age must be a number.");

    // New contact: email lower-cased, typed values, blank status = subscribed,
    // addTo wins over vip=0, removeFrom wins over the promo-id column's 1.
    let new = api.contact("new@x.io").await;
    assert_eq!(new["channels"]["email"]["address"], "new@x.io");
    assert_eq!(status_of(&new), "subscribed");
    let a = &new["attributes"];
    assert_eq!(a["first_name"], "Ann, \"the first\"");
    assert!(
        a.get("last_name").is_none(),
        "an empty cell sets nothing: {a}"
    );
    assert_eq!(a["age"], 33);
    assert_eq!(a["birthday"], "1990-05-01T00:00:00+0000");
    assert_eq!(a["interests"], json!(["a", "b"]));
    assert_eq!(a["address"], json!({"city": "San Diego"}));
    assert_eq!(new["lists"], json!(["newsletter", "vip"]));

    // Unsubscribe is sticky, even against an explicit `subscribed`.
    api.contact_as("gone@x.io", "unsubscribed", "Gone").await;

    // The null marker leaves values (and the status) alone; an empty cell clears.
    let old = api.contact_as("old@x.io", "none", "Old").await;
    assert_eq!(old["attributes"]["age"], 50);
    assert!(old["attributes"].get("last_name").is_none(), "{old}");
    assert_eq!(old["lists"], json!(["vip"]));

    assert!(api.handle().contact("bad-age@x.io").is_none());
    assert_eq!(api.handle().contact_count(), 3);

    // The list of jobs, filtered.
    let (_, done) = api.get("/v2/jobs?jobName=ImportContacts&status=Done").await;
    assert_eq!(done.as_array().map(Vec::len), Some(1));
    assert_eq!(done[0]["_id"], id.as_str());
    let (_, none) = api.get("/v2/jobs?jobName=ExportEvents").await;
    assert_eq!(none, json!([]));
    let (status, missing) = api.get("/v2/jobs/0123456789abcdef01234567").await;
    assert_eq!(status, 404);
    assert_eq!(
        missing,
        json!({"error": true, "errorKey": "RECORD_NOT_FOUND", "message": "record not found"})
    );
}

#[tokio::test]
async fn subscribe_false_keeps_existing_statuses_and_new_contacts_get_none() {
    let api = Api::with_lists().await;
    for (email, status) in [("sub@x.io", "subscribed"), ("none@x.io", "none")] {
        let channels = json!({"email": {"address": email, "subscribeStatus": status}});
        api.create_contact(json!({ "channels": channels })).await;
    }
    let path = api.write_file(
        "quiet.csv",
        "none@x.io,ignored,Nina\nsub@x.io,ignored,Sam\nfresh@x.io,ignored,Fred\nnone@x.io,ignored,\\N\n",
    );
    let (doc, details) = api
        .imported(json!({
            "source": api.key_source(&path),
            "columns": ["channels.email.address", "", "first_name"],
            "subscribe": false,
            "nullMarker": "\\N",
        }))
        .await;
    assert_eq!(doc["status"], "Done", "{details}");
    assert_eq!(
        result(&doc),
        json!({"totalRecords": 4, "inserted": 1, "updated": 3, "rejected": 0, "error": 0, "ignored": 0})
    );
    assert_eq!(status_of(&api.contact("sub@x.io").await), "subscribed");
    api.contact_as("none@x.io", "none", "Nina").await;
    api.contact_as("fresh@x.io", "none", "Fred").await;
}

#[tokio::test]
async fn strategy_ignores_rows_it_may_not_write() {
    let api = Api::with_lists().await;
    api.create_contact(json!({"channels": {"email": {"address": "here@x.io"}}}))
        .await;
    let path = api.write_file(
        "strategy.csv",
        "channels.email.address,first_name\nhere@x.io,Here\nthere@x.io,There\n",
    );
    let with_strategy = |strategy: &str| json!({"source": api.key_source(&path), "hasHeader": true, "strategy": strategy});
    let (doc, _) = api.imported(with_strategy("updateOnly")).await;
    assert_eq!(result(&doc)["updated"], 1);
    assert_eq!(result(&doc)["ignored"], 1);
    assert!(api.handle().contact("there@x.io").is_none());
    let (doc, _) = api.imported(with_strategy("insertOnly")).await;
    assert_eq!(result(&doc)["inserted"], 1);
    assert_eq!(result(&doc)["ignored"], 1);
    assert_eq!(
        api.contact("there@x.io").await["attributes"]["first_name"],
        "There"
    );
}

#[tokio::test]
async fn password_login_reads_from_the_accounts_home() {
    let api = Api::with_lists().await;
    let text = "channels.email.address,last_name\npw@x.io,Word\n";
    let (doc, details) = api.imported_with_password(text, |own| own).await;
    assert_eq!(doc["status"], "Done", "{details}");
    assert_eq!(result(&doc)["inserted"], 1);
    assert_eq!(
        api.contact("pw@x.io").await["attributes"]["last_name"],
        "Word"
    );
}

#[tokio::test]
async fn wrong_password_fails_with_cant_login() {
    let api = Api::with_lists().await;
    let (doc, details) = api
        .imported_with_password("channels.email.address\nx@x.io\n", |own| {
            format!("{own}-wrong")
        })
        .await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(doc["message"], "Can't login to the server (127.0.0.1)");
    assert!(
        details["failureDetail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(api.handle().contact_count(), 0);
}

#[tokio::test]
async fn missing_file_unreachable_server_and_no_email_column_fail_the_job() {
    let api = Api::with_lists().await;
    let dir = api.sshd.files_dir();
    let missing = dir.join("nope.csv");
    let missing = missing.to_str().unwrap();
    let (doc, details) = api
        .imported(json!({"source": api.key_source(missing), "hasHeader": true}))
        .await;
    assert_eq!(doc["status"], "Failed", "{details}");
    assert_eq!(
        doc["message"],
        format!("Couldn't get the size of the file ({missing})")
    );

    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut source = api.key_source(missing);
    source["port"] = json!(closed_port);
    let (doc, _) = api
        .imported(json!({"source": source, "hasHeader": true}))
        .await;
    assert_eq!(doc["message"], "Can't connect to the server (127.0.0.1)");

    let path = api.write_file("no-email.csv", "first_name\nAnn\n");
    let (doc, _) = api
        .imported(json!({"source": api.key_source(&path), "hasHeader": true}))
        .await;
    assert_eq!(doc["status"], "Failed");
    assert_eq!(
        doc["message"],
        "The file has no channels.email.address column."
    );

    let (_, failed) = api.get("/v2/jobs?status=Failed").await;
    assert_eq!(failed.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn configuration_errors_answer_406_and_start_no_job() {
    let api = Api::with_lists().await;
    let good = json!({"source": api.password_source("u", "p", "/in/a.csv"), "hasHeader": true});
    let cases = [
        (
            without(&good, &["source", "transport"]),
            "The source.transport field is required.",
        ),
        (
            changed(&good, |b| b["source"]["transport"] = json!("s3")),
            "The selected source.transport is invalid. (This emulator fetches import files over SFTP, HTTP and HTTPS only.)",
        ),
        (
            changed(&good, |b| b["source"]["transport"] = json!("https")),
            "The source.url field is required.",
        ),
        (
            without(&good, &["source", "server"]),
            "The source.server field is required.",
        ),
        (
            without(&good, &["source", "username"]),
            "The source.username field is required.",
        ),
        (
            without(&good, &["source", "path"]),
            "The source.path field is required.",
        ),
        (
            without(&good, &["source", "password"]),
            "Parameter password is not set",
        ),
        (
            without(&good, &["hasHeader"]),
            "The columns field is required.",
        ),
    ];
    let route = "/v2/contactimports";
    let refused = cases
        .into_iter()
        .map(|(body, message)| (body, 406, message));
    api.assert_refused(route, refused.collect()).await;
    let unknown_key = changed(&good, |b| {
        b["source"].as_object_mut().unwrap().remove("password");
        b["source"]["savedKey"] = json!("unknown-key");
    });
    api.assert_unknown_saved_key_refused(route, unknown_key, 406)
        .await;

    // The shared middleware applies: no key, no import.
    let unauthenticated = api
        .http
        .post(format!("{}/v2/contactimports", api.base))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    let recorded = api.handle().requests();
    assert!(recorded.iter().all(|r| r.path == "/v2/contactimports"));
    assert_eq!(recorded.len(), 10);

    assert!(api.handle().import_jobs().is_empty());
    assert_eq!(api.get("/v2/jobs").await.1, json!([]));
}

#[tokio::test]
async fn a_full_size_file_of_30000_rows_imports_with_another_delimiter() {
    let api = Api::with_lists().await;
    let mut text = String::from("channels.email.address;age;newsletter\n");
    for i in 0..30_000 {
        text.push_str(&format!("user{i}@x.io;{i};{}\n", i % 2));
    }
    let path = api.write_file("big.csv", &text);
    let id = api
        .import(json!({"source": api.key_source(&path), "hasHeader": true, "delimiter": ";"}))
        .await;
    let (doc, details) = api.finished(&id).await;
    assert_eq!(doc["status"], "Done", "{details}");
    assert_eq!(
        result(&doc),
        json!({"totalRecords": 30000, "inserted": 30000, "updated": 0, "rejected": 0, "error": 0, "ignored": 0})
    );
    assert_eq!(api.handle().contact_count(), 30_000);
    let last = api.contact("user29999@x.io").await;
    assert_eq!(last["attributes"]["age"], 29999);
    assert_eq!(last["lists"], json!(["newsletter"]));
    let news = api.list_id("newsletter").await;
    let (_, count) = api.get(&format!("/v2/accountlists/{news}/count")).await;
    assert_eq!(count["count"], 15_000);

    // Jobs API extras: `fields` and the statistic page cap.
    let (_, some) = api
        .get(&format!("/v2/jobs/{id}?fields=status,result"))
        .await;
    assert_eq!(some.as_object().map(|o| o.len()), Some(2), "{some}");
    assert_eq!(some["status"], "Done");
    let (status, capped) = api.get("/v2/jobs?include=statistic&per_page=50").await;
    assert_eq!(status, 400);
    assert_eq!(capped["errorKey"], "JOBS_STATISTIC_PER_PAGE_EXCEEDED");
}
