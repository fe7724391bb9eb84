//! The Import Activity sequence over in-memory ports and a fake Cordial whose export job
//! runs as each test says.

use super::run;
use crate::activity::export::{CURSOR_KEY, EXPORT_KEY, WindowExport};
use crate::bulk::fake_cordial::{Ending, ModelJob};
use crate::bulk::harness::Ports;
use crate::cordial::jobs::PASSWORD_PLACEHOLDER;
use crate::job::{JobError, Progress, RunReport};
use crate::ports::fakes::MemoryStreams;
use crate::ports::{
    Download, EmitSummary, FileEntry, FileError, Files, PortError, Quarantined, Remote,
    StreamRecord, Streams, Upload,
};
use crate::scheduled::Following;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::time::Duration;

/// The export's name for the first window of the job `activity job` started at the
/// harness's clock, with `import_since` 2026-11-20.
const FIRST_EXPORT: &str = "activity-job-20261120000000-20261122130000";
const STREAM: &str = "cordial_activity";

fn record(i: u32) -> String {
    json!({
        "_id": format!("e{i}"),
        "cID": format!("c{}", i % 7),
        "action": "open",
        "time": "2026-11-21T10:00:00+0000",
        "first": i.is_multiple_of(2),
        "message_name": "welcome",
    })
    .to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Two files: 2,500 gzipped JSON lines with a broken line and a record without `_id` at
/// lines 1001 and 1002, then a JSON array of three records.
fn export_files() -> Vec<(String, Vec<u8>)> {
    let mut lines: Vec<String> = (1..=1000).map(record).collect();
    lines.push("{broken".into());
    lines.push(json!({"cID": "c9", "action": "open"}).to_string());
    lines.extend((1001..=2500).map(record));
    let array = format!(
        "[{}]",
        (2501..=2503).map(record).collect::<Vec<_>>().join(",\n")
    );
    vec![
        ("-1.json.gz".into(), gzip(lines.join("\n").as_bytes())),
        ("-2.json".into(), array.into_bytes()),
    ]
}

/// Streams that also note the size of every batch emitted.
#[derive(Default)]
struct NotedStreams {
    streams: MemoryStreams,
    batches: Vec<usize>,
}

impl Streams for NotedStreams {
    fn emit(&mut self, stream: &str, records: &[StreamRecord]) -> Result<EmitSummary, PortError> {
        self.batches.push(records.len());
        self.streams.emit(stream, records)
    }

    fn quarantine(&mut self, stream: &str, entries: &[Quarantined]) -> Result<(), PortError> {
        self.streams.quarantine(stream, entries)
    }
}

struct World {
    ports: Ports,
    streams: NotedStreams,
}

impl World {
    fn new(settings: Value) -> World {
        let ports = Ports::new("activity job", settings);
        ports.model.borrow_mut().export_files = export_files();
        let streams = NotedStreams {
            streams: MemoryStreams {
                crash: ports.crash.clone(),
                ..MemoryStreams::default()
            },
            batches: Vec::new(),
        };
        World { ports, streams }
    }

    fn since_20th() -> World {
        World::new(json!({"import_since": "2026-11-20", "export_deadline_minutes": 1}))
    }

    fn call(&mut self) -> Result<Progress, JobError> {
        let streams = &mut self.streams;
        self.ports.call(|env, files| run(env, files, streams))
    }

    /// Calls until the run finishes or fails; also the waits it asked for.
    fn run(&mut self) -> (Result<RunReport, JobError>, Vec<Duration>) {
        let streams = &mut self.streams;
        self.ports
            .call_until_done(|env, files| run(env, files, streams))
    }

    fn cursor(&self) -> Option<String> {
        let bytes = self.ports.state.entries.get(CURSOR_KEY)?;
        Some(String::from_utf8(bytes.clone()).unwrap())
    }

    fn window(&self) -> Option<WindowExport> {
        let bytes = self.ports.state.entries.get(EXPORT_KEY)?;
        Some(WindowExport::from_bytes(bytes).unwrap())
    }

    fn exports(&self) -> Vec<ModelJob> {
        let model = self.ports.model.borrow();
        model.jobs_of("ExportEvents").into_iter().cloned().collect()
    }

    fn records(&self) -> &[StreamRecord] {
        self.streams
            .streams
            .records
            .get(STREAM)
            .map_or(&[], Vec::as_slice)
    }

    fn quarantined(&self) -> BTreeSet<(String, u64, String)> {
        self.streams
            .streams
            .quarantined
            .get(STREAM)
            .into_iter()
            .flatten()
            .map(|q| (q.file.clone(), q.line, q.reason.clone()))
            .collect()
    }

    /// What a run leaves behind, to compare runs: the stream as its length and a digest
    /// (so a failed comparison stays readable), the quarantine, the exports Cordial was
    /// asked for, the job's state and the folder.
    fn end_state(&self) -> impl PartialEq + std::fmt::Debug {
        let mut digest = std::collections::hash_map::DefaultHasher::new();
        for record in self.records() {
            (&record.key, &record.body).hash(&mut digest);
        }
        (
            (self.records().len(), digest.finish()),
            self.quarantined(),
            self.exports()
                .iter()
                .map(|j| j.body.clone())
                .collect::<Vec<_>>(),
            self.ports.state.entries.clone(),
            self.ports.files.names(),
        )
    }
}

fn ms(waits: &[u64]) -> Vec<Duration> {
    waits.iter().map(|&m| Duration::from_millis(m)).collect()
}

#[test]
fn a_window_is_exported_streamed_and_closed() {
    let mut w = World::since_20th();
    w.ports.model.borrow_mut().polls_before_end = 2;
    let (report, waits) = w.run();
    let report = report.unwrap();
    assert_eq!(
        report,
        RunReport {
            records_read: 2505,
            records_written: 2503,
            records_rejected: 2,
            summary: "imported 2503 record(s) of 2026-11-20T00:00:00Z → 2026-11-22T13:00:00Z \
                      from 2 file(s); 2 malformed record(s) quarantined (see `cordial-host \
                      quarantine`); cursor at 2026-11-22T13:00:00Z"
                .to_owned(),
        }
    );
    assert_eq!(waits, ms(&[100, 200]), "one poll per call, backing off");
    assert!(w.ports.clock.slept.is_empty(), "{:?}", w.ports.clock.slept);

    let exports = w.exports();
    assert_eq!(exports.len(), 1);
    let body = &exports[0].body;
    assert_eq!(body["name"], FIRST_EXPORT);
    assert_eq!(body["selected_timeframe_start"], "2026-11-20T00:00:00Z");
    assert_eq!(body["selected_timeframe_end"], "2026-11-22T13:00:00Z");
    assert_eq!(body["destination"]["path"], "/upload");
    assert_eq!(body["destination"]["server"], "sftp.test");
    assert_eq!(body["destination"]["password"], PASSWORD_PLACEHOLDER);

    let keys: Vec<String> = w.records().iter().map(|r| r.key.clone().unwrap()).collect();
    let expected: Vec<String> = (1..=2503).map(|i| format!("e{i}")).collect();
    assert_eq!(keys, expected, "every record once, in file order");
    let first: Value = serde_json::from_str(&w.records()[0].body).unwrap();
    assert_eq!(first["cr_system_event_id"], "e1");
    assert_eq!(first["cr_event_timestamp"], "2026-11-21T10:00:00Z");
    assert_eq!(first["cr_first"], false);
    assert_eq!(
        w.streams.batches,
        [2000, 500, 3],
        "batches of at most 2,000"
    );

    let gz = format!("{FIRST_EXPORT}-1.json.gz");
    let quarantined: Vec<(String, u64)> = w
        .quarantined()
        .into_iter()
        .map(|(f, l, _)| (f, l))
        .collect();
    assert_eq!(quarantined, [(gz.clone(), 1001), (gz, 1002)]);
    assert!(
        w.quarantined()
            .iter()
            .any(|(_, _, why)| why.contains("`_id`"))
    );

    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T13:00:00Z"));
    assert_eq!(w.window(), None, "the window is closed");
    assert!(w.ports.files.names().is_empty(), "the files are removed");
}

#[test]
fn the_next_window_reaches_back_by_the_overlap_and_stores_nothing_twice() {
    let mut w = World::since_20th();
    w.run().0.unwrap();
    w.ports.clock.now += chrono::Duration::hours(1);
    let report = w.run().0.unwrap();
    let exports = w.exports();
    assert_eq!(exports.len(), 2);
    assert_eq!(
        exports[1].body["selected_timeframe_start"], "2026-11-22T12:00:00Z",
        "the cursor minus the default hour of overlap"
    );
    assert_eq!(
        exports[1].body["selected_timeframe_end"],
        "2026-11-22T14:00:00Z"
    );
    assert_eq!(
        w.records().len(),
        2503,
        "the same records again are skipped"
    );
    assert_eq!(
        report.records_written, 2503,
        "found already stored counts as stored"
    );
    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T14:00:00Z"));
}

#[test]
fn kept_files_stay_in_the_folder() {
    let mut w = World::new(json!({"import_since": "2026-11-20", "keep_files": true}));
    w.run().0.unwrap();
    assert_eq!(
        w.ports.files.names(),
        [
            format!("{FIRST_EXPORT}-1.json.gz"),
            format!("{FIRST_EXPORT}-2.json")
        ]
    );
}

#[test]
fn a_processing_export_is_polled_once_per_call_without_sleeping() {
    let mut w = World::since_20th();
    w.ports.model.borrow_mut().polls_before_end = 3;
    let mut waits = Vec::new();
    for _ in 0..3 {
        match w.call().unwrap() {
            Progress::Waiting { after, reason } => {
                assert!(reason.contains(FIRST_EXPORT), "{reason}");
                assert!(reason.contains("Processing"), "{reason}");
                waits.push(after);
            }
            finished => panic!("still exporting, yet {finished:?}"),
        }
        let window = w.window().expect("the window is kept between calls");
        assert_eq!(window.following.polls as usize, waits.len());
        assert_eq!(
            window.following.since.as_deref(),
            Some("2026-11-22T13:00:00.000Z")
        );
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
    assert_eq!(w.exports().len(), 1);
}

#[test]
fn an_export_still_running_at_the_deadline_is_left_to_the_next_run() {
    let mut w = World::since_20th();
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
    let window = w.window().expect("the window stays");
    assert_eq!(window.job_id.as_deref(), Some("job-1"));
    assert_eq!(
        window.following,
        Following::default(),
        "the next run follows afresh"
    );
    assert_eq!(w.cursor(), None);

    // The next run follows the same export up, with a deadline of its own.
    assert!(matches!(w.call().unwrap(), Progress::Waiting { .. }));
    w.ports.model.borrow_mut().jobs[0].polls_left = 0;
    w.run().0.unwrap();
    assert_eq!(w.exports().len(), 1, "the export is asked for once");
    assert_eq!(w.records().len(), 2503);
    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T13:00:00Z"));
}

#[test]
fn a_failed_export_drops_the_window_and_keeps_the_cursor() {
    let mut w = World::since_20th();
    w.ports
        .state
        .entries
        .insert(CURSOR_KEY.into(), b"2026-11-22T12:00:00Z".to_vec());
    w.ports.model.borrow_mut().ending =
        Ending::Failed("Can't login to the server (sftp.test)".into());
    let Err(JobError::Permanent(message)) = w.run().0 else {
        panic!("a failed export is permanent");
    };
    assert!(message.contains("Can't login to the server"), "{message}");
    assert!(
        message.contains("the cursor stays at 2026-11-22T11:00:00Z"),
        "{message}"
    );
    assert_eq!(w.window(), None, "the next run asks again");
    assert_eq!(w.cursor().as_deref(), Some("2026-11-22T12:00:00Z"));
    assert!(w.records().is_empty());

    w.ports.model.borrow_mut().ending = Ending::Done;
    w.run().0.unwrap();
    let exports = w.exports();
    assert_eq!(exports.len(), 2);
    assert_eq!(
        exports[0].body, exports[1].body,
        "the same window asked for again"
    );
}

#[test]
fn a_broken_gzip_file_fails_the_run_and_keeps_the_cursor() {
    let mut w = World::since_20th();
    let mut garbage = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    garbage.extend_from_slice(&[0xff; 64]);
    let good = (1..=3).map(record).collect::<Vec<_>>().join("\n");
    w.ports.model.borrow_mut().export_files = vec![
        ("-1.json".into(), good.into_bytes()),
        ("-2.json.gz".into(), garbage),
    ];
    let Err(JobError::Permanent(message)) = w.run().0 else {
        panic!("a broken file is permanent");
    };
    assert!(
        message.contains(&format!("{FIRST_EXPORT}-2.json.gz cannot be read")),
        "{message}"
    );
    assert!(message.contains("the cursor stays put"), "{message}");
    assert_eq!(w.cursor(), None);
    let window = w
        .window()
        .expect("the window stays for a run after the file is fixed");
    assert_eq!(window.imported, [format!("{FIRST_EXPORT}-1.json")]);
    assert_eq!(window.records, 3);
    assert_eq!(w.records().len(), 3, "the good file's records are stored");
}

/// A folder whose downloads lose the connection after their first chunk.
struct DroppingReads<'f>(&'f mut dyn Files);

struct Dropping<'d> {
    download: Box<dyn Download + 'd>,
    served: bool,
}

