//! The sandbox around a job: a component that loops, allocates without end or calls a host
//! it may not reach is stopped or denied, with an error that says what happened.

#[path = "support/harness.rs"]
mod harness;

use cordial_host::runtime::{CallContext, CallError, RunOutcome};
use harness::{Harness, components_dir};

fn misbehaving(action: &str, limits: &str, extra: &str) -> String {
    let fixture = components_dir().join("misbehaving.wasm");
    format!(
        "[[job]]\nname = \"rogue\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         component = \"{}\"\naction = \"{action}\"\n{extra}\n[job.limits]\n{limits}\n",
        fixture.display()
    )
}

async fn run(h: &Harness, jobs: &str) -> Result<RunOutcome, CallError> {
    let runtime = h.runtime(jobs);
    let job = runtime.config().job("rogue").unwrap().clone();
    runtime.run(&job, &CallContext::now()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_loop_is_stopped_at_the_deadline() {
    let h = Harness::start().await;
    let err = run(&h, &misbehaving("loop", "timeout_secs = 1", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::TimedOut { limit_secs: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("running longer than its limit of 1s"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_loop_is_stopped_by_its_fuel_budget() {
    let h = Harness::start().await;
    let err = run(
        &h,
        &misbehaving("loop", "fuel = 20000000\ntimeout_secs = 600", ""),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CallError::OutOfFuel { fuel: 20000000, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("fuel budget of 20000000"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unbounded_allocation_is_stopped_at_the_memory_limit() {
    let h = Harness::start().await;
    let err = run(&h, &misbehaving("allocate", "memory_mb = 32", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::OutOfMemory { limit_mb: 32, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("memory limit of 32 MiB"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_outside_the_cordial_origin_is_denied_and_never_leaves() {
    let h = Harness::start().await;
    // A listener the job is not allowed to reach: nothing may connect to it.
    let bystander = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bystander.set_nonblocking(true).unwrap();
    let url = format!("http://{}/steal", bystander.local_addr().unwrap());
    let outcome = run(&h, &misbehaving("fetch", "", &format!("url = \"{url}\"")))
        .await
        .unwrap();
    match outcome {
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
    let outcome = run(&h, &misbehaving("fetch", "", &format!("url = \"{url}\"")))
        .await
        .unwrap();
    match outcome {
        // The guest sent no Authorization header; a 200 means the host added the right one.
        RunOutcome::Completed(r) => assert_eq!(r.summary, "status 200"),
        RunOutcome::Failed(e) => panic!("{e:?}"),
    }
    let requests = h.emulator.handle().requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].has_authorization);
}
