//! The Spin entry of Export Audiences (Bulk). Spin runs no background work, so the bundled
//! host's scheduler becomes a route a scheduler calls, and its SFTP server becomes the app:
//!
//! - `POST /hooks/<job>`: the platform's Audience Trigger payloads (the bundled host's
//!   checks and answers); the audience's members are stored before the `202`;
//! - `POST /run/<job>` (the run secret): under the job's run lease, numbers the members
//!   received since the last run and calls the job's `scheduled.run` once: one step of the
//!   resumable run (write the files, register them, poll Cordial), answered with where it
//!   stands; the scheduler calls again until it says `finished`;
//! - `GET /files/<job>/<grant>/<path>`: a file the job wrote, to whoever holds a live
//!   grant, which only Cordial is given (in the import's `source.url`).

use cordial_jobs::intake::{self, HOOKS_LIMIT};
use cordial_jobs::settings::{ExportSettings, JobKind};
use cordial_spin_glue::entry::{self, Answer, Call, fail};
use cordial_spin_glue::files::{Folder, FolderError};
use cordial_spin_glue::kv::now_ms;
use cordial_spin_glue::members::{Members, Received};
use cordial_spin_glue::request::{BodyError, Head, read_body};
use cordial_spin_glue::{respond, scheduled};
use serde_json::{Map, Value, json};
use wasip2::http::types::{IncomingRequest, Method, ResponseOutparam};

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package cordial:spin-entries;
        world bulk-entry { import cordial:jobs/scheduled@0.2.0; }
    ",
    world: "cordial:spin-entries/bulk-entry",
    with: {
        "cordial:jobs/types@0.2.0": cordial_spin_glue::types,
    },
    generate_all,
});

const KIND: JobKind = JobKind::ExportBulk;

struct Entry;

impl wasip2::exports::http::incoming_handler::Guest for Entry {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let head = Head::of(&request);
        if head.path.starts_with("/files/") {
            return serve_file(&head, out);
        }
        let answer = answer(request, &head);
        entry::send(&head, out, answer);
    }
}

wasip2::http::proxy::export!(Entry);

fn answer(request: IncomingRequest, head: &Head) -> Answer {
    let (vars, job) = entry::variables()?;
    let call = entry::route(head, "hooks", &job)?;
    if !matches!(head.method, Method::Post) {
        return Err(fail(405, "only POST is answered here"));
    }
    entry::authorize(&vars, head, &call)?;
    let settings: ExportSettings = entry::job_settings(&vars, KIND, &job)?;
    let members = Members::open(&job)
        .map_err(|e| fail(503, format!("the store is unavailable; retry later ({e})")))?;
    match call {
        Call::Intake => {
            let body = read_body(request, head, HOOKS_LIMIT.max_bytes).map_err(|e| match e {
                BodyError::TooLarge => fail(413, HOOKS_LIMIT.refusal()),
                BodyError::Broken(why) => fail(400, format!("the body could not be read: {why}")),
            })?;
            let events = cordial_jobs::webhook::parse_trigger_payload(&body)
                .map_err(|e| (400, json!({ "error": e.message, "path": e.path })))?;
            let (items, ignored) = intake::audience_items(&settings, events);
            let received: Vec<Received> = items
                .into_iter()
                .map(|e| Received {
                    contact: e.contact,
                    entered: e.kind != cordial_jobs::realtime::Membership::Exit,
                    user: Value::Object(e.user).to_string(),
                })
                .collect();
            if !received.is_empty() {
                members.receive(&received, now_ms()).map_err(|e| {
                    fail(
                        503,
                        format!("the members could not be stored; retry later ({e})"),
                    )
                })?;
            }
            Ok((
                202,
                json!({ "accepted": received.len(), "ignored_other_audiences": ignored }),
            ))
        }
        Call::Run => scheduled::step(
            &vars,
            &job,
            || {
                let received = members.sequence().map_err(|e| {
                    fail(
                        503,
                        format!("the received members could not be numbered ({e})"),
                    )
                })?;
                Ok(Map::from_iter([("received".into(), json!(received))]))
            },
            cordial::jobs::scheduled::run,
        ),
    }
}

/// `GET /files/<job>/<grant>/<path>`: the same `404` for a wrong, expired or unknown grant
/// and a missing file, so the route tells a prober nothing.
fn serve_file(head: &Head, out: ResponseOutparam) {
    let not_found = |out| respond::error(out, 404, "no such file");
    if !matches!(head.method, Method::Get) {
        return respond::error(out, 405, "only GET is answered here");
    }
    let Ok((_, job)) = entry::variables() else {
        return respond::error(out, 500, "set the Spin variable `ingress_job`");
    };
    let rest = head.path.strip_prefix("/files/").unwrap_or_default();
    let mut parts = rest.splitn(3, '/');
    let (name, token, path) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    if name != job || path.is_empty() {
        return not_found(out);
    }
    let folder = match Folder::open(&job) {
        Ok(folder) => folder,
        Err(e) => return respond::error(out, 503, e),
    };
    match folder.granted(token, now_ms()) {
        Ok(true) => {}
        Ok(false) => return not_found(out),
        Err(e) => return respond::error(out, 503, e),
    }
    let mut reader = match folder.read(path) {
        Ok(reader) => reader,
        Err(FolderError::NotFound(_) | FolderError::OutsideRoot(_)) => return not_found(out),
        Err(FolderError::Store(e)) => return respond::error(out, 503, e),
    };
    let headers = [
        (
            "content-type".to_owned(),
            b"text/csv; charset=utf-8".to_vec(),
        ),
        (
            "content-length".to_owned(),
            reader.size().to_string().into_bytes(),
        ),
        ("cache-control".to_owned(), b"no-store".to_vec()),
    ];
    respond::stream(out, 200, &headers, || {
        reader.read(64 * 1024).map_err(|e| format!("{e:?}"))
    });
}
