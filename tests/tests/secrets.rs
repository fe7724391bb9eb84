//! The secrets sweep: every job runs to its end once the happy way and once the failing way
//! (a Cordial 401, an SFTP login refused, a host the sandbox denies, a component that traps,
//! a wrong API key, a wrong webhook secret), then every log line, command output, metrics
//! answer, run record and stored row is searched for the API key, the SFTP password and the
//! webhook secret, as themselves and in every base64 form they could travel in. None may
//! appear: whoever reads a log, a `runs` table or the store must not learn a credential.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use cordial_e2e::activity::{STREAM, event};
use cordial_e2e::capture::{self, capture_job};
use cordial_e2e::cli::{Ran, ServeProcess, host};
use cordial_e2e::harness::{Harness, components_dir};
use cordial_e2e::http::{get, post};
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::wait_settled;
use cordial_e2e::sftp::{HomeFolder, SAVED_KEY, sftp_table};
use cordial_emulator::{EmulatorConfig, Fault};
use cordial_host::db::NewEvent;
use cordial_sftp::sshd::{LocalSshd, password_account};
use serde_json::json;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The Cordial API key the emulator accepts: long and random-looking, so that any
/// occurrence of it (or of its base64) in an output is a leak, never a coincidence.
const API_KEY: &str = "ck_live_7Qm2VxR9pLw4Zt8NbY3sJd6HfK1gUe5Aq0Wc";
/// A key Cordial refuses (`check` with a wrong key): a wrong key is still someone's key.
const WRONG_API_KEY: &str = "ck_live_Hn4Tr8Ke2Lz6Xb0Vm3Qs9Pd5Wy1Ja7Gf";
/// The webhook secret the platform presents to `serve`.
const WEBHOOK_SECRET: &str = "whsec_Rt5Nq8Zk2Mv7Xc4Lb9Hs3Jf6Wd1Pg0Ty";

/// How long a queue may take to settle before the test fails.
const SETTLE: Duration = Duration::from_secs(60);

/// Every form a secret could be written in: itself, its base64 (standard and URL-safe, with
/// and without padding), and the `Basic` credentials built from it.
struct Secrets {
    /// (what it is, the text that must not appear)
    forms: Vec<(String, String)>,
}

impl Secrets {
    fn new(named: &[(&str, &str)], basic: &[(&str, String)]) -> Secrets {
        let mut forms = Vec::new();
        let encodings = [
            ("base64", &STANDARD),
            ("base64 unpadded", &STANDARD_NO_PAD),
            ("url-safe base64", &URL_SAFE),
            ("url-safe base64 unpadded", &URL_SAFE_NO_PAD),
        ];
        let mut add = |label: &str, plain: &str, with_plain: bool| {
            if with_plain {
                forms.push((label.to_owned(), plain.to_owned()));
            }
            for (encoding, engine) in encodings {
                forms.push((format!("{label} ({encoding})"), engine.encode(plain)));
            }
        };
        for (label, secret) in named {
            add(label, secret, true);
        }
        for (label, credentials) in basic {
            add(label, credentials, false);
        }
        Secrets { forms }
    }

    /// The forms `text` contains, by name.
    fn found_in(&self, text: &str) -> Vec<&str> {
        self.forms
            .iter()
            .filter(|(_, form)| text.contains(form.as_str()))
            .map(|(label, _)| label.as_str())
            .collect()
    }

    /// `text` with every form replaced by its name, so a failure report leaks nothing.
    fn masked(&self, text: &str) -> String {
        self.forms.iter().fold(text.to_owned(), |t, (label, form)| {
            t.replace(form, &format!("<{label}>"))
        })
    }
}

/// What the sweep searched and what it found.
struct Sweep {
    secrets: Secrets,
    searched: usize,
    leaks: Vec<String>,
}

impl Sweep {
    fn new(secrets: Secrets) -> Sweep {
        Sweep {
            secrets,
            searched: 0,
            leaks: Vec::new(),
        }
    }

    /// Searches `text`, line by line, naming `place` for any line holding a secret.
    fn search(&mut self, place: &str, text: &str) {
        for line in without_colours(text).lines() {
            self.searched += 1;
            let found = self.secrets.found_in(line);
            if !found.is_empty() {
                self.leaks.push(format!(
                    "{place}: {} in {}",
                    found.join(", "),
                    self.secrets.masked(line)
                ));
            }
        }
    }

    fn ran(&mut self, command: &str, ran: &Ran) {
        self.search(&format!("`{command}` stdout"), &ran.stdout);
        self.search(&format!("`{command}` stderr"), &ran.stderr);
    }

