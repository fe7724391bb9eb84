//! The bulk export sequence over in-memory ports and a fake Cordial whose import jobs run
//! as each test says.

use super::run;
use crate::bulk::batch::{Batch, STATE_KEY};
use crate::bulk::fake_cordial::{Ending, ModelJob};
use crate::bulk::harness::Ports;
use crate::cordial::jobs::PASSWORD_PLACEHOLDER;
use crate::job::{JobError, Progress, RunReport};
use crate::ports::fakes::MemoryMembers;
use crate::ports::{Download, FileEntry, FileError, Files, Member, Remote, Upload};
use crate::scheduled::Following;
use serde_json::json;
use std::hash::{Hash, Hasher};
use std::time::Duration;

const BATCH_ID: &str = "20261122T130000Z-1000nu";
const HEADER: &str = "channels.email.address,fname,score,Lytics_vip";

fn file(n: u32) -> String {
    format!("bulk_vip-{BATCH_ID}-{n:04}.csv")
}

struct World {
    ports: Ports,
    members: MemoryMembers,
}

impl World {
    /// `count` usable members (every tenth one left the audience), then one without an
    /// email.
    fn new(count: u64) -> World {
        let ports = Ports::new(
            "bulk vip",
            json!({
                "audience": "vip",
                "field_mapping": {"first_name": "fname", "score": "score"},
                "import_deadline_minutes": 1,
            }),
        );
        ports.model.borrow_mut().attributes = json!([
            {"key": "score", "type": "number"},
            {"key": "fname", "type": "string"},
        ]);
        let mut members = MemoryMembers::default();
        members.crash = ports.crash.clone();
        members.waiting = (1..=count)
            .map(|i| Member {
                seq: i,
                entered: !i.is_multiple_of(10),
                user: format!(r#"{{"email":"m{i}@x.io","first_name":"F{i}","score":{i}}}"#),
            })
            .chain([Member {
                seq: count + 1,
                entered: true,
                user: json!({"first_name": "nobody"}).to_string(),
            }])
            .collect();
        World { ports, members }
    }

    fn call(&mut self) -> Result<Progress, JobError> {
        let members = &mut self.members;
        self.ports.call(|env, files| run(env, files, members))
    }

    /// Calls until the run finishes or fails; also the waits it asked for.
    fn run(&mut self) -> (Result<RunReport, JobError>, Vec<Duration>) {
        let members = &mut self.members;
        self.ports
            .call_until_done(|env, files| run(env, files, members))
    }

    fn batch(&self) -> Option<Batch> {
        let bytes = self.ports.state.entries.get(STATE_KEY)?;
        Some(Batch::from_bytes(bytes).unwrap())
    }

    fn imports(&self) -> Vec<ModelJob> {
        let model = self.ports.model.borrow();
        model
            .jobs_of("ImportContacts")
            .into_iter()
            .cloned()
            .collect()
    }

    fn import_names(&self) -> Vec<String> {
        self.imports().into_iter().map(|j| j.name).collect()
    }

    /// What a run leaves behind, to compare runs: the members still pending, each import
    /// (its request, and the file Cordial read as its length and a digest, so a failed
    /// comparison stays readable), the lists, the job's state and the folder.
    fn end_state(&self) -> impl PartialEq + std::fmt::Debug {
        let imports: Vec<_> = self
            .imports()
            .into_iter()
            .map(|j| {
                let lines = j.imported_lines.unwrap_or_default();
                let mut digest = std::collections::hash_map::DefaultHasher::new();
                lines.hash(&mut digest);
                (j.name, j.body, lines.len(), digest.finish())
            })
            .collect();
        (
            self.members.waiting.clone(),
            imports,
            self.ports.model.borrow().lists.clone(),
            self.ports.state.entries.clone(),
            self.ports.files.names(),
        )
    }
}

fn ms(waits: &[u64]) -> Vec<Duration> {
    waits.iter().map(|&m| Duration::from_millis(m)).collect()
}

#[test]
fn pending_members_are_written_imported_and_acknowledged() {
    let mut w = World::new(30_005);
    w.ports.model.borrow_mut().polls_before_end = 2;
    let (report, waits) = w.run();
    assert_eq!(
        report.unwrap(),
        RunReport {
            records_read: 30_006,
            records_written: 30_005,
            records_rejected: 1,
            summary: format!(
                "exported 30005 member(s) in 2 file(s) (batch {BATCH_ID}); 1 skipped as unusable"
            ),
        }
    );
    assert_eq!(
        waits,
        ms(&[100, 200]),
        "one poll round per call, backing off"
    );
    assert!(w.ports.clock.slept.is_empty(), "{:?}", w.ports.clock.slept);

    let imports = w.imports();
    assert_eq!(
        w.import_names(),
        [file(1), file(2)].map(|f| f.replace(".csv", ""))
    );
    for (import, n) in imports.iter().zip(1..) {
        let source = &import.body["source"];
        assert_eq!(source["path"], format!("/upload/{}", file(n)));
        assert_eq!(source["server"], "sftp.test");
        assert_eq!(source["password"], PASSWORD_PLACEHOLDER);
    }
    let first = imports[0].imported_lines.as_ref().unwrap();
    assert_eq!(first.len(), 30_001, "a header and 30,000 rows");
    assert_eq!(first[0], HEADER);
    assert_eq!(first[1], "m1@x.io,F1,1,1");
    assert_eq!(first[10], "m10@x.io,F10,10,0", "a member who left");
    let second = imports[1].imported_lines.as_ref().unwrap();
    assert_eq!(second[0], HEADER);
    assert_eq!(second[1..].len(), 5);
    assert_eq!(second[5], "m30005@x.io,F30005,30005,1");
    assert!(w.ports.log.contains("member #30006 skipped"));

    assert_eq!(w.ports.model.borrow().lists, ["Lytics_vip"]);
    assert!(w.members.waiting.is_empty(), "every member is acknowledged");
    assert!(w.ports.files.names().is_empty(), "the files are removed");
    assert_eq!(w.batch(), None, "the batch is closed");
}

#[test]
fn nothing_pending_is_nothing_to_do() {
    let mut w = World::new(0);
    w.members.waiting.clear();
    let report = w.run().0.unwrap();
    assert_eq!(report.summary, "no pending members; nothing to export");
    assert_eq!(report.records_read, 0);
    assert!(w.ports.cordial.requests.is_empty());
    assert!(w.ports.state.entries.is_empty());
}

#[test]
fn running_imports_are_polled_once_per_call_without_sleeping() {
    let mut w = World::new(5);
    w.ports.model.borrow_mut().polls_before_end = 3;
    let mut waits = Vec::new();
    for _ in 0..3 {
        match w.call().unwrap() {
            Progress::Waiting { after, reason } => {
                assert!(reason.contains(&file(1)), "{reason}");
                assert!(reason.contains("Processing"), "{reason}");
                waits.push(after);
            }
            finished => panic!("still importing, yet {finished:?}"),
        }
        let batch = w.batch().expect("the batch is kept between calls");
        assert_eq!(batch.following.polls as usize, waits.len());
        assert_eq!(w.members.waiting.len(), 6, "nobody acknowledged yet");
        w.ports.clock.now += chrono::Duration::from_std(*waits.last().unwrap()).unwrap();
    }
    assert_eq!(waits, ms(&[100, 200, 400]));
    assert!(matches!(w.call().unwrap(), Progress::Finished(_)));
    assert!(w.ports.clock.slept.is_empty());
    let requests = &w.ports.cordial.requests;
    let polls = requests
        .iter()
        .filter(|r| r.url.contains("/v2/jobs/"))
        .count();
    assert_eq!(polls, 4, "one poll per call");
    assert_eq!(w.imports().len(), 1);
    assert!(w.members.waiting.is_empty());
}

#[test]
fn imports_still_running_at_the_deadline_are_left_to_the_next_run() {
    let mut w = World::new(5);
    w.ports.model.borrow_mut().polls_before_end = u32::MAX;
    let (result, waits) = w.run();
    let Err(JobError::Transient(message)) = result else {
        panic!("expected a transient error, got {result:?}");
    };
    assert!(message.contains("the next run follows it up"), "{message}");
    let waited: Duration = waits.iter().sum();
    assert!(
        waited > Duration::from_secs(50) && waited <= Duration::from_secs(60),
        "followed for {waited:?} of the one-minute deadline"
    );
    assert!(w.ports.clock.slept.is_empty());
    let batch = w.batch().expect("the batch stays");
    assert_eq!(batch.files[0].job_id.as_deref(), Some("job-1"));
    assert_eq!(
        batch.following,
        Following::default(),
        "the next run follows afresh"
    );
    assert_eq!(w.members.waiting.len(), 6);

    assert!(matches!(w.call().unwrap(), Progress::Waiting { .. }));
    w.ports.model.borrow_mut().jobs[0].polls_left = 0;
    w.run().0.unwrap();
    assert_eq!(w.imports().len(), 1, "the file is registered once");
    assert!(w.members.waiting.is_empty());
}

#[test]
fn a_failed_import_keeps_the_members_pending_for_a_new_batch() {
    let mut w = World::new(5);
    w.ports.model.borrow_mut().ending =
        Ending::Failed("Can't login to the server (sftp.test)".into());
    let Err(JobError::Permanent(message)) = w.run().0 else {
        panic!("a failed import is permanent");
    };
    assert!(
        message.contains("could not import 1 of 1 file(s)"),
        "{message}"
    );
    assert!(message.contains("the members stay pending"), "{message}");
    assert!(message.contains("Can't login to the server"), "{message}");
    assert_eq!(w.members.waiting.len(), 6, "nobody acknowledged");
    assert_eq!(w.batch(), None, "the next run starts a new batch");

    w.ports.model.borrow_mut().ending = Ending::Done;
    w.ports.clock.now += chrono::Duration::hours(1);
    w.ports.ctx.run_id = "run-0002".into();
    let report = w.run().0.unwrap();
    assert_eq!(report.records_written, 5);
    assert_eq!(
        w.imports().len(),
        2,
        "the members exported again, in a new file"
    );
    assert!(w.members.waiting.is_empty());
}

#[test]
fn rate_limits_are_waited_out_for_their_retry_after() {
    let mut w = World::new(5);
    w.ports.model.borrow_mut().rate_limited = 3;
    let (report, waits) = w.run();
    assert_eq!(report.unwrap().records_written, 5);
    assert_eq!(w.ports.clock.slept, [Duration::from_secs(7); 3]);
    assert!(waits.is_empty());
    assert_eq!(w.imports().len(), 1);
}

/// A folder whose first `failures` uploads lose the connection at their first write.
struct FlakyUploads<'f> {
    files: &'f mut dyn Files,
    failures: u32,
}

