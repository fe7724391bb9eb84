//! The bulk export sequence over in-memory ports and a fake Cordial whose import jobs run
//! as each test says.

use super::run;
use crate::bulk::batch::Batch;
use crate::bulk::fake_cordial::{Ending, ModelJob};
use crate::bulk::harness::{Ports, Sequence, assert_resumes_after_dying_at_any_effect, ms};
use crate::cordial::jobs::PASSWORD_PLACEHOLDER;
use crate::job::{JobError, RunReport};
use crate::ports::Member;
use crate::ports::fakes::MemoryMembers;
use crate::scheduled::Following;
use serde_json::json;
use std::hash::{Hash, Hasher};

const BATCH_ID: &str = "20261122T130000Z-1000nu";
const HEADER: &str = "channels.email.address,fname,score,Lytics_vip";

fn file(n: u32) -> String {
    format!("bulk_vip-{BATCH_ID}-{n:04}.csv")
}

type World = Sequence<MemoryMembers>;

impl World {
    /// `count` usable members (every tenth one left the audience), then one without an
    /// email.
    fn with(count: u64) -> World {
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
        let waiting = (1..=count)
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
        let members = MemoryMembers {
            waiting,
            crash: ports.crash.clone(),
        };
        Sequence::new(ports, members, |env, files, members| {
            run(env, files, members)
        })
    }

    fn batch(&self) -> Option<Batch> {
        self.checkpoint()
    }

    fn imports(&self) -> Vec<ModelJob> {
        self.cordial_jobs("ImportContacts")
    }

    fn import_names(&self) -> Vec<String> {
        self.imports().into_iter().map(|j| j.name).collect()
    }

    /// What a run leaves behind, to compare runs: the members still pending, each import
    /// (its request, and the file Cordial read as its length and a digest, so a failed
    /// comparison stays readable), the lists, the job's state and the folder.
    fn end_state(&self) -> impl PartialEq + std::fmt::Debug + use<> {
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
            self.own.waiting.clone(),
            imports,
            self.ports.model.borrow().lists.clone(),
            self.ports.state.entries.clone(),
            self.ports.files.names(),
        )
    }
}

#[test]
fn pending_members_are_written_imported_and_acknowledged() {
    let mut w = World::with(30_005);
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
    assert!(w.own.waiting.is_empty(), "every member is acknowledged");
    assert!(w.ports.files.names().is_empty(), "the files are removed");
    assert_eq!(w.batch(), None, "the batch is closed");
}

#[test]
fn files_the_runtime_serves_are_imported_from_their_https_address() {
    let served = "https://jobs.test/files/bulk/7f3a";
    let mut w = World::with(3);
    w.ports.files.files_url = Some(served.into());
    w.ports.model.borrow_mut().root = served.into();
    let report = w.run().0.unwrap();
    assert_eq!(report.records_written, 3);
    let imports = w.imports();
    assert_eq!(imports.len(), 1);
    assert_eq!(
        imports[0].body["source"],
        json!({"transport": "https", "url": format!("{served}/{}", file(1))}),
        "no server, path or password: the address is the capability"
    );
    assert_eq!(imports[0].imported_lines.as_ref().unwrap().len(), 4);
    assert!(w.own.waiting.is_empty());
}

#[test]
fn nothing_pending_is_nothing_to_do() {
    let mut w = World::with(0);
    w.own.waiting.clear();
    let report = w.run().0.unwrap();
    assert_eq!(report.summary, "no pending members; nothing to export");
    assert_eq!(report.records_read, 0);
    assert!(w.ports.cordial.requests.is_empty());
    assert!(w.ports.state.entries.is_empty());
}

#[test]
fn running_imports_are_polled_once_per_call_without_sleeping() {
    let mut w = World::with(5);
    w.assert_polled_once_per_call(&file(1), following, |w, _| {
        assert_eq!(w.own.waiting.len(), 6, "nobody acknowledged yet");
    });
    assert_eq!(w.imports().len(), 1);
    assert!(w.own.waiting.is_empty());
}

#[test]
fn imports_still_running_at_the_deadline_are_left_to_the_next_run() {
    let mut w = World::with(5);
    let batch = w.run_past_the_deadline(following);
    assert_eq!(batch.files[0].job_id.as_deref(), Some("job-1"));
    assert_eq!(w.own.waiting.len(), 6);

    w.run_once_cordial_is_done();
    assert_eq!(w.imports().len(), 1, "the file is registered once");
    assert!(w.own.waiting.is_empty());
}

#[test]
fn a_failed_import_keeps_the_members_pending_for_a_new_batch() {
    let mut w = World::with(5);
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
    assert_eq!(w.own.waiting.len(), 6, "nobody acknowledged");
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
    assert!(w.own.waiting.is_empty());
}

#[test]
fn rate_limits_are_waited_out_for_their_retry_after() {
    let mut w = World::with(5);
    assert_eq!(w.run_rate_limited(3).records_written, 5);
    assert_eq!(w.imports().len(), 1);
}

/// A run whose first `failures` uploads lose the connection at their first write.
fn run_with_flaky_uploads(w: &mut World, failures: u32) -> Result<RunReport, JobError> {
    w.ports.files.failing_uploads = failures;
    w.run().0
}

#[test]
fn a_file_whose_connection_drops_is_written_again_once() {
    let mut w = World::with(5);
    run_with_flaky_uploads(&mut w, 1).unwrap();
    assert!(w.ports.log.contains("broken pipe; writing the file again"));
    let lines = w.imports()[0].imported_lines.clone().unwrap();
    assert_eq!(lines.len(), 6, "one header, five rows: {lines:?}");
    assert!(w.own.waiting.is_empty());

    let mut w = World::with(5);
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
        let w = World::with(30_005);
        w.ports.model.borrow_mut().polls_before_end = 1;
        w
    };
    // The end state holds each import, so each file is registered once after each death.
    assert_resumes_after_dying_at_any_effect(reference_world, 25, World::end_state);
}

/// The batch's following of Cordial's imports.
fn following(batch: &Batch) -> &Following {
    &batch.following
}
