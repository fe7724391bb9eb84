//! `GET /metrics` of the real `cordial-host serve` binary, read as Prometheus reads it: with
//! a text-format parser. What it counts must match what happened: the events delivered, by
//! their kind; the 429 the emulator was told to send; every request Cordial received, by
//! endpoint; an empty queue once drained; Import Activity's pushes and scheduled runs.

use cordial_e2e::activity::{Activity, event, pushed, stream_ids};
use cordial_e2e::audience_events::{batch, default_payload};
use cordial_e2e::cli::ServeProcess;
use cordial_e2e::harness::Harness;
use cordial_e2e::http::{client, post};
use cordial_e2e::realtime_job::vip;
use cordial_e2e::serving::wait_settled;
use cordial_emulator::Fault;
use prometheus_parse::{Sample, Scrape, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const DRAIN: Duration = Duration::from_secs(60);

/// `GET /metrics`: its `Content-Type` and the parsed exposition.
async fn scrape(host: &ServeProcess) -> (String, Scrape) {
    let response = client().get(host.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    (content_type, scrape)
}

/// The samples of `metric` whose labels include every one of `labels`.
fn samples<'a>(
    scrape: &'a Scrape,
    metric: &'a str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a Sample> {
    scrape.samples.iter().filter(move |s| {
        s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
    })
}

/// The sum of the counters, gauges or untyped values of `metric` with `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples(scrape, metric, labels)
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            ref other => panic!("{metric} is not a single value: {other:?}"),
        })
        .sum()
}

