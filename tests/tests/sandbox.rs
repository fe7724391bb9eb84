//! The sandbox around a job: a component that loops, allocates without end or calls a host
//! it may not reach is stopped or denied, with an error that says what happened.

use cordial_e2e::harness::{Harness, components_dir};
use cordial_host::runtime::{CallContext, CallError, RunOutcome};

/// The `rogue` job: the misbehaving fixture doing `action` under `limits`, with `extra`
/// settings.
fn misbehaving(action: &str, limits: &str, extra: &str) -> String {
    let fixture = components_dir().join("misbehaving.wasm");
    format!(
        "[[job]]\nname = \"rogue\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         component = \"{}\"\naction = \"{action}\"\n{extra}\n[job.limits]\n{limits}\n",
        fixture.display()
    )
}

/// Runs `rogue` doing `action` under `limits`: the call is stopped, and the error says
/// `says`.
async fn stopped(action: &str, limits: &str, says: &str) -> CallError {
    let h = Harness::start().await;
    let jobs = misbehaving(action, limits, "");
    let err = h.run(&jobs, "rogue").await.unwrap_err();
    assert!(err.to_string().contains(says), "{err}");
    err
}

/// Runs `rogue` fetching `url`: the call itself ends, in whatever outcome.
async fn fetch(h: &Harness, url: &str) -> RunOutcome {
    let jobs = misbehaving("fetch", "", &format!("url = \"{url}\""));
    h.run(&jobs, "rogue").await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_loop_is_stopped_at_the_deadline() {
    let err = stopped(
        "loop",
        "timeout_secs = 1",
        "running longer than its limit of 1s",
    )
    .await;
    assert!(
        matches!(err, CallError::TimedOut { limit_secs: 1, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_loop_is_stopped_by_its_fuel_budget() {
    let limits = "fuel = 20000000\ntimeout_secs = 600";
    let err = stopped("loop", limits, "fuel budget of 20000000").await;
    assert!(
        matches!(err, CallError::OutOfFuel { fuel: 20000000, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unbounded_allocation_is_stopped_at_the_memory_limit() {
    let err = stopped("allocate", "memory_mb = 32", "memory limit of 32 MiB").await;
    assert!(
        matches!(err, CallError::OutOfMemory { limit_mb: 32, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_outside_the_cordial_origin_is_denied_and_never_leaves() {
    let h = Harness::start().await;
    // A listener the job is not allowed to reach: nothing may connect to it.
    let bystander = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bystander.set_nonblocking(true).unwrap();
    let url = format!("http://{}/steal", bystander.local_addr().unwrap());
    match fetch(&h, &url).await {
        RunOutcome::Failed(e) => {
            let text = format!("{e:?}");
            assert!(text.contains("request denied by the host"), "{text}");
        }
        RunOutcome::Completed(r) => panic!("the request went through: {}", r.summary),
    }
    assert_eq!(
        bystander.accept().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock),
        "the denied request reached the bystander"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cordial_origin_is_allowed_and_the_host_adds_the_credentials() {
    let h = Harness::start().await;
    let url = format!("{}/v2/accountlists", h.emulator.base_url());
    match fetch(&h, &url).await {
        // The guest sent no Authorization header; a 200 means the host added the right one.
        RunOutcome::Completed(r) => assert_eq!(r.summary, "status 200"),
        RunOutcome::Failed(e) => panic!("{e:?}"),
    }
    let requests = h.emulator.handle().requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].has_authorization);
}

/// Every call gets the component as it was built: the host resets a pooled slot's pages in
/// place between calls (PAGEMAP_SCAN where the kernel has it), and nothing the previous call
/// wrote — a static counter, a page of heap — is there for the next.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_never_sees_what_the_previous_call_left_in_memory() {
    let h = Harness::start().await;
    let runtime = h.runtime(&misbehaving("remember", "", ""));
    let job = runtime.config().job("rogue").unwrap().clone();
    for call in 1..=3 {
        match runtime.run(&job, &CallContext::now()).await.unwrap() {
            RunOutcome::Completed(report) => assert_eq!(
                report.summary, "earlier calls 0, dirty bytes 0",
                "call {call}"
            ),
            other => panic!("call {call}: {other:?}"),
        }
    }
}
