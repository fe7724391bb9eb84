//! The one request path of a Spin entry, shared by the real-time export and capture:
//!
//! - `POST /hooks/<job>` or `/capture/<job>`: the job's secret, the body limit (`413`), the
//!   same checks and `400` answers as the bundled host (`cordial_jobs::intake`), then the
//!   items go to the outbox (`503` if that fails, so the sender retries) and only then is the
//!   request answered `202`, after a bounded delivery attempt;
//! - `POST /run/<job>`: the scheduler's call (its own secret), which delivers what is
//!   pending: retries, and whatever a busy or held outbox left behind.

use crate::kv::now_ms;
use crate::outbox::{Drained, Item, Outbox, Policy, Verdict};
use crate::request::{BodyError, Head, read_body};
use crate::respond;
use crate::settings::Variables;
use cordial_jobs::intake::{self, BodyLimit};
use cordial_jobs::job::RunContext;
use cordial_jobs::settings::{self, JobKind};
use serde_json::{Map, Value};
use wasip2::http::types::{IncomingRequest, Method, ResponseOutparam};

/// What a request carried: the items to queue and what else the `202` says.
pub struct Intake {
    pub items: Vec<Item>,
    pub answer: Map<String, Value>,
}

/// A job as its entry sees it.
pub trait EntryJob {
    type Settings: serde::de::DeserializeOwned;
    const KIND: JobKind;
    /// `hooks` or `capture`: the path's first segment.
    const ROUTE: &'static str;
    const LIMIT: BodyLimit;
    /// Reads a body with the job's settings; or the `400`'s body.
    fn read(settings: &Self::Settings, body: &[u8]) -> Result<Intake, Value>;
    /// Calls the job with the items, in order; one verdict per item.
    fn deliver(ctx: &RunContext, items: &[&Item]) -> Vec<Verdict>;
}

/// Where a request goes.
pub enum Call {
    Intake,
    Run,
}

/// Handles one request end to end.
pub fn handle<J: EntryJob>(request: IncomingRequest, out: ResponseOutparam) {
    let head = Head::of(&request);
    let answer = answer::<J>(request, &head);
    send(&head, out, answer);
}

/// Sends an answer as JSON; a server-side failure is logged with its path too.
pub fn send(head: &Head, out: ResponseOutparam, answer: Answer) {
    let (Ok((status, body)) | Err((status, body))) = answer;
    if status >= 500 {
        eprintln!("{status} {}: {body}", head.path);
    }
    respond::json(out, status, &body)
}

/// A status and its JSON body, for success and refusal alike.
pub type Answer = Result<(u16, Value), (u16, Value)>;

/// A refusal: `{"error": message}`.
pub fn fail(status: u16, message: impl Into<String>) -> (u16, Value) {
    (status, serde_json::json!({ "error": message.into() }))
}

/// The variables and the job's name (`ingress_job`).
pub fn variables() -> Result<(Variables, String), (u16, Value)> {
    let vars = Variables::read().map_err(|e| fail(500, e))?;
    let job = vars.job().map_err(|e| fail(500, e))?.to_owned();
    Ok((vars, job))
}

/// The job's settings, checked as the job will check them.
pub fn job_settings<S: serde::de::DeserializeOwned>(
    vars: &Variables,
    kind: JobKind,
    job: &str,
) -> Result<S, (u16, Value)> {
    settings::typed(kind, &settings::from_pairs(kind, &vars.job_settings())).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        fail(500, format!("job `{job}` settings: {}", lines.join("; ")))
    })
}

/// A new run of `job`, reaching Cordial through the proxy.
pub fn run_context(vars: &Variables, job: &str) -> RunContext {
    RunContext {
        job_name: job.to_owned(),
        run_id: format!("spin-{:016x}", wasip2::random::random::get_random_u64()),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        cordial_base_url: vars
            .ingress("cordial_url")
            .unwrap_or("http://cordial-proxy.spin.internal")
            .to_owned(),
    }
}

