//! The registry and its metric families: what each counts, in base units, and the one
//! recording method per place in the host that counts.

use super::labels::{HttpLabels, JobLabel, RecordLabels, RunLabels};
use crate::db::{Backlog, EmitSummary, Settled};
use crate::runtime::{CallError, CallStats, RunOutcome};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    records: Family<RecordLabels, Counter>,
    http_requests: Family<HttpLabels, Counter>,
    rate_limited: Family<JobLabel, Counter>,
    run_duration: Histograms<RunLabels>,
    last_success: Family<JobLabel, Gauge<f64, AtomicU64>>,
    call_duration: Histograms<JobLabel>,
    host_overhead: Histograms<JobLabel>,
    queue_depth: Family<JobLabel, Gauge>,
    dead_letters: Family<JobLabel, Gauge>,
}

/// 10 µs to about 0.3 s: the host's setup of a call is tens to hundreds of microseconds,
/// and the buckets must show it growing by factors, not by milliseconds.
fn overhead_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_01, 2.0, 16))
}

/// 1 ms to about 33 s: a call is a batch of requests to Cordial, each up to seconds long.
fn call_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// 1 s to 2 h: a scheduled run waits for Cordial's exports and imports between its steps.
fn run_buckets() -> Histogram {
    Histogram::new([
        1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
    ])
}

impl Default for Metrics {
    /// Every family registered, none with a series yet.
    fn default() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            records: Family::default(),
            http_requests: Family::default(),
            rate_limited: Family::default(),
            run_duration: Family::new_with_constructor(run_buckets),
            last_success: Family::default(),
            call_duration: Family::new_with_constructor(call_buckets),
            host_overhead: Family::new_with_constructor(overhead_buckets),
            queue_depth: Family::default(),
            dead_letters: Family::default(),
        };
        let r = &mut m.registry;
        r.register(
            "cordial_job_records",
            "Records a job handled, by operation (enter, exit, change, submission; push for Cordial's activity pushes; emit for records a run writes to a stream) and outcome (delivered, retried, dead_lettered; stored, duplicate, rejected, quarantined). A capture job's deliberate skip counts as delivered",
            m.records.clone(),
        );
        r.register(
            "cordial_http_requests",
            "Requests a job sent to Cordial, by endpoint (method and collection) and HTTP status code (`error` when no answer came)",
            m.http_requests.clone(),
        );
        r.register(
            "cordial_rate_limited",
            "Requests Cordial answered 429 Too Many Requests, per job",
            m.rate_limited.clone(),
        );
        r.register(
            "cordial_job_run_duration_seconds",
            "Wall-clock time of a scheduled run, waits between its steps included, by outcome (completed, failed: the job reported a failure, error: the host could not run it)",
            m.run_duration.clone(),
        );
        r.register(
            "cordial_job_last_success_timestamp_seconds",
            "When the job's last scheduled run completed, in seconds since the Unix epoch",
            m.last_success.clone(),
        );
        r.register(
            "cordial_component_call_duration_seconds",
            "Wall-clock time of one component call, from a fresh store to the export's return",
            m.call_duration.clone(),
        );
        r.register(
            "cordial_host_overhead_seconds",
            "The host's fixed cost of one component call: a fresh store with its limits and capabilities, and instantiation, until the export can be called (a job's first call also loads its compiled component)",
            m.host_overhead.clone(),
        );
        r.register(
            "cordial_queue_depth",
            "Items waiting in the job's queue (pending, retries included), read from the store at scrape time",
            m.queue_depth.clone(),
        );
        r.register(
            "cordial_queue_dead_letters",
            "Items dead-lettered in the job's queue and not yet replayed, read from the store at scrape time",
            m.dead_letters.clone(),
        );
        m
    }
}

impl Metrics {
    /// `n` records of `job` under `op` ended as `outcome`.
    pub fn records(&self, job: &str, op: &str, outcome: &'static str, n: u64) {
        if n > 0 {
            self.records
                .get_or_create(&RecordLabels {
                    job: job.to_owned(),
                    op: op.to_owned(),
                    outcome,
                })
                .inc_by(n);
        }
    }

    /// Records a run of `job` wrote to a stream, as the store took them.
    pub fn emitted(&self, job: &str, stored: &EmitSummary) {
        self.stream_records(job, "emit", stored);
    }

    /// Activity Cordial pushed to `job`, as the store took it.
    pub fn pushed(&self, job: &str, stored: &EmitSummary) {
        self.stream_records(job, "push", stored);
    }

