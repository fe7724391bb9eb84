//! The ports of a scheduled run in memory, shared by calls as a host shares them, for the
//! tests of the scheduled sequences: one [`Crash`] for every port, and calls repeated over
//! [`Progress::Waiting`] as the host repeats them (moving the clock, never sleeping on it).
//! A [`Sequence`] adds the job's own port, and what the tests of both sequences check
//! alike: following Cordial's job one poll per call, leaving it to the next run at the
//! deadline, waiting out 429s, and resuming after dying at any effect.

use super::fake_cordial::{Cordial, Model, ModelJob, SharedModel, cordial};
use crate::job::{JobError, Progress, RunContext, RunReport};
use crate::ports::Env;
use crate::ports::fakes::{
    Crash, FakeClock, MemoryConfig, MemoryFiles, MemoryKeyValue, RecordingLog,
};
use crate::scheduled::{Checkpoint, Following};
use std::fmt::Debug;
use std::time::Duration;

/// More calls than any test needs: a run that has not finished by then never will.
const MAX_CALLS: usize = 1_000;

pub struct Ports {
    pub ctx: RunContext,
    pub state: MemoryKeyValue,
    pub config: MemoryConfig,
    pub log: RecordingLog,
    pub clock: FakeClock,
    pub files: MemoryFiles,
    pub cordial: Cordial,
    pub model: SharedModel,
    pub crash: Crash,
}

impl Ports {
    pub fn new(job_name: &str, settings: serde_json::Value) -> Ports {
        let crash = Crash::default();
        let files = MemoryFiles {
            crash: crash.clone(),
            ..MemoryFiles::default()
        };
        let model = Model::new(files.files.clone(), &files.remote.folder);
        let mut cordial = cordial(&model);
        cordial.crash = crash.clone();
        Ports {
            ctx: RunContext {
                job_name: job_name.to_owned(),
                run_id: "run-0001".to_owned(),
                started_at: String::new(),
                cordial_base_url: "http://cordial.test/".to_owned(),
            },
            state: MemoryKeyValue {
                crash: crash.clone(),
                ..MemoryKeyValue::default()
            },
            config: MemoryConfig::from_json(&settings),
            log: RecordingLog::default(),
            clock: FakeClock::at("2026-11-22T13:00:00Z"),
            files,
            cordial,
            model,
            crash,
        }
    }