fn answer<J: EntryJob>(request: IncomingRequest, head: &Head) -> Answer {
    let (vars, job) = variables()?;
    let call = route(head, J::ROUTE, &job)?;
    if !matches!(head.method, Method::Post) {
        return Err(fail(405, "only POST is answered here"));
    }
    authorize(&vars, head, &call)?;
    let settings: J::Settings = job_settings(&vars, J::KIND, &job)?;
    let policy = policy(&vars).map_err(|e| fail(500, e))?;
    let ctx = run_context(&vars, &job);
    let outbox = Outbox::open(&job)
        .map_err(|e| fail(503, format!("the store is unavailable; retry later ({e})")))?;
    let mut answer = Map::new();
    let status = match call {
        Call::Intake => {
            let body = read_body(request, head, J::LIMIT.max_bytes).map_err(|e| match e {
                BodyError::TooLarge => fail(413, J::LIMIT.refusal()),
                BodyError::Broken(why) => fail(400, format!("the body could not be read: {why}")),
            })?;
            let intake = J::read(&settings, &body).map_err(|problem| (400, problem))?;
            answer = intake.answer;
            answer.insert("accepted".into(), intake.items.len().into());
            if !intake.items.is_empty() {
                outbox.append(&intake.items, policy.now_ms).map_err(|e| {
                    fail(
                        503,
                        format!("the items could not be stored; retry later ({e})"),
                    )
                })?;
            }
            202
        }
        Call::Run => 200,
    };
    let drained = outbox
        .drain(policy, |items| J::deliver(&ctx, items))
        .unwrap_or_else(|e| {
            eprintln!("job `{job}`: delivery stopped: {e}");
            Drained {
                skipped: Some(e),
                ..Drained::default()
            }
        });
    answer.insert("delivery".into(), drained.to_json());
    Ok((status, Value::Object(answer)))
}

/// The webhook secret for an intake (when one is set), the run secret for a run (always).
pub fn authorize(vars: &Variables, head: &Head, call: &Call) -> Result<(), (u16, Value)> {
    let (secret_name, what) = match call {
        Call::Intake => ("secret", "the webhook secret"),
        Call::Run => ("run_secret", "the run secret"),
    };
    match vars.ingress(secret_name) {
        Some(expected)
            if !intake::presented(
                head.header("authorization"),
                head.header("x-webhook-secret"),
                expected,
            ) =>
        {
            Err(fail(401, intake::SECRET_ADVICE))
        }
        None if matches!(call, Call::Run) => Err(fail(
            403,
            format!("{what} is not set: set the Spin variable `ingress_{secret_name}`"),
        )),
        _ => Ok(()),
    }
}

/// How deliveries go, from the entry's variables (their defaults otherwise).
fn policy(vars: &Variables) -> Result<Policy, String> {
    Ok(Policy {
        now_ms: now_ms(),
        lease_ms: vars.ingress_number("lease_secs", 60)? * 1000,
        max_items: vars.ingress_number("drain_max", 500)? as usize,
        max_attempts: vars.ingress_number("max_attempts", 8)? as u32,
    })
}

/// `/<intake>/<job>` or `/run/<job>`, for this component's job only.
pub fn route(head: &Head, intake: &str, job: &str) -> Result<Call, (u16, Value)> {
    let mut parts = head.path.trim_matches('/').splitn(2, '/');
    let (first, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let call = match first {
        "run" => Call::Run,
        r if r == intake => Call::Intake,
        _ => {
            return Err(fail(
                404,
                format!(
                    "no route {}; this component answers /{}/{job} and /run/{job}",
                    head.path, intake
                ),
            ));
        }
    };
    if name != job {
        return Err(fail(
            404,
            format!("no job named `{name}` here; this component runs `{job}`"),
        ));
    }
    Ok(call)
}

/// The whole WIT side of an entry component: bindings for its world (the job interface it
/// imports, with the shared types of this crate), and the HTTP handler export calling
/// [`handle`] for `$job`. `$world` is the world's name in `$wit` (inline WIT text).
#[macro_export]
macro_rules! entry_component {
    ($job:ty, $world:literal, $wit:literal) => {
        wit_bindgen::generate!({
            path: "../../../wit",
            inline: $wit,
            world: $world,
            with: {
                "cordial:jobs/types@0.2.0": cordial_spin_glue::types,
                "cordial:jobs/outcomes@0.2.0": cordial_spin_glue::outcomes,
                "cordial:jobs/items@0.2.0": cordial_spin_glue::items,
            },
            generate_all,
        });

        struct Entry;

        impl wasip2::exports::http::incoming_handler::Guest for Entry {
            fn handle(
                request: wasip2::http::types::IncomingRequest,
                out: wasip2::http::types::ResponseOutparam,
            ) {
                cordial_spin_glue::entry::handle::<$job>(request, out)
            }
        }

        wasip2::http::proxy::export!(Entry);
    };
}
