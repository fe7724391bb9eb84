//! What the tests of the queued jobs (the real-time export, experience capture) share with
//! each other and with the scheduled sequences' fake Cordial: one call of a job against a
//! fake Cordial at [`BASE`], the answers such a fake gives, and what the job sent it.

use crate::cordial::{HttpRequest, HttpResponse, HttpTransport, Method};
use crate::job::RunContext;
use crate::ports::fakes::{FakeClock, FakeCordial, MemoryKeyValue, RecordingLog, json_response};
use crate::ports::{Config, Env};
use serde_json::{Value, json};

/// The Cordial every call is configured with.
pub const BASE: &str = "http://cordial.test";
/// When every call starts.
pub const STARTED_AT: &str = "2026-12-02T10:00:00Z";

/// One call of the queued job `job_name` over `http`, `state` and `config`, with a fresh
/// log and a clock at [`STARTED_AT`]: what `call` returned, and the log.
pub fn call<R>(
    job_name: &str,
    http: &mut dyn HttpTransport,
    state: &mut MemoryKeyValue,
    config: &mut dyn Config,
    call: impl FnOnce(&mut Env<'_>) -> R,
) -> (R, RecordingLog) {
    let ctx = RunContext {
        job_name: job_name.into(),
        run_id: "run-1".into(),
        started_at: STARTED_AT.into(),
        cordial_base_url: BASE.into(),
    };
    let mut log = RecordingLog::default();
    let answer = call(&mut Env {
        ctx: &ctx,
        http,
        state,
        config,
        log: &mut log,
        clock: &mut FakeClock::at(STARTED_AT),
    });
    (answer, log)
}

/// The method and path of a request, which must go to the job's Cordial.
pub fn route(request: &HttpRequest) -> (Method, &str) {
    let path = request
        .url
        .strip_prefix(BASE)
        .expect("a request to the job's Cordial");
    (request.method, path)
}

/// The email an upsert is for.
pub fn email_of(upsert: &HttpRequest) -> String {
    upsert.json_body().unwrap()["channels"]["email"]["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Cordial's answer to an upsert it accepted.
pub fn upserted() -> HttpResponse {
    json_response(200, json!({"success": true, "cID": "c1"}))
}

/// Cordial's 429, asking to wait `seconds`.
pub fn rate_limited(seconds: &str) -> HttpResponse {
    let mut response = json_response(429, json!({"error": true, "message": "slow down"}));
    response
        .headers
        .push(("Retry-After".to_owned(), seconds.to_owned()));
    response
}

/// Cordial's 404 for a route it does not have.
pub fn no_such_endpoint() -> HttpResponse {
    json_response(404, json!({"error": true, "message": "no such endpoint"}))
}

/// The calls made, in order, as `METHOD path` separated by commas.
pub fn calls<F>(http: &FakeCordial<F>) -> String {
    let calls: Vec<String> = http
        .requests
        .iter()
        .map(|r| {
            let (method, path) = route(r);
            format!("{} {path}", method.as_str())
        })
        .collect();
    calls.join(", ")
}

/// The bodies of the upserts sent, in order.
pub fn upserts<F>(http: &FakeCordial<F>) -> Vec<Value> {
    http.requests
        .iter()
        .filter(|r| r.method == Method::Post && r.url.ends_with("/v2/contacts"))
        .map(|r| r.json_body().unwrap())
        .collect()
}
