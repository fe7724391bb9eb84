//! The Spin entry of Import Activity. Spin runs no background work, so the bundled host's
//! scheduler becomes a route a scheduler calls, and its streams command becomes a route the
//! platform reads:
//!
//! - `POST /run/<job>` (the run secret): one step of the resumable run (ask Cordial for the
//!   window's export, follow it, read its files over SFTP into the stream), answered with
//!   where it stands; the scheduler calls again until it says `finished`;
//! - `GET /streams/<job>/<stream>?after=<seq>&limit=<n>` (the run secret): the stream's
//!   records numbered after `after` (1,000 at most per call), to read on from `last`;
//! - `GET /streams/<job>/<stream>/quarantine` (the run secret): the records kept aside.

use cordial_spin_glue::entry::{self, Answer, Call, fail};
use cordial_spin_glue::request::Head;
use cordial_spin_glue::scheduled;
use cordial_spin_glue::stream::Stream;
use serde_json::{Map, Value, json};
use wasip2::http::types::{IncomingRequest, Method, ResponseOutparam};

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package cordial:spin-entries;
        world activity-entry { import cordial:jobs/scheduled@0.2.0; }
    ",
    world: "cordial:spin-entries/activity-entry",
    with: {
        "cordial:jobs/types@0.2.0": cordial_spin_glue::types,
    },
    generate_all,
});

/// The most records one read returns.
const MAX_READ: u64 = 1000;

struct Entry;

impl wasip2::exports::http::incoming_handler::Guest for Entry {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let head = Head::of(&request);
        let answer = answer(&head);
        entry::send(&head, out, answer);
    }
}

wasip2::http::proxy::export!(Entry);

fn answer(head: &Head) -> Answer {
    let (vars, job) = entry::variables()?;
    entry::authorize(&vars, head, &Call::Run)?;
    if head.path.starts_with("/streams/") {
        if !matches!(head.method, Method::Get) {
            return Err(fail(405, "only GET is answered here"));
        }
        return read_stream(head, &job);
    }
    entry::route(head, "run", &job)?;
    if !matches!(head.method, Method::Post) {
        return Err(fail(405, "only POST is answered here"));
    }
    scheduled::step(
        &vars,
        &job,
        || Ok(Map::new()),
        cordial::jobs::scheduled::run,
    )
}

/// `/streams/<job>/<stream>` or `/streams/<job>/<stream>/quarantine`.
fn read_stream(head: &Head, job: &str) -> Answer {
    let rest = head.path.strip_prefix("/streams/").unwrap_or_default();
    let mut parts = rest.trim_end_matches('/').split('/');
    let (name, stream, tail) = (parts.next(), parts.next(), parts.next());
    if name != Some(job) || parts.next().is_some() {
        return Err(fail(
            404,
            format!(
                "no route {}; this component serves /streams/{job}/<stream>",
                head.path
            ),
        ));
    }
    let stream = Stream::open(job, stream.unwrap_or_default()).map_err(|e| fail(404, e))?;
    let unavailable = |e| fail(503, format!("the store is unavailable; retry later ({e})"));
    match tail {
        Some("quarantine") => {
            let quarantined = stream.quarantined().map_err(unavailable)?;
            Ok((200, json!({ "quarantined": quarantined })))
        }
        Some(_) => Err(fail(404, format!("no route {}", head.path))),
        None => {
            let after = query_number(head, "after", 0)?;
            let limit = query_number(head, "limit", MAX_READ)?.clamp(1, MAX_READ);
            let (records, last) = stream.read(after, limit).map_err(unavailable)?;
            let records: Vec<Value> = records
                .into_iter()
                .map(|(seq, body)| {
                    let record = serde_json::from_str(&body).unwrap_or(Value::String(body));
                    json!({ "seq": seq, "record": record })
                })
                .collect();
            // Every number up to here was looked at (one a dead call reserved holds nothing).
            let next_after = last.min(after.saturating_add(limit)).max(after);
            Ok((
                200,
                json!({ "records": records, "next_after": next_after, "last": last }),
            ))
        }
    }
}

/// A whole-number query parameter, or its default when absent.
fn query_number(head: &Head, name: &str, default: u64) -> Result<u64, (u16, Value)> {
    let query = head
        .path_with_query()
        .split_once('?')
        .map_or("", |(_, q)| q);
    match query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    {
        None => Ok(default),
        Some(value) => value.parse().map_err(|_| {
            fail(
                400,
                format!("`{name}` must be a whole number, not `{value}`"),
            )
        }),
    }
}