    /// One call of `run`, started now.
    pub fn call<R>(&mut self, run: impl FnOnce(&mut Env<'_>, &mut MemoryFiles) -> R) -> R {
        self.ctx.started_at = self
            .clock
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut env = Env {
            ctx: &self.ctx,
            http: &mut self.cordial,
            state: &mut self.state,
            config: &mut self.config,
            log: &mut self.log,
            clock: &mut self.clock,
        };
        run(&mut env, &mut self.files)
    }

    /// Calls `run` until it finishes or fails, waiting out each `Waiting` as the host
    /// would; also returns the waits asked for.
    pub fn call_until_done(
        &mut self,
        mut run: impl FnMut(&mut Env<'_>, &mut MemoryFiles) -> Result<Progress, JobError>,
    ) -> (Result<RunReport, JobError>, Vec<Duration>) {
        let mut waits = Vec::new();
        for _ in 0..MAX_CALLS {
            match self.call(&mut run) {
                Ok(Progress::Waiting { after, reason }) => {
                    assert!(!reason.is_empty());
                    waits.push(after);
                    self.clock.now += chrono::Duration::from_std(after).unwrap();
                }
                Ok(Progress::Finished(report)) => return (Ok(report), waits),
                Err(e) => return (Err(e), waits),
            }
        }
        panic!("still waiting after {MAX_CALLS} calls");
    }
}

/// Waits given in milliseconds.
pub fn ms(waits: &[u64]) -> Vec<Duration> {
    waits.iter().map(|&m| Duration::from_millis(m)).collect()
}

/// One call of a scheduled sequence, over the shared ports and the job's own port.
pub type Step<P> = fn(&mut Env<'_>, &mut MemoryFiles, &mut P) -> Result<Progress, JobError>;

/// A scheduled sequence under test: the ports a host shares between calls, and the job's
/// own port beside them (the activity import's streams, the bulk export's members).
pub struct Sequence<P> {
    pub ports: Ports,
    pub own: P,
    step: Step<P>,
}

impl<P> Sequence<P> {
    pub fn new(ports: Ports, own: P, step: Step<P>) -> Sequence<P> {
        Sequence { ports, own, step }
    }

    /// One call, started now.
    pub fn call(&mut self) -> Result<Progress, JobError> {
        let (own, step) = (&mut self.own, self.step);
        self.ports.call(|env, files| step(env, files, own))
    }

    /// Calls until the run finishes or fails; also the waits it asked for.
    pub fn run(&mut self) -> (Result<RunReport, JobError>, Vec<Duration>) {
        let (own, step) = (&mut self.own, self.step);
        self.ports
            .call_until_done(|env, files| step(env, files, own))
    }

    /// The checkpoint the job keeps in its state between calls and runs, if any.
    pub fn checkpoint<C: Checkpoint>(&self) -> Option<C> {
        let bytes = self.ports.state.entries.get(C::KEY)?;
        Some(C::from_bytes(bytes).unwrap())
    }

    /// Cordial's jobs of `kind` (`ExportEvents`, `ImportContacts`), in the order started.
    pub fn cordial_jobs(&self, kind: &str) -> Vec<ModelJob> {
        let model = self.ports.model.borrow();
        model.jobs_of(kind).into_iter().cloned().collect()
    }

    /// Calls while Cordial's job stays `Processing` for three polls: each call polls once,
    /// says so naming `followed`, and asks to be called again after a growing wait, keeping
    /// its checkpoint `C` (whose following `each_call` also checks) and never sleeping. The
    /// fourth call finds the job done and finishes.
    pub fn assert_polled_once_per_call<C: Checkpoint>(
        &mut self,
        followed: &str,
        following: fn(&C) -> &Following,
        each_call: impl Fn(&Self, &Following),
    ) {
        self.ports.model.borrow_mut().polls_before_end = 3;
        let mut waits = Vec::new();
        for _ in 0..3 {
            match self.call().unwrap() {
                Progress::Waiting { after, reason } => {
                    assert!(reason.contains(followed), "{reason}");
                    assert!(reason.contains("Processing"), "{reason}");
                    waits.push(after);
                }
                finished => panic!("still following {followed}, yet {finished:?}"),
            }
            let checkpoint: C = self.checkpoint().expect("kept between calls");
            assert_eq!(following(&checkpoint).polls as usize, waits.len());
            each_call(self, following(&checkpoint));
            self.ports.clock.now += chrono::Duration::from_std(*waits.last().unwrap()).unwrap();
        }
        assert_eq!(waits, ms(&[100, 200, 400]));
        assert!(matches!(self.call().unwrap(), Progress::Finished(_)));
        assert!(self.ports.clock.slept.is_empty());
        let requests = &self.ports.cordial.requests;
        let polls = requests
            .iter()
            .filter(|r| r.url.contains("/v2/jobs/"))
            .count();
        assert_eq!(polls, 4, "one poll per call");
    }

    /// Runs with Cordial's job never done: the run follows it, without sleeping, until the
    /// one-minute deadline, and fails for the next run to follow it up. The checkpoint `C`
    /// stays, following afresh.
    pub fn run_past_the_deadline<C: Checkpoint>(&mut self, following: fn(&C) -> &Following) -> C {
        self.ports.model.borrow_mut().polls_before_end = u32::MAX;
        let (result, waits) = self.run();
        let Err(JobError::Transient(message)) = result else {
            panic!("expected a transient error, got {result:?}");
        };
        assert!(message.contains("the next run follows it up"), "{message}");
        let waited: Duration = waits.iter().sum();
        assert!(
            waited > Duration::from_secs(50) && waited <= Duration::from_secs(60),
            "followed for {waited:?} of the one-minute deadline"
        );
        assert!(self.ports.clock.slept.is_empty());
        let checkpoint: C = self.checkpoint().expect("the checkpoint stays");
        assert_eq!(
            following(&checkpoint),
            &Following::default(),
            "the next run follows afresh"
        );
        checkpoint
    }

    /// The run after [`Sequence::run_past_the_deadline`]: it follows the same job of
    /// Cordial's with a deadline of its own, and finishes once that job is done.
    pub fn run_once_cordial_is_done(&mut self) -> RunReport {
        assert!(matches!(self.call().unwrap(), Progress::Waiting { .. }));
        self.ports.model.borrow_mut().jobs[0].polls_left = 0;
        self.run().0.unwrap()
    }

    /// Runs with Cordial's next `limited` answers a 429 with `Retry-After: 7`: each is waited
    /// out by sleeping for it (it is Cordial's wait, not a poll's), and the run finishes.
    pub fn run_rate_limited(&mut self, limited: u32) -> RunReport {
        self.ports.model.borrow_mut().rate_limited = limited;
        let (report, waits) = self.run();
        assert_eq!(
            self.ports.clock.slept,
            vec![Duration::from_secs(7); limited as usize]
        );
        assert!(waits.is_empty());
        report.unwrap()
    }
}

/// Runs a fresh `world()` to its end, then again and again dying at each of its effects in
/// turn (at least `min_effects`): each run that died fails its call, and once alive again
/// resumes to the same report and the same `end_state` as the run that never died.
pub fn assert_resumes_after_dying_at_any_effect<P, S: PartialEq + Debug>(
    world: impl Fn() -> Sequence<P>,
    min_effects: u64,
    end_state: impl Fn(&Sequence<P>) -> S,
) {
    let mut reference = world();
    let report = reference.run().0.unwrap();
    let effects = reference.ports.crash.effects();
    assert!(effects >= min_effects, "only {effects} effects");
    for n in 1..=effects {
        let mut w = world();
        w.ports.crash.arm(n);
        let (first, _) = w.run();
        assert!(w.ports.crash.crashed(), "effect {n} is reached");
        assert!(
            first.is_err(),
            "dying at effect {n} fails the call: {first:?}"
        );
        w.ports.crash.disarm();
        let again = w.run().0;
        assert_eq!(
            again.as_ref(),
            Ok(&report),
            "resumed after dying at effect {n}"
        );
        assert_eq!(
            end_state(&w),
            end_state(&reference),
            "after dying at effect {n}"
        );
    }
}