    fn stream_records(&self, job: &str, op: &str, stored: &EmitSummary) {
        self.records(job, op, "stored", stored.accepted.into());
        self.records(job, op, "duplicate", stored.duplicates.into());
        self.records(job, op, "rejected", stored.rejected.into());
    }

    /// What became of the queued items of one call, each under its operation (`op_of` its id).
    pub fn settled(&self, job: &str, op_of: impl Fn(i64) -> &'static str, settled: &[Settled]) {
        for s in settled {
            let (id, outcome) = match s {
                Settled::Done { id, .. } => (id, "delivered"),
                Settled::Retrying { id, .. } => (id, "retried"),
                Settled::Dead { id, .. } => (id, "dead_lettered"),
            };
            self.records(job, op_of(*id), outcome, 1);
        }
    }

    /// Cordial answered a request of `job` to `endpoint` with `status`, or nothing came back.
    pub fn cordial_answered(&self, job: &str, endpoint: &str, status: Option<http::StatusCode>) {
        let code = status.map_or_else(|| "error".to_owned(), |s| s.as_u16().to_string());
        self.http_requests
            .get_or_create(&HttpLabels {
                job: job.to_owned(),
                endpoint: endpoint.to_owned(),
                code,
            })
            .inc();
        if status == Some(http::StatusCode::TOO_MANY_REQUESTS) {
            self.rate_limited.get_or_create(&job_label(job)).inc();
        }
    }

    /// One component call of `job`, and where its time went.
    pub fn component_call(&self, job: &str, stats: &CallStats) {
        let job = job_label(job);
        self.call_duration
            .get_or_create(&job)
            .observe(stats.total.as_secs_f64());
        self.host_overhead
            .get_or_create(&job)
            .observe(stats.setup.as_secs_f64());
    }

    /// A scheduled run of `job` took `took` and ended with `outcome`.
    pub fn run_ended(&self, job: &str, took: Duration, outcome: Result<&RunOutcome, &CallError>) {
        let label = match outcome {
            Ok(RunOutcome::Completed(_)) => "completed",
            Ok(RunOutcome::Failed(_)) => "failed",
            Err(_) => "error",
        };
        self.run_duration
            .get_or_create(&RunLabels {
                job: job.to_owned(),
                outcome: label,
            })
            .observe(took.as_secs_f64());
        if label == "completed" {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            self.last_success
                .get_or_create(&job_label(job))
                .set(now.as_secs_f64());
        }
    }

    /// `job`'s queue as the store has it now; `None` when it could not be read, so no stale
    /// figure is served.
    pub fn queue(&self, job: &str, counts: Option<&Backlog>) {
        let label = job_label(job);
        match counts {
            Some(c) => {
                self.queue_depth.get_or_create(&label).set(gauge(c.pending));
                self.dead_letters.get_or_create(&label).set(gauge(c.dead));
            }
            None => {
                self.queue_depth.remove(&label);
                self.dead_letters.remove(&label);
            }
        }
    }