impl Download for Dropping<'_> {
    fn read(&mut self, max: usize) -> Result<Vec<u8>, FileError> {
        if self.served {
            return Err(FileError::Connection("reset by peer".into()));
        }
        self.served = true;
        self.download.read(max)
    }
}

impl Files for DroppingReads<'_> {
    fn describe(&mut self) -> Result<Remote, FileError> {
        self.0.describe()
    }
    fn create(&mut self, path: &str) -> Result<Box<dyn Upload + '_>, FileError> {
        self.0.create(path)
    }
    fn open(&mut self, path: &str) -> Result<Box<dyn Download + '_>, FileError> {
        Ok(Box::new(Dropping {
            download: self.0.open(path)?,
            served: false,
        }))
    }
    fn list_dir(&mut self, dir: &str) -> Result<Vec<FileEntry>, FileError> {
        self.0.list_dir(dir)
    }
    fn remove(&mut self, path: &str) -> Result<(), FileError> {
        self.0.remove(path)
    }
}

#[test]
fn a_connection_lost_while_reading_is_transient_and_the_file_is_read_again() {
    let mut w = World::since_20th();
    let streams = &mut w.streams;
    let (result, _) = w
        .ports
        .call_until_done(|env, files| run(env, &mut DroppingReads(files), streams));
    let Err(JobError::Transient(message)) = result else {
        panic!("a lost connection is transient, got {result:?}");
    };
    assert!(message.contains("reset by peer"), "{message}");
    assert!(w.window().is_some());
    assert_eq!(w.cursor(), None);
    w.run().0.unwrap();
    assert_eq!(w.records().len(), 2503);
    assert_eq!(w.exports().len(), 1);
}

#[test]
fn rate_limits_are_waited_out_for_their_retry_after() {
    let mut w = World::since_20th();
    w.ports.model.borrow_mut().rate_limited = 2;
    let (report, waits) = w.run();
    assert_eq!(report.unwrap().records_written, 2503);
    assert_eq!(w.ports.clock.slept, [Duration::from_secs(7); 2]);
    assert!(waits.is_empty());
    assert_eq!(w.exports().len(), 1);
}

#[test]
fn a_run_that_dies_at_any_effect_resumes_to_the_same_end() {
    let reference_world = || {
        let w = World::since_20th();
        w.ports.model.borrow_mut().polls_before_end = 2;
        w
    };
    let mut reference = reference_world();
    let report = reference.run().0.unwrap();
    let effects = reference.ports.crash.effects();
    assert!(effects >= 15, "only {effects} effects");
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
        assert_eq!(w.exports().len(), 1, "one export after dying at effect {n}");
        assert_eq!(
            w.end_state(),
            reference.end_state(),
            "after dying at effect {n}"
        );
    }
}