struct Flaky<'u> {
    upload: Box<dyn Upload + 'u>,
    fail: bool,
}

impl Upload for Flaky<'_> {
    fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        if self.fail {
            return Err(FileError::Connection("broken pipe".into()));
        }
        self.upload.write(chunk)
    }

    fn finish(self: Box<Self>) -> Result<(), FileError> {
        self.upload.finish()
    }
}

impl Files for FlakyUploads<'_> {
    fn describe(&mut self) -> Result<Remote, FileError> {
        self.files.describe()
    }
    fn create(&mut self, path: &str) -> Result<Box<dyn Upload + '_>, FileError> {
        let fail = self.failures > 0;
        self.failures = self.failures.saturating_sub(1);
        Ok(Box::new(Flaky {
            upload: self.files.create(path)?,
            fail,
        }))
    }
    fn open(&mut self, path: &str) -> Result<Box<dyn Download + '_>, FileError> {
        self.files.open(path)
    }
    fn list_dir(&mut self, dir: &str) -> Result<Vec<FileEntry>, FileError> {
        self.files.list_dir(dir)
    }
    fn remove(&mut self, path: &str) -> Result<(), FileError> {
        self.files.remove(path)
    }
}

fn run_with_flaky_uploads(w: &mut World, failures: u32) -> Result<RunReport, JobError> {
    let members = &mut w.members;
    w.ports
        .call_until_done(|env, files| {
            let mut flaky = FlakyUploads { files, failures };
            run(env, &mut flaky, members)
        })
        .0
}