    /// Every family in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

fn job_label(job: &str) -> JobLabel {
    JobLabel {
        job: job.to_owned(),
    }
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::ItemKind;
    use crate::queue::audience::queued as event;
    use cordial_jobs::job::{JobError, RunReport};

    fn record(m: &Metrics, job: &str, op: &str, outcome: &'static str) -> u64 {
        m.records
            .get_or_create(&RecordLabels {
                job: job.into(),
                op: op.into(),
                outcome,
            })
            .get()
    }

    #[test]
    fn settled_items_count_under_their_event_kind_and_outcome() {
        let m = Metrics::default();
        let batch = [event(1, "enter"), event(2, "exit"), event(3, "enter")];
        let ops = crate::queue::BatchOps::of(ItemKind::AudienceEvents, &batch);
        let settled = [
            Settled::Done {
                id: 1,
                attempts: 1,
                decision: None,
            },
            Settled::Retrying {
                id: 2,
                attempts: 1,
                error: "429".into(),
            },
            Settled::Done {
                id: 3,
                attempts: 1,
                decision: None,
            },
        ];
        m.settled("vip", |id| ops.label(id), &settled);
        m.settled(
            "vip",
            |id| ops.label(id),
            &[Settled::Dead {
                id: 2,
                attempts: 2,
                status: Some(422),
                error: "bad".into(),
                decision: None,
            }],
        );
        assert_eq!(record(&m, "vip", "enter", "delivered"), 2);
        assert_eq!(record(&m, "vip", "exit", "retried"), 1);
        assert_eq!(record(&m, "vip", "exit", "dead_lettered"), 1);
        assert_eq!(record(&m, "vip", "exit", "delivered"), 0);
    }

    #[test]
    fn stream_records_count_what_the_store_took() {
        let m = Metrics::default();
        let summary = EmitSummary {
            accepted: 3,
            duplicates: 2,
            rejected: 0,
        };
        m.pushed("activity", &summary);
        m.emitted("activity", &summary);
        assert_eq!(record(&m, "activity", "push", "stored"), 3);
        assert_eq!(record(&m, "activity", "push", "duplicate"), 2);
        assert_eq!(record(&m, "activity", "emit", "stored"), 3);
        assert!(
            !m.render().contains(r#"outcome="rejected""#),
            "no series is made for nothing"
        );
    }

    #[test]
    fn answers_count_by_endpoint_and_code_and_429s_per_job() {
        let m = Metrics::default();
        let ok = Some(http::StatusCode::OK);
        let limited = Some(http::StatusCode::TOO_MANY_REQUESTS);
        m.cordial_answered("vip", "POST /v2/contacts", ok);
        m.cordial_answered("vip", "POST /v2/contacts", ok);
        m.cordial_answered("vip", "POST /v2/contacts", limited);
        m.cordial_answered("vip", "GET /v2/lists", None);
        let requests = |endpoint: &str, code: &str| {
            m.http_requests
                .get_or_create(&HttpLabels {
                    job: "vip".into(),
                    endpoint: endpoint.into(),
                    code: code.into(),
                })
                .get()
        };
        assert_eq!(requests("POST /v2/contacts", "200"), 2);
        assert_eq!(requests("POST /v2/contacts", "429"), 1);
        assert_eq!(requests("GET /v2/lists", "error"), 1);
        assert_eq!(m.rate_limited.get_or_create(&job_label("vip")).get(), 1);
    }

    #[test]
    fn only_a_completed_run_sets_the_last_success() {
        let m = Metrics::default();
        let failed = Ok(RunOutcome::Failed(JobError::Transient("502".into())));
        m.run_ended("nightly", Duration::from_secs(3), failed.as_ref());
        assert_eq!(
            m.last_success.get_or_create(&job_label("nightly")).get(),
            0.0
        );

        let before = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let completed = Ok(RunOutcome::Completed(RunReport {
            records_read: 1,
            records_written: 1,
            records_rejected: 0,
            summary: "done".into(),
        }));
        m.run_ended("nightly", Duration::from_secs(90), completed.as_ref());
        let last = m.last_success.get_or_create(&job_label("nightly")).get();
        assert!(last >= before.floor(), "{last} < {before}");
        let text = m.render();
        assert!(
            text.contains(
                r#"cordial_job_run_duration_seconds_count{job="nightly",outcome="failed"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"cordial_job_run_duration_seconds_bucket{job="nightly",outcome="completed",le="60"} 0"#),
            "90 s lands above the 60 s bucket: {text}"
        );
        assert!(
            text.contains(r#"cordial_job_run_duration_seconds_bucket{job="nightly",outcome="completed",le="120"} 1"#),
            "and in the 120 s one: {text}"
        );
    }

    #[test]
    fn a_queue_that_cannot_be_read_has_no_depth_rather_than_a_stale_one() {
        let m = Metrics::default();
        let counts = Backlog {
            pending: 4,
            dead: 1,
        };
        m.queue("vip", Some(&counts));
        assert_eq!(m.queue_depth.get_or_create(&job_label("vip")).get(), 4);
        assert_eq!(m.dead_letters.get_or_create(&job_label("vip")).get(), 1);
        m.queue("vip", None);
        assert!(
            !m.render().contains("cordial_queue_depth{"),
            "{}",
            m.render()
        );
    }

    #[test]
    fn counters_end_in_total_and_every_family_says_what_it_is() {
        let m = Metrics::default();
        m.cordial_answered("vip", "POST /v2/contacts", Some(http::StatusCode::OK));
        m.component_call("vip", &CallStats::default());
        let text = m.render();
        assert!(
            text.contains("# TYPE cordial_http_requests_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE cordial_host_overhead_seconds histogram\n"),
            "{text}"
        );
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(types, helps, "{text}");
    }
}