/// Delivered audience events by kind, a 429 counted per job and per endpoint and code, the
/// requests counted as Cordial received them, and an empty queue after draining.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_deliveries_requests_and_429s_as_they_happened() {
    const CONTACTS: u64 = 5;
    let h = Harness::start().await;
    let job = vip("[job.delivery]\nconcurrency = 2\nbatch_size = 10\nmax_attempts = 5\n");
    let host = ServeProcess::start(&h, &job).await;
    let store = h.store();
    // One event first, so the list exists and the 429 below lands on a contact's upsert.
    let warm = default_payload(1, "warm@example.com", "enter", "vip_customers", "");
    assert_eq!(post(&host.url("/hooks/vip"), warm, &[]).await.0, 202);
    wait_settled(&store, "vip", 1, DRAIN).await;

    h.emulator.handle().inject(Fault::RateLimited {
        retry_after_secs: 1,
        count: 1,
    });
    let events: Vec<String> = (0..CONTACTS)
        .flat_map(|i| {
            let email = format!("m{i}@example.com");
            [
                default_payload(10 + 2 * i, &email, "enter", "vip_customers", ""),
                default_payload(11 + 2 * i, &email, "exit", "vip_customers", ""),
            ]
        })
        .collect();
    assert_eq!(
        post(&host.url("/hooks/vip"), batch(&events), &[]).await.0,
        202
    );
    let counts = wait_settled(&store, "vip", 1 + 2 * CONTACTS, DRAIN).await;
    assert_eq!((counts.done, counts.dead), (1 + 2 * CONTACTS, 0));

    let (content_type, m) = scrape(&host).await;
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let records = "cordial_job_records_total";
    let vip = ("job", "vip");
    assert_eq!(
        value(
            &m,
            records,
            &[vip, ("op", "enter"), ("outcome", "delivered")]
        ),
        (1 + CONTACTS) as f64
    );
    assert_eq!(
        value(
            &m,
            records,
            &[vip, ("op", "exit"), ("outcome", "delivered")]
        ),
        CONTACTS as f64
    );
    assert!(
        value(&m, records, &[vip, ("outcome", "retried")]) >= 1.0,
        "the item refused with a 429 went again"
    );
    assert_eq!(
        value(&m, records, &[vip, ("outcome", "dead_lettered")]),
        0.0
    );

    // The 429, once per job and once among the requests, under the endpoint it hit.
    let requests = h.emulator.handle().requests();
    let limited: Vec<_> = requests
        .iter()
        .filter(|r| r.fault_status == Some(429))
        .collect();
    assert_eq!(limited.len(), 1);
    assert_eq!(value(&m, "cordial_rate_limited_total", &[vip]), 1.0);
    let http = "cordial_http_requests_total";
    let limited_endpoint = endpoint(&limited[0].method, &limited[0].path);
    assert_eq!(
        value(
            &m,
            http,
            &[vip, ("code", "429"), ("endpoint", &limited_endpoint)]
        ),
        1.0
    );

    // Every request Cordial received (the start's settings check included), by endpoint.
    let mut received: BTreeMap<String, f64> = BTreeMap::new();
    for r in &requests {
        *received.entry(endpoint(&r.method, &r.path)).or_default() += 1.0;
    }
    let counted: BTreeMap<String, f64> = received
        .keys()
        .map(|e| (e.clone(), value(&m, http, &[vip, ("endpoint", e)])))
        .collect();
    assert_eq!(counted, received);
    assert_eq!(
        value(&m, http, &[vip]),
        requests.len() as f64,
        "no request counted under an endpoint Cordial did not see"
    );

    assert_eq!(value(&m, "cordial_queue_depth", &[vip]), 0.0);
    assert_eq!(value(&m, "cordial_queue_dead_letters", &[vip]), 0.0);

    // Every component call is timed; the host's share of a call is part of the call.
    let calls = value(&m, "cordial_component_call_duration_seconds_count", &[vip]);
    assert!(calls >= 2.0, "{calls} calls");
    assert_eq!(
        value(&m, "cordial_host_overhead_seconds_count", &[vip]),
        calls
    );
    let overhead = value(&m, "cordial_host_overhead_seconds_sum", &[vip]);
    let total = value(&m, "cordial_component_call_duration_seconds_sum", &[vip]);
    assert!(0.0 < overhead && overhead < total, "{overhead} of {total}");
    let of_vip = [vip];
    let buckets = samples(&m, "cordial_host_overhead_seconds", &of_vip)
        .next()
        .expect("the host overhead's buckets");
    match &buckets.value {
        Value::Histogram(b) => assert_eq!(b.last().unwrap().count, calls, "{b:?}"),
        other => panic!("not a histogram: {other:?}"),
    }

    for family in [
        records,
        http,
        "cordial_rate_limited_total",
        "cordial_queue_depth",
        "cordial_host_overhead_seconds",
        "cordial_component_call_duration_seconds",
    ] {
        assert!(
            m.docs.get(family).is_some_and(|help| help.len() > 20),
            "{family} has no HELP that says what it is"
        );
    }
    // The JSON view the benchmarks read is still served beside it.
    let json: serde_json::Value = client()
        .get(host.url("/metrics.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["jobs"]["vip"]["delivered"], 1 + 2 * CONTACTS);
}

/// Import Activity under `serve`, scheduled every two seconds and taking Cordial's pushes:
/// pushes count as stored or duplicate, a run's records as emitted, and a completed run
/// sets the job's last success and is timed.
#[tokio::test(flavor = "multi_thread")]
async fn activity_pushes_and_scheduled_runs_are_counted() {
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let exported = ["exp1", "exp2", "exp3"].map(|l| event(l, "open", hour_ago));
    let a = Activity::with_events(exported.to_vec()).await;
    let secret = a.h.dir.path().join("push-secret");
    std::fs::write(&secret, "s3cret-push").unwrap();
    let config = a.config(&format!(
        "frequency = \"*/2 * * * * *\"\n[job.webhook]\nsecret_file = \"{}\"\n",
        secret.display()
    ));
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let host = ServeProcess::start(&a.h, &config).await;
    let bearer = [("authorization", "Bearer s3cret-push")];
    let url = host.url("/cordial-events/activity");
    // Two events only pushed, one of them twice.
    for label in ["push1", "push2", "push1"] {
        let body = pushed(&event(label, "open", hour_ago)).to_string();
        assert_eq!(post(&url, body, &bearer).await.0, 202);
    }

    // Scrape until a scheduled run has completed.
    let deadline = tokio::time::Instant::now() + DRAIN;
    let activity = ("job", "activity");
    let m = loop {
        let (_, m) = scrape(&host).await;
        let last = "cordial_job_last_success_timestamp_seconds";
        if samples(&m, last, &[activity]).next().is_some() {
            let at = value(&m, last, &[activity]);
            assert!(
                at >= started.floor(),
                "{at} is before the test began ({started})"
            );
            break m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled run completed:\n{}",
            host.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let records = "cordial_job_records_total";
    let push = ("op", "push");
    assert_eq!(
        value(&m, records, &[activity, push, ("outcome", "stored")]),
        2.0
    );
    assert_eq!(
        value(&m, records, &[activity, push, ("outcome", "duplicate")]),
        1.0
    );
    // Every run exports the same window: its first stores the three, later ones find them.
    let emit = ("op", "emit");
    assert_eq!(
        value(&m, records, &[activity, emit, ("outcome", "stored")]),
        3.0
    );
    assert_eq!(stream_ids(&a.h.store()).len(), 5);
    let completed = [activity, ("outcome", "completed")];
    assert!(value(&m, "cordial_job_run_duration_seconds_count", &completed) >= 1.0);
    assert!(value(&m, "cordial_http_requests_total", &[activity]) >= 1.0);
    assert!(
        samples(&m, "cordial_queue_depth", &[activity])
            .next()
            .is_none(),
        "a job without a queue has no queue depth"
    );
}

/// A request's endpoint as the host keys it: the method and the path up to the collection
/// (`POST /v2/contacts`), whatever id or query follows.
fn endpoint(method: &str, path_and_query: &str) -> String {
    let path = path_and_query.split('?').next().unwrap();
    let collection: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).take(2).collect();
    format!("{method} /{}", collection.join("/"))
}