#[test]
fn a_file_whose_connection_drops_is_written_again_once() {
    let mut w = World::new(5);
    run_with_flaky_uploads(&mut w, 1).unwrap();
    assert!(w.ports.log.contains("broken pipe; writing the file again"));
    let lines = w.imports()[0].imported_lines.clone().unwrap();
    assert_eq!(lines.len(), 6, "one header, five rows: {lines:?}");
    assert!(w.members.waiting.is_empty());

    let mut w = World::new(5);
    let Err(JobError::Transient(message)) = run_with_flaky_uploads(&mut w, 2) else {
        panic!("a connection that drops twice fails the run, to be retried");
    };
    assert!(
        message.contains(&format!("SFTP writing {}", file(1))),
        "{message}"
    );
    assert!(w.batch().unwrap().files.is_empty());
    assert!(w.imports().is_empty());
}

#[test]
fn a_run_that_dies_at_any_effect_resumes_to_the_same_end() {
    let reference_world = || {
        let w = World::new(30_005);
        w.ports.model.borrow_mut().polls_before_end = 1;
        w
    };
    let mut reference = reference_world();
    let report = reference.run().0.unwrap();
    let effects = reference.ports.crash.effects();
    assert!(effects >= 25, "only {effects} effects");
    for n in 1..=effects {
        let mut w = reference_world();
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
            w.import_names(),
            reference.import_names(),
            "each file registered once after dying at effect {n}"
        );
        assert_eq!(
            w.end_state(),
            reference.end_state(),
            "after dying at effect {n}"
        );
    }
}