    /// Every row of every table of the SQLite file at `path`, every column as text (blobs
    /// as lossy UTF-8): what anyone with a copy of the store could read.
    fn store(&mut self, path: &Path) {
        let db = rusqlite::Connection::open(path).unwrap();
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(!tables.is_empty(), "no tables in {}", path.display());
        for table in tables {
            let mut select = db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let columns: Vec<String> = select
                .column_names()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let mut rows = select.query([]).unwrap();
            while let Some(row) = rows.next().unwrap() {
                for (i, column) in columns.iter().enumerate() {
                    let text = match row.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            String::from_utf8_lossy(t).into_owned()
                        }
                        other => format!("{other:?}"),
                    };
                    self.search(&format!("store {table}.{column}"), &text);
                }
            }
        }
    }
}

/// `text` without terminal colour codes (`ESC [ … m`), which a log written to a terminal
/// (and so captured from one) carries and which would split a secret logged as a coloured
/// field.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

/// Searches the sweep's own plumbing first: a secret planted in each place the sweep reads
/// is found, so a clean sweep means a clean host and not a blind search.
fn the_sweep_finds_planted_secrets(user: &str, password: &str) {
    let mut clean = Sweep::new(secrets(user, password));
    clean.search(
        "clean",
        &format!("login as {user} refused; check the password"),
    );
    assert!(clean.leaks.is_empty(), "{:?}", clean.leaks);
    let basic = STANDARD.encode(format!("{API_KEY}:"));
    for line in [
        format!("request failed: authorization: Basic {basic}"),
        format!("GET /v2/contacts?key={}", URL_SAFE_NO_PAD.encode(API_KEY)),
        format!("login as {user} with {password}-wrong refused"),
        format!(
            "sftp://{}@host",
            STANDARD.encode(format!("{user}:{password}"))
        ),
        format!("x-webhook-secret: {WEBHOOK_SECRET}"),
        format!("wrong key {WRONG_API_KEY}"),
        // A log field, coloured: the codes fall between the key's halves.
        format!("\u{1b}[3mkey\u{1b}[0m\u{1b}[2m=\u{1b}[0m{}", &API_KEY[..20])
            + &format!("\u{1b}[1m{}\u{1b}[0m", &API_KEY[20..]),
    ] {
        let mut planted = Sweep::new(secrets(user, password));
        planted.search("planted", &format!("first line\n{line}\nlast line"));
        assert_eq!(planted.leaks.len(), 1, "missed in {line:?}");
        // The report names the secret without showing it.
        let report = &planted.leaks[0];
        assert!(planted.secrets.found_in(report).is_empty(), "{report}");
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("planted.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch("CREATE TABLE clean (n INTEGER); INSERT INTO clean VALUES (1);")
        .unwrap();
    db.execute("CREATE TABLE state (key TEXT, value BLOB)", [])
        .unwrap();
    db.execute(
        "INSERT INTO state VALUES ('cursor', ?1)",
        [format!("{{\"auth\":\"{}\"}}", STANDARD.encode(API_KEY)).into_bytes()],
    )
    .unwrap();
    drop(db);
    let mut sweep = Sweep::new(secrets(user, password));
    sweep.store(&path);
    assert_eq!(sweep.leaks.len(), 1, "{:?}", sweep.leaks);
    assert!(
        sweep.leaks[0].starts_with("store state.value"),
        "{}",
        sweep.leaks[0]
    );
}

/// The secrets of this test, with the `Basic` credentials the host builds from the API key
/// (`key:`) and those an SFTP URL or header could carry (`user:password`).
fn secrets(user: &str, password: &str) -> Secrets {
    Secrets::new(
        &[
            ("API key", API_KEY),
            ("wrong API key", WRONG_API_KEY),
            ("SFTP password", password),
            ("webhook secret", WEBHOOK_SECRET),
        ],
        &[
            ("API key Basic credentials", format!("{API_KEY}:")),
            (
                "wrong API key Basic credentials",
                format!("{WRONG_API_KEY}:"),
            ),
            ("SFTP Basic credentials", format!("{user}:{password}")),
        ],
    )
}

/// The emulator (accepting [`API_KEY`], knowing the sshd's client key, with the capture
/// account's attribute and list) and a scratch directory holding the key file and store.
async fn harness(sshd: &LocalSshd) -> Harness {
    let emulator = cordial_emulator::start(EmulatorConfig {
        api_key: API_KEY.into(),
        seed: capture::seed(),
        saved_sftp_keys: HashMap::from([(SAVED_KEY.to_owned(), sshd.client_key())]),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let h = Harness { emulator, dir };
    std::fs::write(h.api_key_file(), API_KEY).unwrap();
    h
}

/// `[auth.<name>]`: the same Cordial key as `[auth.cordial]`, with the SFTP table `sftp`.
fn auth(h: &Harness, name: &str, sftp: &str) -> String {
    format!(
        "\n[auth.{name}]\nbase_url = \"{}\"\napi_key_file = \"{}\"\n{}",
        h.emulator.base_url(),
        h.api_key_file().display(),
        sftp.replace("[auth.cordial.sftp]", &format!("[auth.{name}.sftp]")),
    )
}

/// The scheduled jobs: Import Activity (key login) and bulk export (password login), each
/// also on an authorization whose SFTP password is wrong, and the misbehaving fixture
/// fetching a denied host, fetching the Cordial origin, and trapping.
fn scheduled_jobs(h: &Harness, sshd: &LocalSshd, folder: &Path, wrong: &Path) -> String {
    let (user, _) = password_account().unwrap();
    let password = |file: &Path| format!("password_file = \"{}\"", file.display());
    let key = format!("private_key_file = \"{}\"", sshd.client_key().display());
    let rogue = components_dir().join("misbehaving.wasm");
    let rogue = |name: &str, settings: &str| {
        format!(
            "\n[[job]]\nname = \"{name}\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
             component = \"{}\"\n{settings}\n",
            rogue.display()
        )
    };
    let activity = |name: &str, auth: &str| {
        format!(
            "\n[[job]]\nname = \"{name}\"\nkind = \"import-activity\"\nauth = \"{auth}\"\n\
             sftp_saved_key = \"{SAVED_KEY}\"\n"
        )
    };
    let bulk = |name: &str, auth: &str| {
        format!(
            "\n[[job]]\nname = \"{name}\"\nkind = \"export-bulk\"\nauth = \"{auth}\"\n\
             audience = \"secrets_{}\"\n",
            std::process::id()
        )
    };
    // Outside the Cordial origin: the host refuses it before any connection is made.
    let bystander = "http://127.0.0.1:9/steal";
    [
        sftp_table(
            sshd,
            &user,
            &password(&h.dir.path().join("sftp-password")),
            folder,
        ),
        auth(
            h,
            "keyed",
            &sftp_table(sshd, &sshd.user(), &key, &sshd.files_dir()),
        ),
        auth(
            h,
            "wrong",
            &sftp_table(sshd, &user, &password(wrong), folder),
        ),
        activity("activity", "keyed"),
        activity("activity_refused", "wrong"),
        bulk("bulk", "cordial"),
        bulk("bulk_refused", "wrong"),
        rogue(
            "rogue_denied",
            &format!("action = \"fetch\"\nurl = \"{bystander}\""),
        ),
        rogue(
            "rogue_origin",
            &format!(
                "action = \"fetch\"\nurl = \"{}/v2/accountlists\"",
                h.emulator.base_url()
            ),
        ),
        // A component trapping at its memory limit (the served `panicky` job panics).
        rogue(
            "rogue_trap",
            "action = \"allocate\"\n[job.limits]\nmemory_mb = 32",
        ),
    ]
    .concat()
}

/// The served jobs behind the webhook secret: `vip` (real-time export), `quiz` (capture)
/// and `panicky` (the hostile fixture's real-time job, panicking in `deliver`).
fn served_jobs(secret: &Path) -> String {
    let webhook = format!("[job.webhook]\nsecret_file = \"{}\"\n", secret.display());
    let delivery = "[job.delivery]\nconcurrency = 1\nbatch_size = 10\nmax_attempts = 2\n";
    vip(&format!(
        "[job.field_mapping]\nfirst_name = \"first_name\"\n{delivery}{webhook}"
    )) + &capture_job(
        "quiz",
        &format!(
            "opt_in_mode = \"opted_in\"\nopt_in_attribute = \"quiz_opt_in\"\nlist = \"quiz_list\"\n\
             [job.field_mapping]\nfirst_name = \"first_name\"\n{delivery}{webhook}"
        ),
    ) + &format!(
        "\n[[job]]\nname = \"panicky\"\nkind = \"export-realtime\"\nauth = \"cordial\"\n\
         audience = \"vip_customers\"\ncomponent = \"{}\"\ndescription = \"panic\"\n\
         [job.delivery]\nmax_attempts = 1\n{webhook}",
        components_dir().join("hostile_realtime.wasm").display()
    )
}

fn member(email: &str, audience: &str) -> NewEvent {
    NewEvent {
        contact: email.to_owned(),
        audience: audience.to_owned(),
        kind: "enter".into(),
        user: format!(r#"{{"email":"{email}"}}"#),
        occurred_at: None,
        source: "backfill",
    }
}

/// Runs a command and sweeps what it printed.
async fn command(sweep: &mut Sweep, args: &[&dyn AsRef<OsStr>]) -> Ran {
    let ran = host(args).await;
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    sweep.ran(&shown.join(" "), &ran);
    ran
}

/// Runs scheduled job `job` and expects it to succeed or fail as `ok` says.
async fn run(sweep: &mut Sweep, config: &Path, job: &str, ok: bool) -> Ran {
    let ran = command(sweep, &[&"run", &config, &job]).await;
    assert_eq!(ran.ok, ok, "run {job}: {ran}");
    ran
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn no_secret_appears_in_any_log_output_record_or_row() {
    let (user, password) = password_account().expect("the password account (./dev setup)");
    the_sweep_finds_planted_secrets(&user, &password);
    // SAFETY: no other thread runs yet (this binary has this one test, and the runtime is
    // built below); every host process started from here logs at debug level, so the
    // sweep reads what an operator turning up the logs would see.
    unsafe { std::env::set_var("CORDIAL_LOG", "debug,wasmtime=info,cranelift=info") };
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(drive_and_sweep(&user, &password));
}

async fn drive_and_sweep(user: &str, password: &str) {
    let mut sweep = Sweep::new(secrets(user, password));
    let sshd = LocalSshd::start().unwrap();
    let h = harness(&sshd).await;
    let dir = h.dir.path().to_owned();
    let folder = HomeFolder::new(&format!("secrets-{}", std::process::id()));
    write(&dir, "sftp-password", password);
    let wrong = write(&dir, "sftp-password-wrong", &format!("{password}-wrong"));
    let secret = write(&dir, "webhook-secret", WEBHOOK_SECRET);
    let wrong_key = write(&dir, "wrong-api-key", WRONG_API_KEY);

    let scheduled = h.config_text(&scheduled_jobs(&h, &sshd, folder.path(), &wrong));
    let scheduled = write(&dir, "scheduled.toml", &scheduled);
    let served = served_jobs(&secret);
    let refused_key = h.config_text(&served).replace(
        &h.api_key_file().display().to_string(),
        &wrong_key.display().to_string(),
    );
    let refused_key = write(&dir, "wrong-key.toml", &refused_key);

    // `check`: Cordial refuses the wrong key.
    let ran = command(&mut sweep, &[&"check", &refused_key]).await;
    assert!(!ran.ok && ran.to_string().contains("401"), "{ran}");

    // The scheduled jobs, the happy way and the failing way.
    h.emulator
        .handle()
        .add_events(vec![event(
            "sweep1",
            "open",
            chrono::Utc::now() - chrono::Duration::hours(1),
        )])
        .unwrap();
    run(&mut sweep, &scheduled, "activity", true).await;
    let ran = run(&mut sweep, &scheduled, "activity_refused", false).await;
    assert!(ran.to_string().contains("password"), "{ran}");
    h.store()
        .add_members("bulk", &[member("b1@x.io", "vip")])
        .unwrap();
    h.store()
        .add_members("bulk_refused", &[member("b2@x.io", "vip")])
        .unwrap();
    run(&mut sweep, &scheduled, "bulk", true).await;
    let imports = h.emulator.handle().import_jobs();
    assert!(
        imports.len() == 1 && imports[0]["status"] == "Done",
        "{imports:?}"
    );
    let ran = run(&mut sweep, &scheduled, "bulk_refused", false).await;
    assert!(ran.to_string().contains("refused the password"), "{ran}");
    let ran = run(&mut sweep, &scheduled, "rogue_denied", false).await;
    assert!(ran.to_string().contains("denied"), "{ran}");
    run(&mut sweep, &scheduled, "rogue_origin", true).await;
    let ran = run(&mut sweep, &scheduled, "rogue_trap", false).await;
    assert!(ran.to_string().contains("memory limit"), "{ran}");

    // The served jobs: a wrong secret refused, then deliveries with the right one.
    let mut serve = ServeProcess::start(&h, &served).await;
    let bearer = format!("Bearer {WEBHOOK_SECRET}");
    let near_miss = format!("{WEBHOOK_SECRET}x");
    let hook = |id: u64, email: &str| {
        cordial_e2e::audience_events::default_payload(id, email, "enter", "vip_customers", "")
    };
    let (status, _) = post(
        &serve.url("/hooks/vip"),
        hook(1, "v0@x.io"),
        &[("authorization", &format!("Bearer {near_miss}"))],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &serve.url("/capture/quiz"),
        json!({"email": "q0@x.io", "opt_in": true}).to_string(),
        &[("x-webhook-secret", &near_miss)],
    )
    .await;
    assert_eq!(status, 401);
    let store = h.store();
    let (status, _) = post(
        &serve.url("/hooks/vip"),
        hook(2, "v1@x.io"),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 202);
    let quiz = json!({"email": "q1@x.io", "opt_in": true, "first_name": "Q"}).to_string();
    let (status, _) = post(
        &serve.url("/capture/quiz"),
        quiz,
        &[("x-webhook-secret", WEBHOOK_SECRET)],
    )
    .await;
    assert_eq!(status, 202);
    // The hostile fixture attacks only for a user it can tell: `hostile` in the payload.
    let (status, _) = post(
        &serve.url("/hooks/panicky"),
        hook(4, "hostile@x.io"),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(wait_settled(&store, "panicky", 1, SETTLE).await.dead, 1);
    let vip_counts = wait_settled(&store, "vip", 1, SETTLE).await;
    let quiz_counts = wait_settled(&store, "quiz", 1, SETTLE).await;
    assert_eq!((vip_counts.done, quiz_counts.done), (1, 1));

    // Cordial answers 401 to everything from here on.
    h.emulator.handle().inject(Fault::ServerError {
        status: 401,
        count: 10_000,
    });
    let (status, _) = post(
        &serve.url("/hooks/vip"),
        hook(3, "v2@x.io"),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 202);
    let quiz = json!({"email": "q2@x.io", "opt_in": true}).to_string();
    let (status, _) = post(
        &serve.url("/capture/quiz"),
        quiz,
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(wait_settled(&store, "vip", 2, SETTLE).await.dead, 1);
    assert_eq!(wait_settled(&store, "quiz", 2, SETTLE).await.dead, 1);
    let ran = run(&mut sweep, &scheduled, "activity", false).await;
    assert!(ran.to_string().contains("401"), "{ran}");
    // The bulk export's import request carries the SFTP password for Cordial to fetch the
    // file with: its refusal must not carry it further.
    h.store()
        .add_members("bulk", &[member("b3@x.io", "vip")])
        .unwrap();
    let ran = run(&mut sweep, &scheduled, "bulk", false).await;
    assert!(ran.to_string().contains("401"), "{ran}");
    let refused_import = h.emulator.handle().requests().into_iter().any(|r| {
        r.method == "POST" && r.path == "/v2/contactimports" && r.fault_status == Some(401)
    });
    assert!(refused_import, "Cordial refused no import request");

    // Everything an operator reads.
    for path in ["/metrics", "/metrics.json"] {
        let (status, body) = get(&serve.url(path)).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("vip"), "{path}: {body}");
        sweep.search(path, &body);
    }
    let served_config = dir.join("serve.toml");
    for config in [&scheduled, &served_config] {
        let ran = command(&mut sweep, &[&"runs", config, &"--limit", &"1000"]).await;
        assert!(ran.ok, "{ran}");
        let ran = command(
            &mut sweep,
            &[&"runs", config, &"--limit", &"1000", &"--json"],
        )
        .await;
        assert!(ran.ok, "{ran}");
        command(&mut sweep, &[&"status", config]).await;
        command(&mut sweep, &[&"status", config, &"--json"]).await;
        command(&mut sweep, &[&"check", config]).await;
    }
    for job in ["vip", "quiz"] {
        let ran = command(&mut sweep, &[&"dlq", &"list", &served_config, &job]).await;
        assert!(ran.ok && ran.stdout.contains("401"), "{ran}");
    }
    let ran = command(&mut sweep, &[&"audit", &served_config, &"quiz"]).await;
    assert!(ran.ok, "{ran}");
    command(&mut sweep, &[&"audit", &served_config, &"quiz", &"--json"]).await;
    command(&mut sweep, &[&"quarantine", &scheduled, &"activity"]).await;
    let ran = command(&mut sweep, &[&"stream", &scheduled, &STREAM]).await;
    assert!(ran.ok && ran.stdout.contains("cr_system_event_id"), "{ran}");

    assert!(serve.terminate().await, "serve exits cleanly");
    let log = serve.log();
    assert!(log.contains("dead-lettered"), "{log}");
    sweep.search("serve log", &log);
    drop(store);
    sweep.store(&h.store_path());

    assert!(
        sweep.leaks.is_empty(),
        "{} of {} lines searched hold a secret:\n{}",
        sweep.leaks.len(),
        sweep.searched,
        sweep.leaks.join("\n")
    );
}
