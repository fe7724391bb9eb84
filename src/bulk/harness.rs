//! The ports of a scheduled run in memory, shared by calls as a host shares them, for the
//! tests of the scheduled sequences: one [`Crash`] for every port, and calls repeated over
//! [`Progress::Waiting`] as the host repeats them (moving the clock, never sleeping on it).

use super::fake_cordial::{Cordial, Model, SharedModel, cordial};
use crate::job::{JobError, Progress, RunContext, RunReport};
use crate::ports::Env;
use crate::ports::fakes::{
    Crash, FakeClock, MemoryConfig, MemoryFiles, MemoryKeyValue, RecordingLog,
};
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
